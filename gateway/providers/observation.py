"""The seam through which every upstream HTTP exchange can be watched (metrics, traces, access logs).

A provider client is handed an :class:`UpstreamObserver` at construction (the composition root,
``gateway/bootstrap.py``, passes the one the application built; the default watches nothing).  Around
each HTTP exchange -- every attempt, retries included -- the client calls
:meth:`UpstreamObserver.exchange_started`, sends the headers the returned :class:`ExchangeObservation`
asks for (trace context), and reports how the exchange ended with :meth:`ExchangeObservation.finished`.

``methods`` names what the exchange carries: one REST route template for Constant Contact
(``GET /v3/contacts/{id}``: ids replaced, never a query string, which may hold addresses), and for
GetResponse the JSON-RPC method of every call in the POST, in order -- a batch of three calls is one
exchange with three methods.  ``statuses`` answers each method in the same order: the HTTP status as
text, ``"rpc_error"`` for a JSON-RPC call refused inside a successful reply, or ``"timeout"`` /
``"unreachable"`` / ``"invalid"`` when no usable answer came back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, Protocol

from gateway.core.model import Provider

__all__ = [
    "NO_OBSERVER",
    "STATUS_INVALID",
    "STATUS_RPC_ERROR",
    "STATUS_TIMEOUT",
    "STATUS_UNREACHABLE",
    "ExchangeObservation",
    "UpstreamObserver",
]

STATUS_RPC_ERROR: Final = "rpc_error"
STATUS_TIMEOUT: Final = "timeout"
STATUS_UNREACHABLE: Final = "unreachable"
STATUS_INVALID: Final = "invalid"


class ExchangeObservation(Protocol):
    @property
    def headers(self) -> Mapping[str, str]:
        """Headers to send with the exchange (W3C trace context when tracing is on)."""
        ...

    def finished(self, statuses: Sequence[str]) -> None:
        """The exchange ended; one status per method named at the start."""
        ...


class UpstreamObserver(Protocol):
    def exchange_started(
        self, provider: Provider, http_method: str, methods: Sequence[str], retry_number: int
    ) -> ExchangeObservation:
        """An exchange is about to be sent; ``retry_number`` is 0 for a first attempt."""
        ...


class _Unobserved:
    headers: Mapping[str, str] = {}

    def finished(self, statuses: Sequence[str]) -> None:
        return None


class _NoObserver:
    _unobserved = _Unobserved()

    def exchange_started(
        self, provider: Provider, http_method: str, methods: Sequence[str], retry_number: int
    ) -> ExchangeObservation:
        return self._unobserved


NO_OBSERVER: Final[UpstreamObserver] = _NoObserver()
"""Watches nothing: the default of every client."""
