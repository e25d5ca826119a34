"""What an operator sees of the gateway: Prometheus metrics, structured logs, OpenTelemetry traces.

Nothing here is needed to answer a request; every part is fed through seams the rest of the gateway
exposes (the ASGI middleware in ``gateway/http/observation.py``, a Strawberry extension, the provider
clients' :class:`~gateway.providers.observation.UpstreamObserver`) and can be switched off by setting.
This package imports only ``gateway.core`` and ``gateway.config`` of the gateway: it is a leaf the
edge and the composition root plug in.
"""

from __future__ import annotations

__all__: list[str] = []
