"""One delivery attempt: a signed POST to the address the target policy approved.

The request goes to the approved IP address (``CheckedTarget.pinned_url``) with the URL's host in
the ``Host`` header and as the TLS server name, so the certificate is still checked against the
host while the connection cannot be steered elsewhere by a second DNS answer.  Redirects are not
followed (a redirect could point inside).  Only the status counts; at most ``max_answer_bytes`` of
the answer are read.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

import httpx

from .targets import CheckedTarget

__all__ = ["DeliveryAttempt", "HttpSender", "Sender"]


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    status: int | None
    """The receiver's HTTP status; None when no answer came (``error`` says why)."""
    error: str | None = None


class Sender(Protocol):
    async def send(self, target: CheckedTarget, headers: dict[str, str], body: bytes) -> DeliveryAttempt: ...


class HttpSender:
    """Sends over ``client`` (the caller owns and closes it)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        user_agent: str = "deleted-contacts-gateway-webhooks",
        total_timeout: float,
        max_answer_bytes: int = 65_536,
    ) -> None:
        """``total_timeout`` bounds a whole attempt (the client's timeouts bound each read and write:
        a receiver answering a byte at a time would outlast them)."""
        self._client = client
        self._user_agent = user_agent
        self._max_answer_bytes = max_answer_bytes
        self._total_timeout = total_timeout

    async def send(self, target: CheckedTarget, headers: dict[str, str], body: bytes) -> DeliveryAttempt:
        default_port = 443 if target.url.startswith("https:") else 80
        host = f"[{target.host}]" if ":" in target.host else target.host
        request_headers = {
            **headers,
            "host": host if target.port == default_port else f"{host}:{target.port}",
            "content-type": "application/json",
            "user-agent": self._user_agent,
        }
        request = self._client.build_request(
            "POST",
            target.pinned_url,
            content=body,
            headers=request_headers,
            extensions={"sni_hostname": target.host},
        )
        try:
            async with asyncio.timeout(self._total_timeout):
                return await self._exchange(request)
        except TimeoutError:
            return DeliveryAttempt(None, "timed out")

    async def _exchange(self, request: httpx.Request) -> DeliveryAttempt:
        try:
            response = await self._client.send(request, stream=True, follow_redirects=False)
            try:
                # Read a little of the answer (so a short one leaves the connection reusable), never
                # all of it: a receiver could answer without end.
                read = 0
                async for chunk in response.aiter_raw():
                    read += len(chunk)
                    if read > self._max_answer_bytes:
                        break
            finally:
                await response.aclose()
        except httpx.TimeoutException:
            return DeliveryAttempt(None, "timed out")
        except httpx.HTTPError as error:
            # The exception's class, not its text: the text could quote the URL's query.
            return DeliveryAttempt(None, f"no answer ({type(error).__name__})")
        return DeliveryAttempt(response.status_code)
