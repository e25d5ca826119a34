"""Bearer auth (401), the documented limits (429 ``throttled`` at more than 4 requests/second per token,
429 ``quota_exceeded`` past the daily quota), and the OAuth2 token endpoint with expiring tokens."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from emulators.constant_contact import ConstantContactEmulatorSettings
from emulators.constant_contact.limits import RateLimits
from emulators.control import Clock

from .conftest import SMALL_ACCOUNT, ConstantContact

TOKEN_PATH = "/oauth2/default/v1/token"
DOCUMENTED_LIMITS = ConstantContactEmulatorSettings(seed=11, contacts=100)
TWO_TOKENS = replace(DOCUMENTED_LIMITS, access_tokens=("token-a", "token-b"))
SMALL_QUOTA = replace(SMALL_ACCOUNT, daily_quota=5)
BASIC = "Basic " + base64.b64encode(b"demo-cc-client:demo-cc-secret").decode()
WRONG_SECRET = "Basic " + base64.b64encode(b"demo-cc-client:wrong").decode()
REFRESH = {"grant_type": "refresh_token", "refresh_token": "demo-cc-refresh-token"}
UNAUTHORIZED = {"error_key": "unauthorized", "error_message": "Unauthorized"}


class FixedClock(Clock):
    def __init__(self) -> None:
        super().__init__()
        self.moment = datetime(2026, 11, 22, 23, 59, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment


async def refresh(cc: ConstantContact, form: dict[str, str] | None = None, **headers: str) -> Any:
    return await cc.http.post(TOKEN_PATH, data=form or REFRESH, headers={"authorization": BASIC, **headers})


# -- 401 -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer demo-cc-access-tokenX",
        "Bearer wrong-token",
        "Basic ZGVtbzpkZW1v",
        "demo-cc-access-token",
    ],
)
async def test_requests_without_a_valid_bearer_token_are_401_single_objects(
    cc: ConstantContact, authorization: str | None
) -> None:
    headers = {"authorization": authorization} if authorization is not None else {}

    response = await cc.http.get("/v3/contacts", headers=headers)

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert await cc.operations() == {"getContacts": 1, "unauthorized": 1}


async def test_the_bearer_scheme_is_case_insensitive(cc: ConstantContact) -> None:
    response = await cc.http.get(
        "/v3/contact_lists", headers={"authorization": "bearer demo-cc-access-token"}
    )

    assert response.status_code == 200


# -- per-second limit ----------------------------------------------------------------------------------


def test_the_defaults_are_the_documented_limits() -> None:
    settings = ConstantContactEmulatorSettings()

    assert settings.requests_per_second == 4.0 and settings.burst == 4 and settings.daily_quota == 10_000
    assert settings.lists == 8 and round(settings.contacts * settings.deleted_fraction) == 300


def freeze(cc: ConstantContact, monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """Stop the emulator's clock (in process or in its server thread alike); move it via the list."""
    clock = cc.app.state.control.clock
    moment = [clock.now()]
    monkeypatch.setattr(clock, "now", lambda: moment[0])
    return moment


@pytest.mark.parametrize("cc_settings", [DOCUMENTED_LIMITS])
async def test_more_than_four_requests_a_second_are_throttled(
    cc: ConstantContact, monkeypatch: pytest.MonkeyPatch
) -> None:
    moment = freeze(cc, monkeypatch)
    responses = [await cc.get("/v3/contact_lists") for _ in range(8)]

    assert [r.status_code for r in responses] == [200] * 4 + [429] * 4
    throttled = [r.json() for r in responses[4:]]
    assert all(body == {"error_key": "throttled", "error_message": "Too Many Requests"} for body in throttled)
    operations = await cc.operations()
    assert operations["throttled"] == 4 and operations["getLists"] == 8

    moment[0] += timedelta(seconds=0.25)  # one request's worth comes back
    assert [(await cc.get("/v3/contact_lists")).status_code for _ in range(2)] == [200, 429]
    moment[0] += timedelta(seconds=1.0)  # a whole bucket
    statuses = [(await cc.get("/v3/contact_lists")).status_code for _ in range(5)]
    assert statuses == [200] * 4 + [429]


@pytest.mark.parametrize("cc_settings", [TWO_TOKENS])
async def test_each_token_has_its_own_per_second_limit(
    cc: ConstantContact, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze(cc, monkeypatch)
    cc.token = "token-a"
    first = [(await cc.get("/v3/contact_lists")).status_code for _ in range(6)]
    cc.token = "token-b"
    second = [(await cc.get("/v3/contact_lists")).status_code for _ in range(4)]

    assert first == [200] * 4 + [429] * 2
    assert second == [200] * 4  # token-a's empty bucket does not touch token-b's


def test_the_bucket_admits_exactly_the_burst_then_the_rate() -> None:
    clock = FixedClock()
    limits = RateLimits(clock, rate=4.0, burst=4, daily_quota=10_000)

    burst = [limits.admit("t") for _ in range(5)]
    clock.moment += timedelta(seconds=0.24)
    too_soon = limits.admit("t")
    clock.moment += timedelta(seconds=0.02)
    refilled = [limits.admit("t"), limits.admit("t")]

    assert (
        burst[:4] == [None] * 4
        and burst[4] is not None
        and burst[4].errors == [("throttled", "Too Many Requests")]
    )
    assert too_soon is not None and refilled[0] is None and refilled[1] is not None


def test_a_client_keeping_to_four_a_second_is_never_throttled() -> None:
    clock = FixedClock()
    limits = RateLimits(clock, rate=4.0, burst=4, daily_quota=10_000)
    refusals = []
    for _ in range(400):
        refusals.append(limits.admit("t"))
        clock.moment += timedelta(seconds=0.25)

    assert refusals == [None] * 400


# -- daily quota ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("cc_settings", [SMALL_QUOTA])
async def test_the_daily_quota_answers_quota_exceeded_until_midnight_utc(cc: ConstantContact) -> None:
    await cc.http.get("/v3/contacts")  # a 401 is not counted against the quota
    statuses = [(await cc.get("/v3/contact_lists")).status_code for _ in range(5)]
    exceeded = await cc.get("/v3/contacts")

    assert statuses == [200] * 5
    assert exceeded.status_code == 429
    assert exceeded.json() == {"error_key": "quota_exceeded", "error_message": "Limit Exceeded"}
    assert (await cc.operations())["quota_exceeded"] == 1

    now = datetime.fromisoformat(
        (await cc.http.post("/_emulator/clock", json={"advance_seconds": 0})).json()["now"]
    )
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    await cc.advance_clock((midnight - now).total_seconds() - 5)
    assert (await cc.get("/v3/contact_lists")).status_code == 429
    await cc.advance_clock(6)
    assert (await cc.get("/v3/contact_lists")).status_code == 200


def test_the_quota_is_counted_per_token_and_per_utc_day() -> None:
    clock = FixedClock()
    limits = RateLimits(clock, rate=1000.0, burst=1000, daily_quota=2)

    today = [limits.admit("a"), limits.admit("a"), limits.admit("a"), limits.admit("b")]
    clock.moment += timedelta(minutes=1)  # 00:00 UTC: a new day
    tomorrow = limits.admit("a")

    assert today[:2] == [None, None] and today[2] is not None and today[3] is None
    assert today[2].errors == [("quota_exceeded", "Limit Exceeded")]
    assert tomorrow is None and limits.used_today("a") == 1


# -- the token endpoint --------------------------------------------------------------------------------


async def test_a_refresh_issues_a_new_access_token_that_is_accepted(cc: ConstantContact) -> None:
    response = await refresh(cc)

    assert response.status_code == 200
    grant = response.json()
    assert set(grant) == {"token_type", "expires_in", "access_token", "scope", "refresh_token"}
    assert grant["token_type"] == "Bearer" and grant["expires_in"] == 86400
    assert grant["refresh_token"] == "demo-cc-refresh-token" and "offline_access" in grant["scope"]
    assert response.headers["cache-control"] == "no-store"
    cc.token = grant["access_token"]
    assert (await cc.get("/v3/contact_lists")).status_code == 200
    assert (await cc.operations())["token"] == 1


async def test_client_credentials_may_come_as_form_fields(cc: ConstantContact) -> None:
    form = {**REFRESH, "client_id": "demo-cc-client", "client_secret": "demo-cc-secret"}

    response = await cc.http.post(TOKEN_PATH, data=form)

    assert response.status_code == 200 and response.json()["access_token"]


@pytest.mark.parametrize(
    ("form", "headers", "status", "error"),
    [
        (REFRESH, {"authorization": WRONG_SECRET}, 401, "invalid_client"),
        (REFRESH, {"authorization": "Basic !!!"}, 401, "invalid_client"),
        (REFRESH, {}, 401, "invalid_client"),
        ({**REFRESH, "client_id": "demo-cc-client", "client_secret": "nope"}, {}, 401, "invalid_client"),
        (
            {**REFRESH, "client_id": "demo-cc-client", "client_secret": "demo-cc-secret"},
            {"authorization": BASIC},
            400,
            "invalid_request",
        ),
        ({**REFRESH, "refresh_token": "not-a-refresh-token"}, {"authorization": BASIC}, 400, "invalid_grant"),
        ({"grant_type": "refresh_token"}, {"authorization": BASIC}, 400, "invalid_request"),
        (
            {"grant_type": "authorization_code", "code": "x"},
            {"authorization": BASIC},
            400,
            "unsupported_grant_type",
        ),
        ({"refresh_token": "demo-cc-refresh-token"}, {"authorization": BASIC}, 400, "invalid_request"),
    ],
)
async def test_token_errors_come_in_oauth2_shape_without_secrets(
    cc: ConstantContact, form: dict[str, str], headers: dict[str, str], status: int, error: str
) -> None:
    response = await cc.http.post(TOKEN_PATH, data=form, headers=headers)

    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error", "error_description"} and body["error"] == error
    assert "demo-cc-secret" not in response.text and "demo-cc-refresh-token" not in response.text
    assert ("www-authenticate" in response.headers) == (
        status == 401 and "Basic" in headers.get("authorization", "")
    )


async def test_a_json_token_request_is_an_invalid_request(cc: ConstantContact) -> None:
    response = await cc.http.post(TOKEN_PATH, json=REFRESH, headers={"authorization": BASIC})

    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


async def test_expiring_tokens_on_the_control_plane_makes_clients_refresh(cc: ConstantContact) -> None:
    assert (await cc.get("/v3/contact_lists")).status_code == 200

    expired = await cc.http.post("/_emulator/tokens/expire")
    rejected = await cc.get("/v3/contact_lists")
    cc.token = (await refresh(cc)).json()["access_token"]
    accepted = await cc.get("/v3/contact_lists")

    assert expired.json() == {"expired": 1}
    assert rejected.status_code == 401 and rejected.json() == UNAUTHORIZED
    assert accepted.status_code == 200
    assert (await cc.http.get("/_emulator/tokens")).json() == {"valid_access_tokens": 1}


@pytest.mark.parametrize("cc_settings", [TWO_TOKENS])
async def test_chosen_tokens_can_be_expired_and_reset_restores_them(cc: ConstantContact) -> None:
    expired = await cc.http.post("/_emulator/tokens/expire", json={"tokens": ["token-a", "unknown"]})
    cc.token = "token-b"
    still_valid = await cc.get("/v3/contact_lists")
    cc.token = "token-a"
    rejected = await cc.get("/v3/contact_lists")
    await cc.http.post("/_emulator/reset")
    restored = await cc.get("/v3/contact_lists")

    assert expired.json() == {"expired": 1}
    assert (still_valid.status_code, rejected.status_code, restored.status_code) == (200, 401, 200)


async def test_the_expire_route_refuses_a_malformed_body(cc: ConstantContact) -> None:
    response = await cc.http.post("/_emulator/tokens/expire", json={"tokens": "all"})

    assert response.status_code == 400


@pytest.mark.parametrize("cc_settings", [replace(SMALL_ACCOUNT, access_token_lifetime_seconds=60)])
async def test_issued_tokens_expire_with_the_emulator_clock(cc: ConstantContact) -> None:
    cc.token = (await refresh(cc)).json()["access_token"]
    await cc.advance_clock(59)
    before = await cc.get("/v3/contact_lists")
    await cc.advance_clock(2)
    after = await cc.get("/v3/contact_lists")
    cc.token = "demo-cc-access-token"  # configured tokens do not expire by time

    assert (before.status_code, after.status_code) == (200, 401)
    assert (await cc.get("/v3/contact_lists")).status_code == 200


@pytest.mark.parametrize("cc_settings", [replace(SMALL_ACCOUNT, rotate_refresh_tokens=True)])
async def test_rotating_refresh_tokens_invalidate_the_one_used(cc: ConstantContact) -> None:
    first = (await refresh(cc)).json()
    reused = await refresh(cc)
    second = await refresh(cc, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})

    assert first["refresh_token"] != "demo-cc-refresh-token"
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert second.status_code == 200 and second.json()["refresh_token"] != first["refresh_token"]


async def test_revoked_refresh_tokens_are_invalid_grants(cc: ConstantContact) -> None:
    revoked = await cc.http.post("/_emulator/tokens/revoke-refresh")
    response = await refresh(cc)

    assert revoked.json() == {"revoked": 1}
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_settings_never_show_credentials() -> None:
    shown = repr(ConstantContactEmulatorSettings())

    assert "demo-cc-secret" not in shown and "demo-cc-access-token" not in shown
    assert "demo-cc-refresh-token" not in shown and "demo-cc-client" in shown


async def test_credentials_never_appear_on_the_control_plane(cc: ConstantContact) -> None:
    await refresh(cc)
    await cc.get("/v3/contacts")

    for path in ("/_emulator/ground-truth", "/_emulator/requests", "/_emulator/tokens", "/_emulator/faults"):
        text = (await cc.http.get(path)).text
        assert "demo-cc" not in text
