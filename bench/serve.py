"""Run one part of the stack as its own uvicorn server process: ``python -m bench.serve KIND``.

``KIND`` is ``constant-contact``, ``getresponse`` or ``gateway``; the environment variable
``BENCH_SERVE_SETTINGS`` is a JSON object of that part's settings (``ConstantContactEmulatorSettings``,
``GetResponseEmulatorSettings`` or the gateway's ``Settings``), so the harness can set what the
``gateway emulate`` command has no flags for (rates, quotas, account sizes).  Settings travel in the
environment, not the command line, so the credentials in them do not show in the process list.  The
gateway is ``create_app(Settings(...))`` under uvicorn with the same defaults as ``gateway serve`` (one
worker, uvloop and httptools when installed, no access log).

The process binds ``127.0.0.1:0`` itself and prints one JSON line ``{"port": N, "pid": P}`` before
serving, so parallel benchmark runs never fight over ports.  It stops cleanly on SIGINT or SIGTERM.

Bench-only switches, for the measurements that need them:

- ``--no-caches`` removes Strawberry's ``ParserCache`` and ``ValidationCache`` from the gateway's schema
  (the gateway has no setting for that), to measure what the caches buy;
- ``--profile-control`` puts :class:`ProfileControl` in front of the gateway: ``POST
  /_bench/profile/start`` starts sampling the whole server with pyinstrument, ``POST
  /_bench/profile/stop`` (body ``{"path": ...}``) stops and saves the session there, so a profile holds
  exactly the requests sent in between (not start-up).  Every other request passes straight through.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import socket
import sys
from collections.abc import Sequence
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["SETTINGS_VARIABLE", "ProfileControl", "build_app", "main"]

SETTINGS_VARIABLE = "BENCH_SERVE_SETTINGS"
KINDS = ("constant-contact", "getresponse", "gateway")


def _tuples(settings: dict[str, Any], *names: str) -> dict[str, Any]:
    """JSON has no tuples; the emulators' frozen settings want them for their credential lists."""
    return {key: tuple(value) if key in names else value for key, value in settings.items()}


class ProfileControl:
    """Start and stop a pyinstrument profiler of this whole process over HTTP (see the module doc)."""

    PREFIX = "/_bench/profile/"

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._profiler: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.PREFIX):
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        action = scope["path"][len(self.PREFIX) :]
        if action == "start" and self._profiler is None:
            from pyinstrument import Profiler

            # "disabled": sample the thread whatever it runs, so idle event-loop time shows too.
            self._profiler = Profiler(interval=0.001, async_mode="disabled")
            self._profiler.start()
            answer: dict[str, Any] = {"started": True}
        elif action == "stop" and self._profiler is not None:
            profiler, self._profiler = self._profiler, None
            session = profiler.stop()
            path = json.loads(body)["path"]
            session.save(path)
            answer = {"saved": path, "duration": session.duration}
        else:
            answer = {"error": f"cannot {action} now"}
        payload = json.dumps(answer).encode()
        status = 400 if "error" in answer else 200
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def build_app(kind: str, settings: dict[str, Any], *, no_caches: bool = False) -> ASGIApp:
    if kind == "constant-contact":
        from emulators.constant_contact import ConstantContactEmulatorSettings
        from emulators.constant_contact import create_app as create_cc

        return create_cc(
            ConstantContactEmulatorSettings(**_tuples(settings, "access_tokens", "refresh_tokens"))
        )
    if kind == "getresponse":
        from emulators.getresponse import GetResponseEmulatorSettings
        from emulators.getresponse import create_app as create_gr

        return create_gr(GetResponseEmulatorSettings(**_tuples(settings, "api_keys")))
    from gateway import app as app_module
    from gateway.config import Settings

    gateway_settings = Settings(**settings)
    if no_caches:
        from gateway.schema.schema import build_schema

        return app_module.create_app(gateway_settings, schema=build_schema(gateway_settings, caches=False))
    return app_module.create_app(gateway_settings)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--no-caches", action="store_true")
    parser.add_argument("--profile-control", action="store_true")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = json.loads(os.environ.get(SETTINGS_VARIABLE, "{}"))
    app = build_app(args.kind, settings, no_caches=args.no_caches)
    if args.kind == "gateway":
        from gateway.config import Settings
        from gateway.observability.logs import configure_logging
        from gateway.runtime import tune_garbage_collector

        # As `gateway serve` does: its format, level and access line (to the server's log file).
        configure_logging(Settings(**settings))

        if Settings().gc_tuning:  # as `gateway serve` does
            tune_garbage_collector()
    if args.profile_control:
        app = ProfileControl(app)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    # log_config=None: uvicorn keeps the logging configured above instead of installing its own.
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="auto", log_config=None)
    server = uvicorn.Server(config)

    print(json.dumps({"port": sock.getsockname()[1], "pid": os.getpid()}), flush=True)
    # uvicorn re-raises the SIGINT it shut down on; the shutdown itself was clean.
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
