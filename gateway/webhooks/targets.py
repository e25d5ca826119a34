"""Which URLs a webhook may call: ``https`` to public addresses only, unless the setting allows more.

A webhook URL is the caller's choice, and the dispatcher calls it from inside the deployment, so an
unchecked URL would let a caller reach the gateway's own network (metadata services, databases, admin
ports).  The host is resolved and *every* address must be public (not loopback, private, link-local,
multicast, reserved or unspecified; an IPv4 address mapped into IPv6 is judged as IPv4).  The check
runs at registration and again before each delivery, and the delivery connects to the address the
check approved (``CheckedTarget.address``), so a name that resolves elsewhere a moment later (DNS
rebinding) cannot lead inside.

``allow_private`` (``WEBHOOK_ALLOW_PRIVATE_TARGETS``) lifts both rules: plain ``http`` and any
address, for tests and for receivers inside a trusted network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from .errors import WebhookTargetRefused

__all__ = ["CheckedTarget", "Resolver", "TargetPolicy", "is_public", "system_resolver"]

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""Host and port to the addresses the name resolves to."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's resolver, as a connection would use it."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


@dataclass(frozen=True, slots=True)
class CheckedTarget:
    url: str
    host: str
    port: int
    address: str
    """The approved address the delivery connects to."""

    @property
    def pinned_url(self) -> str:
        """``url`` with its host replaced by ``address`` (the ``Host`` header and TLS name stay ``host``)."""
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if ":" in self.address else self.address
        return parts._replace(netloc=f"{literal}:{self.port}").geturl()


class TargetPolicy:
    def __init__(
        self, *, allow_private: bool, resolver: Resolver = system_resolver, resolve_timeout: float = 5.0
    ) -> None:
        self.allow_private = allow_private
        self._resolve = resolver
        self._timeout = resolve_timeout

    def _parse(self, url: str) -> SplitResult:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018  (raises on a port that is not a number)
        except ValueError as error:
            raise WebhookTargetRefused("the webhook URL is not a valid URL") from error
        allowed = ("https", "http") if self.allow_private else ("https",)
        if parts.scheme not in allowed:
            raise WebhookTargetRefused("a webhook URL must use https")
        if not parts.hostname:
            raise WebhookTargetRefused("the webhook URL has no host")
        if parts.username is not None or parts.password is not None:
            # Credentials in a URL end up in logs and proxies; the signature authenticates instead.
            raise WebhookTargetRefused("a webhook URL may not carry a user name or password")
        if parts.fragment:
            raise WebhookTargetRefused("a webhook URL may not have a fragment")
        return parts

    async def check(self, url: str) -> CheckedTarget:
        """The URL's target, approved; ``WebhookTargetRefused`` (naming the host, never the whole URL,
        whose query may hold a token) otherwise."""
        parts = self._parse(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            addresses = [str(literal)]
        else:
            try:
                addresses = await asyncio.wait_for(self._resolve(host, port), self._timeout)
            except (OSError, TimeoutError) as error:
                raise WebhookTargetRefused(f"the webhook host {host} does not resolve") from error
        if not addresses:
            raise WebhookTargetRefused(f"the webhook host {host} does not resolve")
        if not self.allow_private:
            # Every address, not just the first: a client may pick any of them.
            for address in addresses:
                if not is_public(ipaddress.ip_address(address.split("%", 1)[0])):
                    raise WebhookTargetRefused(
                        f"the webhook host {host} resolves to a non-public address ({address})"
                    )
        return CheckedTarget(url=url, host=host, port=port, address=addresses[0])
