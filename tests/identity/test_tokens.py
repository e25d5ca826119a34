"""OIDC access tokens: what is accepted, what is refused, and when the issuer's keys are fetched.

The issuer is real HTTP (``issuer.py``): keys generated per test, a JWKS and a discovery document.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from gateway.core.principals import PrincipalKind
from gateway.identity import IdentityProviderUnavailable, JwksSource, TokenPolicy, TokenVerifier

from .issuer import (
    AUDIENCE,
    Issuer,
    ec_key,
    hmac_with_public_key,
    rsa_key,
    running_issuer,
    tampered,
    unsigned_token,
)

ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with running_issuer(rsa_key("k1"), ec_key("k2")) as running:
        yield running


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as http:
        yield http


def verifier_for(
    issuer: Issuer,
    client: httpx.AsyncClient,
    *,
    discover: bool = False,
    min_refresh: float = 0.0,
    **policy: Any,
) -> TokenVerifier:
    keys = JwksSource(
        client,
        jwks_url=None if discover else issuer.jwks_url,
        issuer=issuer.issuer,
        cache_seconds=300,
        min_refresh_seconds=min_refresh,
    )
    values: dict[str, Any] = {
        "issuer": issuer.issuer,
        "audience": AUDIENCE,
        "algorithms": ALGORITHMS,
        "leeway_seconds": 5.0,
        "max_token_length": 8192,
        **policy,
    }
    return TokenVerifier(TokenPolicy(**values), keys)


async def test_a_valid_token_is_its_issuer_and_subject_with_its_known_scopes(
    issuer: Issuer, client: httpx.AsyncClient
) -> None:
    verifier = verifier_for(issuer, client)
    token = issuer.token(scope="contacts:read contacts:delete openid profile", preferred_username="ana")
    principal = await verifier.verify(token)
    assert principal is not None
    assert principal.kind is PrincipalKind.TOKEN
    assert principal.id == f"{issuer.issuer} user-1"
    assert principal.name == "ana"
    assert principal.scopes == {"contacts:read", "contacts:delete"}  # openid, profile: not the gateway's


@pytest.mark.parametrize("scp", [["contacts:read", "audit:read"], "contacts:read audit:read"])
async def test_scopes_may_come_in_scp(issuer: Issuer, client: httpx.AsyncClient, scp: Any) -> None:
    principal = await verifier_for(issuer, client).verify(issuer.token(scope=None, scp=scp))
    assert principal is not None and principal.scopes == {"contacts:read", "audit:read"}


async def test_an_ec_key_of_the_set_verifies_too(issuer: Issuer, client: httpx.AsyncClient) -> None:
    principal = await verifier_for(issuer, client).verify(issuer.token(issuer.keys[1]))
    assert principal is not None


async def test_the_key_set_is_found_through_discovery(issuer: Issuer, client: httpx.AsyncClient) -> None:
    assert await verifier_for(issuer, client, discover=True).verify(issuer.token()) is not None


@pytest.mark.parametrize(
    ("case", "claims"),
    [
        ("expired", {"exp": -60}),
        ("not yet valid", {"nbf": 60}),
        ("wrong issuer", {"iss": "https://evil.example"}),
        ("wrong audience", {"aud": "another-api"}),
        ("no audience", {"aud": None}),
        ("no expiry", {"exp": None}),
        ("no subject", {"sub": None}),
    ],
)
async def test_claims_that_are_refused(
    issuer: Issuer, client: httpx.AsyncClient, case: str, claims: dict[str, Any]
) -> None:
    import time

    now = int(time.time())
    resolved = {k: (now + v if k in ("exp", "nbf") and isinstance(v, int) else v) for k, v in claims.items()}
    assert await verifier_for(issuer, client).verify(issuer.token(**resolved)) is None, case


async def test_expiry_within_the_leeway_is_accepted_and_past_it_refused(
    issuer: Issuer, client: httpx.AsyncClient
) -> None:
    import time

    now = int(time.time())
    verifier = verifier_for(issuer, client, leeway_seconds=30.0)
    assert await verifier.verify(issuer.token(exp=now - 10)) is not None
    assert await verifier.verify(issuer.token(exp=now - 60)) is None


async def test_alg_none_is_refused(issuer: Issuer, client: httpx.AsyncClient) -> None:
    token = unsigned_token(issuer.claims(), kid="k1")
    assert await verifier_for(issuer, client).verify(token) is None


async def test_hmac_signed_with_the_public_key_is_refused(issuer: Issuer, client: httpx.AsyncClient) -> None:
    token = hmac_with_public_key(issuer.claims(), issuer.keys[0])
    # Even with HS256 on the allow-list, a public key is never a shared secret.
    for algorithms in (ALGORITHMS, (*ALGORITHMS, "HS256")):
        assert await verifier_for(issuer, client, algorithms=algorithms).verify(token) is None


async def test_a_tampered_payload_is_refused(issuer: Issuer, client: httpx.AsyncClient) -> None:
    token = tampered(issuer.token(), scope="contacts:read contacts:delete consent:override")
    assert await verifier_for(issuer, client).verify(token) is None


async def test_an_algorithm_off_the_allow_list_is_refused(issuer: Issuer, client: httpx.AsyncClient) -> None:
    assert await verifier_for(issuer, client, algorithms=("ES256",)).verify(issuer.token()) is None


async def test_a_key_is_used_only_with_the_algorithm_it_declares(
    issuer: Issuer, client: httpx.AsyncClient
) -> None:
    key = issuer.keys[0]  # declared RS256 in the set
    token = issuer.token(rsa_key("k1", "PS256").__class__(key.kid, "PS256", key.private))
    assert await verifier_for(issuer, client).verify(token) is None


async def test_garbage_is_refused_without_fetching_keys(issuer: Issuer, client: httpx.AsyncClient) -> None:
    verifier = verifier_for(issuer, client)
    for credential in ("", "a.b.c", "not-a-token", "x" * 10_000 + ".a.b", "e30.e30.", "....."):
        assert await verifier.verify(credential) is None
    assert issuer.fetches == 0


async def test_an_unknown_kid_fetches_the_keys_again_for_a_rotated_key(
    issuer: Issuer, client: httpx.AsyncClient
) -> None:
    verifier = verifier_for(issuer, client)
    assert await verifier.verify(issuer.token()) is not None
    assert issuer.fetches == 1
    rotated = rsa_key("k3")
    issuer.keys.append(rotated)
    assert await verifier.verify(issuer.token(rotated)) is not None
    assert issuer.fetches == 2
    assert await verifier.verify(issuer.token(rotated)) is not None
    assert issuer.fetches == 2  # cached now


async def test_made_up_kids_refetch_at_most_once_per_interval(
    issuer: Issuer, client: httpx.AsyncClient
) -> None:
    verifier = verifier_for(issuer, client, min_refresh=3600)
    assert await verifier.verify(issuer.token()) is not None
    for n in range(20):
        assert await verifier.verify(issuer.token(headers={"kid": f"made-up-{n}"})) is None
    assert issuer.fetches == 1


async def test_an_unreachable_issuer_with_nothing_cached_is_unavailable_not_a_refusal(
    issuer: Issuer, client: httpx.AsyncClient
) -> None:
    issuer.available = False
    with pytest.raises(IdentityProviderUnavailable):
        await verifier_for(issuer, client).verify(issuer.token())


async def test_cached_keys_keep_working_while_the_issuer_is_down(
    issuer: Issuer, client: httpx.AsyncClient
) -> None:
    verifier = verifier_for(issuer, client)
    assert await verifier.verify(issuer.token()) is not None
    issuer.available = False
    assert await verifier.verify(issuer.token(issuer.keys[1])) is not None
    assert await verifier.verify(issuer.token(headers={"kid": "unknown"})) is None
