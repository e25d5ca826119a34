from __future__ import annotations

from typing import Any

import pytest

from gateway.core.model import DeletionReason, Provider
from gateway.core.principals import Caller, Principal
from gateway.core.services import Services
from gateway.core.snapshots import MemorySnapshotStore
from gateway.schema.context import GatewayContext
from gateway.schema.schema import GatewaySchema, build_schema

from ..speed_layer import settings_under_test
from .fakes import FakePort, make_contact


@pytest.fixture
def ports() -> dict[Provider, FakePort]:
    cc = [make_contact(Provider.CONSTANT_CONTACT, n, reason=DeletionReason.UNKNOWN) for n in range(0, 60, 2)]
    gr = [make_contact(Provider.GETRESPONSE, n) for n in range(1, 60, 2)]
    gr.append(
        make_contact(
            Provider.GETRESPONSE,
            99,
            reason=DeletionReason.COMPLAINT,
            blocked="the person reported a spam complaint",
        )
    )
    return {
        Provider.CONSTANT_CONTACT: FakePort(Provider.CONSTANT_CONTACT, cc),
        Provider.GETRESPONSE: FakePort(Provider.GETRESPONSE, gr),
    }


@pytest.fixture
def services(ports: dict[Provider, FakePort]) -> Services:
    return Services(
        ports=ports,
        snapshots=MemorySnapshotStore(),
        max_page_size=100,
        getresponse=ports[Provider.GETRESPONSE],
    )


@pytest.fixture(scope="session")
def gateway_schema() -> GatewaySchema:
    """The gateway's schema with default limits and the speed layer as the run asks (tests/speed_layer.py)."""
    return build_schema(settings_under_test())


@pytest.fixture
def run(services: Services, gateway_schema: GatewaySchema):
    async def execute(query: str, variables: dict[str, Any] | None = None) -> Any:
        context = GatewayContext.create(services, Caller(Principal.local(), "req-test"))
        return await gateway_schema.execute(query, variable_values=variables, context_value=context)

    return execute
