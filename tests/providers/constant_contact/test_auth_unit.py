"""Bearer auth and the OAuth2 refresh against a mock CC: one refresh per expiry, and no secret leaks."""

from __future__ import annotations

import asyncio
import base64
import logging
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import httpx
import pytest

from gateway.providers.constant_contact import OAuthRefresh
from gateway.providers.constant_contact.auth import BearerCredentials
from gateway.providers.errors import AuthenticationFailed, ProviderError

from .conftest import ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, ClientFactory, oauth
from .test_records import DELETED_CONTACT

TOKEN_URL = "https://authz.example/oauth2/default/v1/token"
CONTACT_ID = DELETED_CONTACT["contact_id"]


@dataclass
class FakeAccount:
    """CC's API and token endpoint in one: tokens in ``valid`` pass, the token endpoint mints more."""

    valid: set[str] = field(default_factory=lambda: {ACCESS_TOKEN})
    refresh_tokens: set[str] = field(default_factory=lambda: {REFRESH_TOKEN})
    rotate: bool = False
    token_failures: int = 0  # answer this many token requests with a 503 first
    echo_token_in_errors: bool = False
    minted_tokens_work: bool = True
    api_requests: list[httpx.Request] = field(default_factory=list)
    token_requests: list[httpx.Request] = field(default_factory=list)
    minted: int = 0

    def expire_all(self) -> None:
        self.valid.clear()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.01)  # concurrent requests overlap, as over a network
        if request.url.host == "authz.example":
            return self._token(request)
        self.api_requests.append(request)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.valid:
            text = f"Token {token} is expired" if self.echo_token_in_errors else "Unauthorized"
            return httpx.Response(401, json={"error_key": "unauthorized", "error_message": text})
        return httpx.Response(200, json=DELETED_CONTACT)

    def _token(self, request: httpx.Request) -> httpx.Response:
        self.token_requests.append(request)
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if self.token_failures:
            self.token_failures -= 1
            return httpx.Response(503, json={"error": "server_error"})
        if (
            request.headers.get("authorization") != expected
            or form.get("grant_type") != "refresh_token"
            or form.get("refresh_token") not in self.refresh_tokens
        ):
            description = f"refresh token {form.get('refresh_token')} is invalid or expired"
            return httpx.Response(400, json={"error": "invalid_grant", "error_description": description})
        self.minted += 1
        access = f"minted-access-{self.minted}"
        if self.minted_tokens_work:
            self.valid.add(access)
        body = {"access_token": access, "token_type": "Bearer", "expires_in": 86400, "scope": "contact_data"}
        if self.rotate:
            self.refresh_tokens = {f"minted-refresh-{self.minted}"}
            body["refresh_token"] = f"minted-refresh-{self.minted}"
        return httpx.Response(200, json=body)


async def test_a_401_refreshes_once_and_retries_with_the_new_token(make_client: ClientFactory) -> None:
    account = FakeAccount()
    client = make_client(httpx.MockTransport(account), refresh=oauth(TOKEN_URL))
    account.expire_all()
    assert (await client.get_contact(CONTACT_ID)).contact_id == CONTACT_ID
    (token_request,) = account.token_requests
    assert str(token_request.url) == TOKEN_URL  # nothing secret in the URL (httpx logs URLs)
    assert token_request.method == "POST"
    assert token_request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(token_request.content.decode()) == {
        "grant_type": ["refresh_token"],
        "refresh_token": [REFRESH_TOKEN],
    }
    assert [r.headers["authorization"] for r in account.api_requests] == [
        f"Bearer {ACCESS_TOKEN}",
        "Bearer minted-access-1",
    ]
    assert client.token_refreshes == 1
    assert client.stats.retries == 0  # the resend is part of the same attempt, not a retry


async def test_fifty_concurrent_401s_trigger_one_refresh(make_client: ClientFactory) -> None:
    account = FakeAccount()
    # A limiter that lets all fifty out at once, so that all of them meet the expired token.
    client = make_client(httpx.MockTransport(account), refresh=oauth(TOKEN_URL), rate_per_second=1e6)
    account.expire_all()
    contacts = await asyncio.gather(*(client.get_contact(CONTACT_ID) for _ in range(50)))
    assert len(contacts) == 50
    assert len(account.token_requests) == 1 and client.token_refreshes == 1
    assert len(account.api_requests) == 100  # each request: once with the old token, once with the new


async def test_concurrent_401s_with_a_refused_refresh_ask_the_token_endpoint_once(
    make_client: ClientFactory,
) -> None:
    account = FakeAccount(refresh_tokens=set())
    client = make_client(httpx.MockTransport(account), refresh=oauth(TOKEN_URL))
    account.expire_all()
    results = await asyncio.gather(
        *(client.get_contact(CONTACT_ID) for _ in range(10)), return_exceptions=True
    )
    assert all(isinstance(r, AuthenticationFailed) for r in results)
    assert len(account.token_requests) == 1
    first = results[0]
    assert isinstance(first, AuthenticationFailed)
    assert "invalid_grant" in first.message or "refresh failed" in first.message
    assert client.breaker.state == "closed"  # a credentials problem is not an outage


async def test_a_rotated_refresh_token_is_the_one_used_next(make_client: ClientFactory) -> None:
    account = FakeAccount(rotate=True)
    client = make_client(httpx.MockTransport(account), refresh=oauth(TOKEN_URL))
    account.expire_all()
    await client.get_contact(CONTACT_ID)
    account.expire_all()
    await client.get_contact(CONTACT_ID)
    sent = [parse_qs(r.content.decode())["refresh_token"][0] for r in account.token_requests]
    assert sent == [REFRESH_TOKEN, "minted-refresh-1"]
    assert client.token_refreshes == 2


async def test_without_refresh_credentials_a_401_is_final(make_client: ClientFactory) -> None:
    account = FakeAccount(valid=set())
    client = make_client(httpx.MockTransport(account))
    with pytest.raises(AuthenticationFailed) as caught:
        await client.get_contact(CONTACT_ID)
    assert caught.value.status_code == 401 and caught.value.message == "Unauthorized"
    assert len(account.api_requests) == 1 and account.token_requests == []


async def test_a_401_after_a_successful_refresh_is_final(make_client: ClientFactory) -> None:
    account = FakeAccount(minted_tokens_work=False)
    client = make_client(httpx.MockTransport(account), refresh=oauth(TOKEN_URL))
    account.expire_all()
    with pytest.raises(AuthenticationFailed) as caught:
        await client.get_contact(CONTACT_ID)
    assert caught.value.status_code == 401
    assert len(account.api_requests) == 2 and len(account.token_requests) == 1  # no refresh loop
    assert client.stats.retries == 0


async def test_a_failing_token_endpoint_is_retried_like_any_outage(make_client: ClientFactory) -> None:
    account = FakeAccount(token_failures=1)
    client = make_client(httpx.MockTransport(account), refresh=oauth(TOKEN_URL))
    account.expire_all()
    contact = await client.get_contact(CONTACT_ID)
    assert contact.contact_id == CONTACT_ID
    assert len(account.token_requests) == 2 and client.token_refreshes == 1
    assert client.stats.retries == 1  # the whole exchange was retried after the token endpoint's 503
    assert len(account.api_requests) == 3  # 401, 401 again on the retry, then 200 with the new token


# -- secrets never show ---------------------------------------------------------------------------------


SECRETS = ("s3cr3t-access-TOKEN-xyz", "s3cr3t-refresh-TOKEN-xyz", "s3cr3t-client-SECRET-xyz")


def _assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"a secret leaked into: {text[:200]!r}"


async def test_secrets_never_appear_in_reprs_errors_or_logs(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    access, refresh_token, client_secret = SECRETS
    account = FakeAccount(valid=set(), refresh_tokens=set(), echo_token_in_errors=True)
    refresh = OAuthRefresh(
        token_url=TOKEN_URL, client_id=CLIENT_ID, client_secret=client_secret, refresh_token=refresh_token
    )
    with_refresh = make_client(httpx.MockTransport(account), access_token=access, refresh=refresh)
    without_refresh = make_client(httpx.MockTransport(account), access_token=access)

    errors: list[ProviderError] = []
    for client in (with_refresh, without_refresh):
        with pytest.raises(AuthenticationFailed) as caught:
            await client.get_contact(CONTACT_ID)
        errors.append(caught.value)
    assert errors[1].message == "Token [redacted] is expired"  # the provider echoed it; we did not

    texts = [repr(refresh), str(refresh), repr(with_refresh), repr(without_refresh), caplog.text]
    texts += [repr(BearerCredentials(access, refresh))]
    for error in errors:
        texts += [str(error), repr(error), error.message, repr(error.__cause__), repr(error.__context__)]
    for text in texts:
        _assert_no_secret(text)
    assert "s3cr3t" not in caplog.text
    assert account.api_requests and account.token_requests  # the secrets were really used
