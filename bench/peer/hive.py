"""Starting Hive Gateway (the peer) as a process against a pair of emulators.

One Node.js process (``--fork 1``: no cluster workers, like our one-process gateway), bound to the
loopback, serving the composed supergraph.  The emulators' URLs and credentials travel in its
environment (the supergraph reads ``{env.PEER_*}`` at request time), never on its command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from pathlib import Path

import httpx

from bench.peer.install import hive_gateway_bin
from bench.servers import CC_TOKEN, GR_KEY, Server

__all__ = ["start_hive"]

STARTUP_TIMEOUT = 120.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def start_hive(
    name: str,
    *,
    peer_dir: Path,
    supergraph: Path,
    cc_url: str,
    gr_url: str,
    log_dir: Path,
    client: httpx.AsyncClient,
) -> Server:
    """Hive Gateway serving ``supergraph`` against the emulators at ``cc_url`` and ``gr_url``, ready."""
    port = _free_port()
    run_dir = log_dir / f"{name}-cwd"  # Hive Gateway reads any gateway/mesh config it finds in its cwd
    run_dir.mkdir(exist_ok=True)
    log_path = log_dir / f"{name}.log"
    env = {
        **os.environ,
        "PEER_CC_URL": cc_url,
        "PEER_CC_ACCESS_TOKEN": CC_TOKEN,
        "PEER_GR_URL": gr_url + "/",
        "PEER_GR_API_KEY": GR_KEY,
    }
    command = [str(hive_gateway_bin(peer_dir)), "supergraph", str(supergraph)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--fork", "1"]
    with open(log_path, "wb") as log:
        process = await asyncio.create_subprocess_exec(
            *command, cwd=run_dir, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT
        )
    server = Server(name, "hive-gateway", process, port, process.pid, log_path)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        with contextlib.suppress(httpx.TransportError):
            if (await client.get(f"{server.url}/readiness")).status_code == 200:
                return server
        if process.returncode is not None or time.monotonic() > deadline:
            await server.stop()
            raise RuntimeError(f"{name} is not answering:\n{server.log_tail()}")
        await asyncio.sleep(0.1)
