"""Every schema extension runs on every request: the first, the second and the hundredth of the same
text, with the speed layer on and off (a text seen before skips parsing and validating work, never a
hook)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from strawberry.extensions import SchemaExtension

from gateway.config import Settings
from gateway.core.principals import Caller, Principal
from gateway.core.services import Services
from gateway.schema.context import GatewayContext
from gateway.schema.schema import build_schema

QUERY = "query Providers { providers { provider configured } }"


class Recorder(SchemaExtension):
    """Records every hook it is given, the way an authorization or tracing extension would use them."""

    def __init__(self, hooks: list[str]) -> None:
        super().__init__()
        self.hooks = hooks

    def on_operation(self) -> Iterator[None]:
        self.hooks.append("operation")
        yield

    def on_parse(self) -> Iterator[None]:
        yield
        assert self.execution_context.graphql_document is not None
        self.hooks.append("parse")

    def on_validate(self) -> Iterator[None]:
        yield
        self.hooks.append("validate")

    def on_execute(self) -> Iterator[None]:
        self.hooks.append("execute")
        yield

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        self.hooks.append(f"resolve:{info.field_name}")
        return _next(root, info, *args, **kwargs)

    def get_results(self) -> dict[str, Any]:
        return {"recorded": len(self.hooks)}


@pytest.mark.parametrize("speed_layer", [True, False], ids=["speed-layer-on", "speed-layer-off"])
async def test_extension_hooks_run_on_the_first_second_and_hundredth_request(
    services: Services, speed_layer: bool
) -> None:
    per_request: list[list[str]] = []
    schema = build_schema(Settings(speed_layer=speed_layer), extensions=[lambda: Recorder(per_request[-1])])
    results = []
    for _ in range(100):
        per_request.append([])
        context = GatewayContext.create(services, Caller(Principal.local(), "req-test"))
        results.append(await schema.execute(QUERY, context_value=context))
    resolved = [f"resolve:{name}" for name in ("providers", *["provider", "configured"] * 2)]
    expected = ["operation", "parse", "validate", "execute", *resolved]
    for number in (1, 2, 100):
        assert sorted(per_request[number - 1]) == sorted(expected), f"request {number}"
        result = results[number - 1]
        assert result.errors is None and result.extensions is not None
        assert result.extensions["recorded"] == len(expected)
