"""Parsed and validated documents, kept per query text: one schema extension does both steps.

Strawberry's stock pair (``ParserCache`` and ``ValidationCache``) keys validation by the whole
``DocumentNode``, and graphql-core nodes hash by walking their tree, so every lookup of a large query
costs thousands of Python calls before any resolver starts.  :class:`CachedDocuments` keys both steps
by the query text instead: a text's entry holds its document and, once validated, the rules it was
validated against and their errors.  It also folds what ``MaxTokensLimiter`` and ``AddValidationRules``
do into the same two hooks, because each extension Strawberry runs costs its per-request lifecycle
machinery whether or not it has work to do.

Every request still runs through Strawberry's ``Schema.execute`` and so every extension of the schema
(its operation, parse, validate and execute hooks, its field middleware): only the work of parsing
and validating a text seen before is skipped, never a hook.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

__all__ = ["CachedDocuments", "DocumentCache"]

Rules = tuple[type[ASTValidationRule], ...]


@dataclass(slots=True)
class _Entry:
    document: DocumentNode
    rules: Rules | None = None
    errors: list[GraphQLError] | None = None


class DocumentCache:
    """The documents of the last ``maxsize`` query texts parsed without errors (least recently used
    go first), each with its validation errors against the rules it was last validated with."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def document(self, query: str) -> DocumentNode | None:
        entry = self._entries.get(query)
        if entry is None:
            return None
        self._entries.move_to_end(query)
        return entry.document

    def remember(self, query: str, document: DocumentNode) -> None:
        self._entries[query] = _Entry(document)
        self._entries.move_to_end(query)
        if len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)

    def errors(
        self, schema: GraphQLSchema, query: str | None, document: DocumentNode, rules: Rules
    ) -> list[GraphQLError]:
        """The errors of validating ``document`` (parsed from ``query``) against ``rules``.

        Kept only for the document this cache handed out for ``query`` (another extension may have put
        a different one in the execution context) and only for equal rules.
        """
        entry = self._entries.get(query) if query is not None else None
        if entry is not None and entry.document is document and entry.rules == rules:
            assert entry.errors is not None
            return entry.errors
        errors = validate_document(schema, document, rules)
        if entry is not None and entry.document is document:
            entry.rules, entry.errors = rules, errors
        return errors

    def __len__(self) -> int:
        return len(self._entries)


class CachedDocuments(SchemaExtension):
    """Parses through ``cache`` with a token limit, and validates through it with ``rules`` added to
    the execution context's (those Strawberry starts with and any another extension added)."""

    def __init__(
        self, cache: DocumentCache, rules: Sequence[type[ASTValidationRule]], max_tokens: int
    ) -> None:
        super().__init__()
        self.cache = cache
        self.rules = tuple(rules)
        self.max_tokens = max_tokens

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        document = self.cache.document(query) if query is not None else None
        if document is not None:
            context.graphql_document = document  # Strawberry parses only when no document is set
            yield
            return
        # A new text: Strawberry parses it (and reports its syntax errors) with this limit.
        context.parse_options["max_tokens"] = self.max_tokens
        yield
        if query is not None and context.graphql_document is not None:
            self.cache.remember(query, context.graphql_document)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None  # validation runs after a successful parse
        rules = context.validation_rules + self.rules
        context.validation_rules = rules
        # Strawberry validates only while no errors are set; these are the errors it would find.
        context.pre_execution_errors = self.cache.errors(
            context.schema._schema, context.query, context.graphql_document, rules
        )
        yield
