"""The stack the fuzz tests hit: both emulators and the gateway, each under uvicorn on an ephemeral port.

Limits that would only slow fuzzing down are lifted (Constant Contact's rate and daily quota at both
ends, the circuit breaker, bulk activity durations); everything else is the gateway as deployed.  The
tests talk to it with a synchronous httpx client over real sockets: Hypothesis drives the examples,
the servers run in their own threads.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from emulators.constant_contact import ConstantContactEmulatorSettings
from emulators.constant_contact import create_app as create_cc
from emulators.getresponse import GetResponseEmulatorSettings
from emulators.getresponse import create_app as create_gr

from gateway.admin import issue_key
from gateway.app import create_app
from gateway.serving import BackgroundServer
from tests.e2e.conftest import ALL_SCOPES, gateway_settings

from .hostile import RawRequest
from .oracle import LogWatch

DEADLINE_SECONDS = 10.0
"""Every answer must arrive within this; a client timeout fails the example."""
CONTROL_TIMEOUT_SECONDS = 600.0
SERVING_RECURSION_LIMIT = sys.getrecursionlimit()
"""The interpreter's limit as a server process has it (read before Hypothesis raises it)."""


@contextlib.contextmanager
def serving_recursion_limit() -> Iterator[None]:
    """Hypothesis raises the recursion limit while it runs a test, and the limit is per process: the
    servers' threads would get it too, and recursion that fails in a real server (a long fragment
    chain) would pass here.  So each request is served under the limit a server process has."""
    raised = sys.getrecursionlimit()
    sys.setrecursionlimit(SERVING_RECURSION_LIMIT)
    try:
        yield
    finally:
        sys.setrecursionlimit(raised)


UNLIMITED = 1e9


@dataclass
class FuzzStack:
    gateway: httpx.Client
    cc: httpx.Client
    gr: httpx.Client
    logs: LogWatch

    def send(self, request: RawRequest) -> tuple[httpx.Response | None, str | None]:
        """One request to the gateway; ``(None, reason)`` when it does not answer within the deadline."""
        try:
            with serving_recursion_limit():
                response = self.gateway.request(
                    request.method,
                    request.path,
                    headers=request.headers,
                    content=request.body or None,
                    params=request.params or None,
                )
        except httpx.TimeoutException as error:
            self.wait_until_responsive()
            return None, f"{type(error).__name__} after {DEADLINE_SECONDS} s"
        except httpx.TransportError as error:
            return None, f"{type(error).__name__}: {error}"
        return response, None

    def graphql(
        self, document: str, variables: dict[str, Any] | None = None
    ) -> tuple[httpx.Response | None, str | None]:
        body = orjson.dumps({"query": document, "variables": variables or {}})
        headers = {"content-type": "application/json", "accept": "application/graphql-response+json"}
        return self.send(RawRequest("POST", "/graphql", headers, body))

    def wait_until_responsive(self, patience: float = 120.0) -> None:
        """After a stall, wait for the gateway to answer again so one stall does not fail the next
        examples too."""
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            try:
                if self.gateway.get("/healthz", timeout=5.0).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.5)

    def counts(self) -> dict[str, dict[str, Any]]:
        return {
            "cc": self.cc.get("/_emulator/requests").json(),
            "gr": self.gr.get("/_emulator/requests").json(),
        }

    def reset_counts(self) -> None:
        self.cc.post("/_emulator/requests/reset").raise_for_status()
        self.gr.post("/_emulator/requests/reset").raise_for_status()

    def ground_truth(self) -> dict[str, Any]:
        return {
            "cc": self.cc.get("/_emulator/ground-truth").json(),
            "gr": self.gr.get("/_emulator/ground-truth").json(),
        }

    def reset(self) -> None:
        """Back to the seeded data (and zero counts) at both emulators."""
        self.cc.post("/_emulator/reset").raise_for_status()
        self.gr.post("/_emulator/reset").raise_for_status()


@pytest.fixture(scope="module")
def fuzz_stack() -> Iterator[FuzzStack]:
    cc_app = create_cc(
        ConstantContactEmulatorSettings(
            seed=7,
            contacts=600,
            requests_per_second=UNLIMITED,
            daily_quota=10**9,
            activity_initialized_seconds=0.0,
            activity_processing_seconds=0.0,
        )
    )
    gr_app = create_gr(GetResponseEmulatorSettings(seed=7, contacts=600))
    logs = LogWatch()
    logs.install()
    with BackgroundServer(cc_app) as cc, BackgroundServer(gr_app) as gr:
        settings = gateway_settings(
            cc.url,
            f"{gr.url}/",
            constant_contact_rate_per_second=UNLIMITED,
            constant_contact_daily_quota=10**9,
            breaker_failure_threshold=10**6,
        )
        with BackgroundServer(create_app(settings)) as gateway:
            # Fuzzed requests carry a key with every scope (unless they bring an Authorization header
            # of their own), so that they reach GraphQL rather than stop at the door.
            credential = issue_key(settings, "fuzz", ALL_SCOPES).credential
            with (
                httpx.Client(
                    base_url=gateway.url,
                    timeout=DEADLINE_SECONDS,
                    headers={"authorization": f"Bearer {credential}"},
                ) as gateway_client,
                # The control plane answers on the emulator's event loop: after a stall it answers late.
                httpx.Client(base_url=cc.url, timeout=CONTROL_TIMEOUT_SECONDS) as cc_client,
                httpx.Client(base_url=gr.url, timeout=CONTROL_TIMEOUT_SECONDS) as gr_client,
            ):
                yield FuzzStack(gateway_client, cc_client, gr_client, logs)
    logs.uninstall()
