"""A gateway in a process of its own: ``python -m gateway.cli serve --port 0``, configured only by its
environment, as a deployment runs it.

The port is the one uvicorn reports on its start-up line (it binds port 0, so the kernel picks a free
one and no other test can race for it).  The process's stderr is drained all along (a full pipe would
stall the server) and its tail is shown when it fails to start.  Stopping sends SIGTERM, uvicorn's
graceful shutdown, and kills only if that does not end it.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path
from types import TracebackType

from pydantic import SecretStr

from gateway.config import Settings

__all__ = ["GatewayProcess", "settings_environment"]

ROOT = Path(__file__).resolve().parents[2]
_STARTED = re.compile(r"Uvicorn running on http://([\d.]+):(\d+)")


def settings_environment(settings: Settings) -> dict[str, str]:
    """The environment variables that make ``Settings()`` equal ``settings`` in another process."""
    variables: dict[str, str] = {}
    for name, value in settings.model_dump(exclude_unset=True).items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        variables[name.upper()] = str(value).lower() if isinstance(value, bool) else str(value)
    return variables


def _clean_environment() -> dict[str, str]:
    """This process's environment without any gateway setting, so only the test's settings apply."""
    settings = {name.upper() for name in Settings.model_fields}
    return {name: value for name, value in os.environ.items() if name.upper() not in settings}


class GatewayProcess:
    def __init__(self, settings: Settings) -> None:
        environment = _clean_environment()
        environment.update(settings_environment(settings))
        # uvicorn names the port it bound at INFO.
        environment.update(LOG_LEVEL="info")
        # This tree's gateway package, whatever else the interpreter has installed.
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH")]))
        self._environment = environment
        self._process: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._tail: deque[str] = deque(maxlen=40)
        self.url = ""

    def start(self) -> GatewayProcess:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve", "--host", "127.0.0.1", "--port", "0"],
            env=self._environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._drain, name=f"gateway-{self._process.pid}-stderr", daemon=True).start()
        return self

    def wait_until_serving(self, timeout: float = 60.0) -> str:
        """The URL once uvicorn says it is serving; fails with the process's output otherwise."""
        while not self.url:
            try:
                line = self._lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(self._failure(f"did not start within {timeout} s")) from None
            if line is None:
                raise AssertionError(self._failure("exited before serving"))
            found = _STARTED.search(line)
            if found:
                self.url = f"http://{found[1]}:{found[2]}"
        return self.url

    def _drain(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        for line in self._process.stderr:
            self._tail.append(line.rstrip())
            self._lines.put(line)
        self._lines.put(None)

    def _failure(self, what: str) -> str:
        return f"gateway process {what}:\n" + "\n".join(self._tail)

    def stop(self, timeout: float = 15.0) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def __enter__(self) -> GatewayProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
