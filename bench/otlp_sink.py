"""A stand-in OpenTelemetry collector for benchmarks: ``python -m bench.otlp_sink``.

It accepts every OTLP/HTTP export (``POST /v1/traces``) with 200 and throws the spans away, so a
gateway measured with tracing on pays the whole cost of making and exporting its spans but never
waits on a real collector.  Like ``bench.serve`` it binds ``127.0.0.1:0`` and prints one JSON line
``{"port": N, "pid": P}`` before serving; it runs in its own process so its work does not share the
load generator's interpreter.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.harness import ROOT

__all__ = ["otlp_sink"]


class _Sink(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


@contextlib.asynccontextmanager
async def otlp_sink(log_dir: Path) -> AsyncIterator[str]:
    """A sink process for the duration of the block; yields its base URL (``OTEL_EXPORTER_OTLP_ENDPOINT``)."""
    with open(log_dir / "otlp-sink.log", "wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.otlp_sink", stdout=asyncio.subprocess.PIPE, stderr=log, cwd=ROOT
        )
    assert process.stdout is not None
    try:
        info = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
        yield f"http://127.0.0.1:{info['port']}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        await process.wait()


def main() -> int:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    print(json.dumps({"port": server.server_address[1], "pid": os.getpid()}), flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
