"""Real-HTTP emulators shared by a test session: starting uvicorn costs ~0.3 s, so each distinct
emulator (factory and settings) is started once and every test that needs it over a socket reuses it
(tests reset its state through ``/_emulator/reset`` first)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from gateway.serving import BackgroundServer

__all__ = ["ServerPool"]


class ServerPool:
    def __init__(self) -> None:
        self._running: dict[tuple[Callable[..., Any], Hashable], BackgroundServer] = {}

    def get(self, create_app: Callable[[Any], Any], settings: Hashable) -> BackgroundServer:
        key = (create_app, settings)
        if key not in self._running:
            self._running[key] = BackgroundServer(create_app(settings)).start()
        return self._running[key]

    def stop_all(self) -> None:
        for server in self._running.values():
            server.stop()
        self._running.clear()
