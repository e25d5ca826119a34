"""Which webhook URLs may be called: https to public addresses only, unless the setting allows more."""

from __future__ import annotations

import pytest

from gateway.webhooks import TargetPolicy, WebhookTargetRefused


def resolving_to(*answers: list[str]) -> tuple[TargetPolicy, list[str]]:
    """A policy whose resolver gives ``answers`` in turn (a name that changes its answer: rebinding)."""
    asked: list[str] = []
    queue = list(answers)

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(f"{host}:{port}")
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return TargetPolicy(allow_private=False, resolver=resolve), asked


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",  # not https
        "ftp://hooks.example.com/x",
        "https://127.0.0.1/x",
        "https://[::1]/x",
        "https://10.1.2.3/x",
        "https://192.168.0.10/x",
        "https://172.16.5.4/x",
        "https://169.254.169.254/latest/meta-data",  # link-local: cloud metadata
        "https://224.0.0.1/x",  # multicast
        "https://0.0.0.0/x",
        "https://240.0.0.1/x",  # reserved
        "https://[::ffff:127.0.0.1]/x",  # IPv4 mapped into IPv6
        "https://[fe80::1]/x",
        "https://[fc00::1]/x",
        "https://user:s3cr3t@hooks.example.com/x",
        "https:///x",
        "https://hooks.example.com:notaport/x",
    ],
)
async def test_refused_targets(url: str) -> None:
    policy, _ = resolving_to(["93.184.215.14"])
    with pytest.raises(WebhookTargetRefused) as refused:
        await policy.check(url)
    assert refused.value.code == "WEBHOOK_TARGET_REFUSED"
    assert "s3cr3t" not in refused.value.message


async def test_a_name_is_refused_when_any_of_its_addresses_is_not_public() -> None:
    policy, asked = resolving_to(["93.184.215.14", "10.0.0.5"])
    with pytest.raises(WebhookTargetRefused, match="non-public"):
        await policy.check("https://hooks.example.com/x?token=abc")
    assert asked == ["hooks.example.com:443"]


async def test_a_public_name_is_pinned_to_the_address_checked() -> None:
    policy, _ = resolving_to(["93.184.215.14"])
    target = await policy.check("https://hooks.example.com:8443/in?x=1")
    assert target.address == "93.184.215.14" and target.host == "hooks.example.com"
    assert target.pinned_url == "https://93.184.215.14:8443/in?x=1"


async def test_rebinding_after_registration_is_caught_at_delivery() -> None:
    policy, _ = resolving_to(["93.184.215.14"], ["127.0.0.1"])
    await policy.check("https://rebind.example.com/x")  # registration: public
    with pytest.raises(WebhookTargetRefused):
        await policy.check("https://rebind.example.com/x")  # before a delivery: loopback now


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    async def fails(host: str, port: int) -> list[str]:
        raise OSError("no such name")

    with pytest.raises(WebhookTargetRefused, match="does not resolve"):
        await TargetPolicy(allow_private=False, resolver=fails).check("https://nowhere.invalid/x")


async def test_the_setting_allows_http_and_loopback() -> None:
    policy = TargetPolicy(allow_private=True)
    target = await policy.check("http://127.0.0.1:8080/x")
    assert target.pinned_url == "http://127.0.0.1:8080/x"
