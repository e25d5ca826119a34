"""One provider down, slow, rate limited or refusing credentials: the other still answers, HTTP 200."""

from __future__ import annotations

from typing import Any

from .conftest import Stack, StackFactory

LIST = """
{ deletedContacts(first: 20) {
    totalCount
    sources { provider ok status retryAfter }
    edges { node { provider } }
} }
"""


def _only_error(body: dict[str, Any]) -> dict[str, Any]:
    (error,) = body["errors"]
    assert error["path"] == ["deletedContacts"]
    return error


def _providers(body: dict[str, Any]) -> set[str]:
    return {e["node"]["provider"] for e in body["data"]["deletedContacts"]["edges"]}


def _source(body: dict[str, Any], provider: str) -> dict[str, Any]:
    sources = body["data"]["deletedContacts"]["sources"]
    (source,) = [s for s in sources if s["provider"] == provider]
    return source


async def test_getresponse_down_answers_with_constant_contact(stack: Stack) -> None:
    await stack.faults("gr", error_rate=1.0, error_status=503)
    body = await stack.graphql(LIST)
    error = _only_error(body)
    assert error["extensions"]["code"] == "PROVIDER_UNAVAILABLE"
    assert error["extensions"]["provider"] == "GETRESPONSE"
    assert _providers(body) == {"CONSTANT_CONTACT"}
    assert _source(body, "GETRESPONSE") == {
        "provider": "GETRESPONSE",
        "ok": False,
        "status": "PROVIDER_UNAVAILABLE",
        "retryAfter": None,
    }
    assert _source(body, "CONSTANT_CONTACT")["status"] == "OK"


async def test_a_provider_slower_than_its_timeout_is_a_provider_timeout(make_stack: StackFactory) -> None:
    async with make_stack(provider_total_timeout=0.5, retry_max_attempts=1) as stack:
        await stack.faults("cc", script=["hang"], hang_seconds=3)
        body = await stack.graphql(LIST)
        error = _only_error(body)
        assert error["extensions"]["code"] == "PROVIDER_TIMEOUT"
        assert error["extensions"]["provider"] == "CONSTANT_CONTACT"
        assert _providers(body) == {"GETRESPONSE"}


async def test_exhausted_quota_is_rate_limited_with_retry_after(make_stack: StackFactory) -> None:
    async with make_stack(cc_overrides={"daily_quota": 0}) as stack:
        body = await stack.graphql(LIST)
        error = _only_error(body)
        assert error["extensions"]["code"] == "PROVIDER_RATE_LIMITED"
        assert error["extensions"]["provider"] == "CONSTANT_CONTACT"
        assert error["extensions"]["retryAfter"] > 0
        assert _source(body, "CONSTANT_CONTACT")["retryAfter"] > 0
        assert _providers(body) == {"GETRESPONSE"}


async def test_rejected_credentials_are_provider_auth_failed_and_never_echoed(
    make_stack: StackFactory,
) -> None:
    async with make_stack(getresponse_api_key="wrong-key-0123456789") as stack:
        response = await stack.gateway.post("/graphql", json={"query": LIST})
        assert response.status_code == 200
        body = response.json()
        error = _only_error(body)
        assert error["extensions"]["code"] == "PROVIDER_AUTH_FAILED"
        assert error["extensions"]["provider"] == "GETRESPONSE"
        assert "wrong-key-0123456789" not in response.text
        assert _providers(body) == {"CONSTANT_CONTACT"}


async def test_malformed_and_dropped_answers_are_typed_errors(stack: Stack) -> None:
    await stack.faults("gr", script=["malformed", "malformed", "malformed"])
    body = await stack.graphql(LIST)
    assert _only_error(body)["extensions"]["code"] in ("PROVIDER_INVALID_RESPONSE", "PROVIDER_UNAVAILABLE")
    await stack.faults("gr", script=["drop", "drop", "drop"])
    body = await stack.graphql(LIST)
    assert _only_error(body)["extensions"]["code"] == "PROVIDER_UNAVAILABLE"
    await stack.faults("gr")
    body = await stack.graphql(LIST)
    assert "errors" not in body and _providers(body) == {"CONSTANT_CONTACT", "GETRESPONSE"}


async def test_both_providers_down_still_http_200_with_two_errors(stack: Stack) -> None:
    await stack.faults("gr", error_rate=1.0)
    await stack.faults("cc", error_rate=1.0)
    body = await stack.graphql(LIST)
    codes = sorted((e["extensions"]["provider"], e["extensions"]["code"]) for e in body["errors"])
    assert codes == [("CONSTANT_CONTACT", "PROVIDER_UNAVAILABLE"), ("GETRESPONSE", "PROVIDER_UNAVAILABLE")]
    assert body["data"]["deletedContacts"]["totalCount"] == 0


async def test_a_bad_gateway_status_is_provider_unavailable(stack: Stack) -> None:
    await stack.faults("cc", error_rate=1.0, error_status=502)
    body = await stack.graphql(LIST)
    assert _only_error(body)["extensions"] == {"code": "PROVIDER_UNAVAILABLE", "provider": "CONSTANT_CONTACT"}
    assert _providers(body) == {"GETRESPONSE"}
