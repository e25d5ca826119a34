"""Validated documents: the validation cache, and the query texts known to be valid.

Strawberry's ``ValidationCache`` is an ``lru_cache`` over ``validate_document(schema, document,
rules)``, so every lookup hashes the whole ``DocumentNode``: graphql-core nodes hash by walking the
tree, thousands of Python calls for a page query, on every request and before any upstream call
goes out.  ``ParserCache`` already hands out the *same* document
object for the same query text, so :class:`ValidatedDocuments` looks documents up by identity
instead.  An entry keeps its document alive, so an identity is never reused while it is cached; a
document parsed anew (the parse cache evicted it) is simply validated again.

It also remembers which query texts parsed and validated without errors, and their documents:
``GatewaySchema`` executes those directly (``schema.py``), without running parsing and validation
through Strawberry's extension machinery again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

__all__ = ["DocumentValidationCache", "ValidatedDocuments"]

Rules = tuple[type[ASTValidationRule], ...]


class ValidatedDocuments:
    """The validation errors of recently seen documents, and the documents of recently seen query
    texts that are valid (least recently used go first, ``maxsize`` of each)."""

    def __init__(self, maxsize: int = 128) -> None:
        self.maxsize = maxsize
        self._errors: OrderedDict[int, tuple[DocumentNode, Rules, list[GraphQLError]]] = OrderedDict()
        self._valid: OrderedDict[str, DocumentNode] = OrderedDict()

    def errors(
        self, schema: GraphQLSchema, document: DocumentNode, rules: Rules, query: str | None = None
    ) -> list[GraphQLError]:
        """The errors of validating ``document`` (parsed from ``query``) against ``rules``."""
        key = id(document)
        entry = self._errors.get(key)
        if entry is not None and entry[0] is document and entry[1] == rules:
            self._errors.move_to_end(key)
            errors = entry[2]
        else:
            errors = validate_document(schema, document, rules)
            _remember(self._errors, key, (document, rules, errors), self.maxsize)
        if query is not None and not errors:
            _remember(self._valid, query, document, self.maxsize)
        return errors

    def valid_document(self, query: str) -> DocumentNode | None:
        """The document of ``query`` if it parsed and validated without errors lately."""
        document = self._valid.get(query)
        if document is not None:
            self._valid.move_to_end(query)
        return document

    def __len__(self) -> int:
        return len(self._errors)


def _remember(entries: OrderedDict[Any, Any], key: object, value: object, maxsize: int) -> None:
    entries[key] = value
    entries.move_to_end(key)
    if len(entries) > maxsize:
        entries.popitem(last=False)


class DocumentValidationCache(SchemaExtension):
    """Validates through ``documents`` (one :class:`ValidatedDocuments` per schema: its schema and
    rules never change, so neither is looked at beyond the rules' equality)."""

    def __init__(self, documents: ValidatedDocuments) -> None:
        super().__init__()
        self.documents = documents

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None  # validation runs after a successful parse
        context.pre_execution_errors = self.documents.errors(
            context.schema._schema, context.graphql_document, tuple(context.validation_rules), context.query
        )
        yield
