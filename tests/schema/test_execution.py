"""PlainObjectExecutor gives exactly graphql-core's results, errors included, and takes its direct path.

Every query runs twice, through a schema with the executor and through the same schema with
Strawberry's default one; data and errors (messages, paths, locations) must be identical.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

import pytest
import strawberry
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.extensions import ParserCache, SchemaExtension
from strawberry.scalars import JSON

from gateway.config import Settings
from gateway.core.principals import Caller, Principal, PrincipalKind
from gateway.core.services import Services
from gateway.schema.context import GatewayContext
from gateway.schema.fast.execution import PlainObjectExecutor
from gateway.schema.schema import build_schema


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.interface
class Thing:
    thing_id: strawberry.ID
    label: str


@strawberry.type
class Plain(Thing):
    count: int
    ratio: float
    flag: bool
    colour: Colour
    maybe_colour: Colour | None
    born: date
    seen_at: datetime | None
    blob: JSON
    note: str | None


@strawberry.type
class Fancy(Thing):
    snake_case_name: str

    @strawberry.field
    def shout(self, times: int = 1) -> str:
        return self.label.upper() * times


@strawberry.type
class Broken:
    """Fields whose values graphql-core must refuse, so the direct path has to hand them back."""

    label: str
    required: str
    colour: Colour
    number: int


class _Exploding:
    label = "boom"

    @property
    def required(self) -> str:
        raise RuntimeError("attribute failed")


def _plain(n: int) -> Plain:
    return Plain(
        thing_id=strawberry.ID(f"p{n}"),
        label=f"plain {n}",
        count=n,
        ratio=n / 3,
        flag=n % 2 == 0,
        colour=Colour.RED if n % 2 else Colour.BLUE,
        maybe_colour=None if n % 3 else Colour.RED,
        born=date(2020, 1, 1 + n % 28),
        seen_at=datetime(2024, 5, 6, 7, 8, n % 60, tzinfo=UTC) if n % 4 else None,
        blob={"n": n, "nested": [1, {"x": None}]},
        note=None if n % 5 else "five",
    )


@strawberry.type
class Edge:
    node: Thing
    cursor: str


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Connection:
    total: int
    page_info: PageInfo
    edges: list[Edge]
    tags: list[str]
    maybe_tags: list[str | None] | None
    best: Plain | None


class _Lookalike:
    """Not a Strawberry object: only strawberry.cast says what it is."""

    def __init__(self, n: int) -> None:
        self.__dict__.update(vars(_plain(n)))


def _connection(nodes: list[Any], **changes: Any) -> Connection:
    edges = [Edge(node=node, cursor=f"c{i}") for i, node in enumerate(nodes)]
    fields: dict[str, Any] = {
        "total": len(nodes),
        "page_info": PageInfo(has_next_page=True, end_cursor="c9"),
        "edges": edges,
        "tags": ["a", "b"],
        "maybe_tags": ["x", None],
        "best": _plain(1),
    }
    return Connection(**{**fields, **changes})


@strawberry.type
class Query:
    @strawberry.field
    def connection(self, variant: str = "good") -> Connection:
        nodes: list[Any] = [_plain(n) if n % 2 else Fancy(thing_id=strawberry.ID(f"f{n}"), label=f"f {n}",
                            snake_case_name="s") for n in range(6)]  # fmt: skip
        if variant == "none_edge":
            return _connection(nodes, edges=[Edge(node=nodes[0], cursor="c0"), None])
        if variant == "dict_node":
            return _connection([{"thing_id": "d", "label": "dict"}, *nodes])
        if variant == "cast_node":
            return _connection([strawberry.cast(Plain, _Lookalike(3)), *nodes])
        if variant == "tuple_tags":
            return _connection(nodes, tags=("t1", "t2"))
        if variant == "set_tags":
            return _connection(nodes, tags={"only"})
        if variant == "number_tags":
            return _connection(nodes, tags=[1, 2.5, True])
        if variant == "null_tag":
            return _connection(nodes, tags=["a", None])
        if variant == "bad_best":
            return _connection(nodes, best=Fancy(thing_id=strawberry.ID("x"), label="x", snake_case_name="x"))
        return _connection(nodes)

    @strawberry.field
    def things(self) -> list[Thing]:
        return [_plain(n) if n % 3 else Fancy(thing_id=strawberry.ID(f"f{n}"), label=f"fancy {n}",
                snake_case_name=f"snake {n}") for n in range(12)]  # fmt: skip

    @strawberry.field
    def plains(self) -> list[Plain]:
        return [_plain(n) for n in range(5)]

    @strawberry.field
    def null_required(self) -> Broken | None:
        return Broken(label="x", required=None, colour=Colour.RED, number=1)  # type: ignore[arg-type]

    @strawberry.field
    def bad_enum(self) -> Broken | None:
        return Broken(label="x", required="y", colour="green", number=1)  # type: ignore[arg-type]

    @strawberry.field
    def bad_number(self) -> list[Broken | None]:
        return [
            Broken(label="ok", required="y", colour=Colour.BLUE, number=7),
            Broken(label="x", required="y", colour=Colour.RED, number="seven"),  # type: ignore[arg-type]
        ]

    @strawberry.field
    def exploding(self) -> Broken | None:
        return _Exploding()  # type: ignore[return-value]


FAST = strawberry.Schema(query=Query, types=[Plain, Fancy], execution_context_class=PlainObjectExecutor)
DEFAULT = strawberry.Schema(query=Query, types=[Plain, Fancy])

PLAIN_FIELDS = ["thingId", "label", "count", "ratio", "flag", "colour", "maybeColour", "born", "seenAt",
                "blob", "note", "__typename"]  # fmt: skip


def _shape(result: Any) -> tuple[Any, list[dict[str, Any]]]:
    errors = [
        {
            "message": e.message,
            "path": e.path,
            "locations": [(loc.line, loc.column) for loc in e.locations or []],
        }
        for e in result.errors or []
    ]
    return result.data, errors


async def _both(query: str, variables: dict[str, Any] | None = None) -> tuple[Any, list[dict[str, Any]]]:
    fast = _shape(await FAST.execute(query, variable_values=variables))
    default = _shape(await DEFAULT.execute(query, variable_values=variables))
    assert fast == default
    return fast


@pytest.fixture
def direct_completions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Type names of the objects the executor completed itself (not handed to graphql-core)."""
    completed: list[str] = []
    original = PlainObjectExecutor._complete

    def counting(self: PlainObjectExecutor, plan: Any, source: Any, type_name: str) -> Any:
        result = original(self, plan, source, type_name)
        if result is not None:
            completed.append(type_name)
        return result

    monkeypatch.setattr(PlainObjectExecutor, "_complete", counting)
    return completed


async def test_plain_objects_are_completed_directly_and_identically(direct_completions: list[str]) -> None:
    data, errors = await _both(
        """
        query { plains { """
        + " ".join(PLAIN_FIELDS)
        + """ } }"""
    )
    assert errors == [] and len(data["plains"]) == 5
    assert direct_completions == ["Plain"] * 5


async def test_interfaces_fragments_aliases_and_typename(direct_completions: list[str]) -> None:
    data, errors = await _both(
        """
        query {
          things {
            __typename
            id: thingId
            ... on Plain { c: count colour seenAt ...More }
            ... on Fancy { snakeCaseName }
          }
        }
        fragment More on Plain { blob note label }
        """
    )
    assert errors == []
    assert {thing["__typename"] for thing in data["things"]} == {"Plain", "Fancy"}
    assert direct_completions.count("Plain") == 8 and direct_completions.count("Fancy") == 4


CONNECTION = """
query($variant: String!) {
  connection(variant: $variant) {
    total
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node { __typename thingId label ... on Plain { count colour } ... on Fancy { snakeCaseName } }
    }
    tags
    maybeTags
    best { label seenAt }
  }
}
"""


async def test_nested_objects_and_lists_are_completed_directly(direct_completions: list[str]) -> None:
    data, errors = await _both(CONNECTION, {"variant": "good"})
    assert errors == [] and len(data["connection"]["edges"]) == 6
    assert direct_completions.count("Connection") == 1  # and everything in it, in that one call
    assert direct_completions.count("Edge") == 6 and direct_completions.count("PageInfo") == 1


@pytest.mark.parametrize(
    "variant",
    ["none_edge", "dict_node", "cast_node", "tuple_tags", "set_tags", "number_tags", "null_tag", "bad_best"],
)
async def test_nested_values_graphql_core_must_judge_give_its_answer(variant: str) -> None:
    await _both(CONNECTION, {"variant": variant})


async def test_a_field_with_a_resolver_or_arguments_takes_graphql_cores_path(
    direct_completions: list[str],
) -> None:
    data, errors = await _both("query { things { label ... on Fancy { shout(times: 2) } } }")
    assert errors == [] and data["things"][0]["shout"] == "FANCY 0FANCY 0"
    assert "Fancy" not in direct_completions  # shout has a resolver
    assert direct_completions.count("Plain") == 8


@pytest.mark.parametrize("show", [True, False])
async def test_skip_and_include_follow_variables(show: bool) -> None:
    data, _ = await _both(
        "query($show: Boolean!) { plains { label count @include(if: $show) flag @skip(if: $show) } }",
        {"show": show},
    )
    assert ("count" in data["plains"][0]) is show and ("flag" in data["plains"][0]) is not show


NESTED_DIRECTIVES = """
query($variant: String!, $show: Boolean!) {
  connection(variant: $variant) {
    edges { node { __typename label ... on Plain { count @include(if: $show) } ...Extra } }
    best { label seenAt @skip(if: $show) }
  }
}
fragment Extra on Plain { colour @skip(if: $show) }
"""


async def test_nested_selections_with_directives_follow_each_requests_variables(
    direct_completions: list[str],
) -> None:
    """Item plans of directive-free selections are kept across requests; these must not be."""
    for show in (True, False, True):
        data, errors = await _both(NESTED_DIRECTIVES, {"variant": "good", "show": show})
        nodes = [edge["node"] for edge in data["connection"]["edges"]]
        plain = next(node for node in nodes if node["__typename"] == "Plain")
        assert errors == [] and ("count" in plain) is show and ("colour" in plain) is not show
        assert ("seenAt" in data["connection"]["best"]) is not show
    assert direct_completions.count("Connection") == 3


async def test_directive_free_nested_selections_reuse_their_item_plans(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[str] = []
    original = PlainObjectExecutor._item_plan

    def counting(self: PlainObjectExecutor, nested: Any, kind: type) -> Any:
        made.append(kind.__name__)
        return original(self, nested, kind)

    monkeypatch.setattr(PlainObjectExecutor, "_item_plan", counting)
    caching = strawberry.Schema(  # the same document object every time, as the gateway's schema has
        query=Query,
        types=[Plain, Fancy],
        execution_context_class=PlainObjectExecutor,
        extensions=[ParserCache],
    )
    expected = _shape(await DEFAULT.execute(CONNECTION, variable_values={"variant": "good"}))
    made_after: list[int] = []
    for _ in range(3):
        assert _shape(await caching.execute(CONNECTION, variable_values={"variant": "good"})) == expected
        made_after.append(len(made))
    assert made_after[0] > 0 and made_after == [made_after[0]] * 3  # all in the first request


@pytest.mark.parametrize(
    "query",
    [
        "query { nullRequired { label required } }",
        "query { badEnum { label colour } }",
        "query { badNumber { label number } }",
        "query { exploding { label required } }",
    ],
)
async def test_values_graphql_core_refuses_give_its_own_errors(query: str) -> None:
    _, errors = await _both(query)
    assert errors, "each of these queries must fail somewhere"


async def test_field_middleware_switches_the_direct_path_off(direct_completions: list[str]) -> None:
    class EveryField(SchemaExtension):
        def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
            result = _next(root, info, *args, **kwargs)
            return result.upper() if isinstance(result, str) and info.field_name == "label" else result

    schema = strawberry.Schema(
        query=Query, execution_context_class=PlainObjectExecutor, extensions=[EveryField]
    )
    result = await schema.execute("query { plains { label count } }")
    assert result.errors is None and result.data["plains"][0]["label"] == "PLAIN 0"
    assert direct_completions == []


@settings(max_examples=60, deadline=None)
@given(
    selections=st.lists(
        st.tuples(st.sampled_from(PLAIN_FIELDS), st.none() | st.sampled_from(["a", "b", "c"])),
        min_size=1,
        max_size=8,
    ),
    through_interface=st.booleans(),
)
async def test_random_selections_match_graphql_core(
    selections: list[tuple[str, str | None]], through_interface: bool
) -> None:
    seen: set[str] = set()
    fields = []
    for name, alias in selections:
        key = alias or name
        if key in seen:  # the same response key must always name the same field
            continue
        seen.add(key)
        fields.append(f"{alias}: {name}" if alias else name)
    body = " ".join(fields)
    query = (
        f"query {{ things {{ ... on Plain {{ {body} }} }} }}"
        if through_interface
        else f"query {{ plains {{ {body} }} }}"
    )
    _, errors = await _both(query)
    assert errors == []


async def test_the_gateway_schema_completes_its_contacts_directly(
    services: Services, direct_completions: list[str]
) -> None:
    schema = build_schema(Settings(speed_layer=True))  # whichever way the suite runs
    result = await schema.execute(
        """query { deletedContacts(first: 20) { totalCount edges { node {
            id provider contactId email name deletedOn deletedAt reason restorable restoreBlockedBy
        } } } }""",
        context_value=GatewayContext.create(services, Caller(Principal.local(), "req-test")),
    )
    assert result.errors is None and len(result.data["deletedContacts"]["edges"]) == 20
    contact_types = {"ConstantContactDeletedContact", "GetResponseDeletedContact"}
    assert sum(name in contact_types for name in direct_completions) == 20


async def test_plans_go_with_their_document_when_the_document_cache_drops_it() -> None:
    import gc

    from gateway.schema.fast.execution import _schema_facts

    # A new document per query text (no parse cache): every plan's document is dropped after its
    # request, so its plans must go too instead of holding the document and its text alive.
    plain = strawberry.Schema(query=Query, types=[Plain, Fancy], execution_context_class=PlainObjectExecutor)
    for n in range(40):
        result = await plain.execute(f"query Q{n} {{ connection {{ best {{ label count }} }} }}")
        assert result.errors is None
    gc.collect()
    facts = _schema_facts(plain._schema)
    assert facts._completions._entries  # the direct path ran (and made plans on the way)
    assert facts.operations_held() == 0

    # With a cached document the plans stay, once, and are reused.
    caching = strawberry.Schema(
        query=Query,
        types=[Plain, Fancy],
        execution_context_class=PlainObjectExecutor,
        extensions=[ParserCache],
    )
    for _ in range(3):
        assert (await caching.execute("query Kept { connection { best { label count } } }")).errors is None
    gc.collect()
    assert _schema_facts(caching._schema).operations_held() == 1


async def test_a_field_with_a_field_extension_takes_graphql_cores_path(
    services: Services, direct_completions: list[str]
) -> None:
    # `raw` has no resolver but a permission extension: the direct path must not read it past the check.
    schema = build_schema(Settings(speed_layer=True))
    reader = Principal(PrincipalKind.KEY, "k", "reader", frozenset({"contacts:read"}))
    result = await schema.execute(
        "query { deletedContacts(first: 3) { edges { node { id raw } } } }",
        context_value=GatewayContext.create(services, Caller(reader, "req-test")),
    )
    assert result.data is not None
    assert [edge["node"]["raw"] for edge in result.data["deletedContacts"]["edges"]] == [None] * 3
    assert result.errors is not None and len(result.errors) == 3
    assert direct_completions == []
