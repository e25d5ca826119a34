"""The speed layer: cached parsing and validation per query text, and direct completion of plain objects.

Everything here is an optimisation with an exact fallback: ``Settings.speed_layer`` (``SPEED_LAYER``)
switches it off, and ``build_schema`` (``gateway/schema/schema.py``) then builds the schema with
Strawberry's own extensions and executor.  It also stays off, with a warning in the log, when the
installed graphql-core or Strawberry no longer have the shapes it reads (:func:`incompatibilities`).
Both ways every request goes through Strawberry's ``Schema.execute``, so every schema extension runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from graphql import ASTValidationRule
from strawberry.extensions import SchemaExtension

from .compat import incompatibilities
from .documents import CachedDocuments, DocumentCache
from .execution import PlainObjectExecutor

__all__ = [
    "CachedDocuments",
    "DocumentCache",
    "PlainObjectExecutor",
    "SpeedLayer",
    "incompatibilities",
    "speed_layer",
]

logger = logging.getLogger("gateway.schema")


@dataclass(frozen=True, slots=True)
class SpeedLayer:
    """What a schema takes to run with the speed layer: its extension factories and its executor."""

    extensions: list[Callable[[], SchemaExtension]]
    execution_context_class: type[PlainObjectExecutor]


def speed_layer(
    rules: Sequence[type[ASTValidationRule]], *, max_tokens: int, cache_size: int, caches: bool = True
) -> SpeedLayer | None:
    """The parts of one schema's speed layer (one document cache per schema), or None when the
    installed libraries do not fit it (the reasons are logged).  ``caches=False`` leaves the document
    cache out (benchmarks measure what it buys) and keeps only the limits."""
    problems = incompatibilities()
    if problems:
        logger.warning("speed layer off, the installed libraries changed: %s", "; ".join(problems))
        return None
    documents = DocumentCache(cache_size if caches else 0)
    return SpeedLayer([lambda: CachedDocuments(documents, rules, max_tokens)], PlainObjectExecutor)
