"""A minimal HTTP/1.1 keep-alive client on asyncio streams, for the load generator only.

Why not httpx here: ``httpx.AsyncClient`` spends more CPU per request (its connection pool and anyio
layers) than the gateway spends on a small query, and more still under concurrency; since the load
generator shares the cores with the server, it would measure itself.  This client does only what a
request needs, a small fraction of that.  It speaks just what the
benchmark needs: one request at a time per connection, ``Content-Length`` or chunked bodies, no
compression, reconnecting after ``Connection: close`` or a broken connection.  The gateway's upstream
calls and the direct baseline still use httpx, as production does.
"""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["RawConnection"]


class RawConnection:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self._reader, self._writer

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """``(status, body)``; any transport failure closes the connection and raises ``OSError``."""
        try:
            return await self._exchange(method, path, body, headers or {})
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            await self.close()
            raise OSError(f"{type(exc).__name__}: {exc}") from None

    async def _exchange(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        reader, writer = await self._connect()
        lines = [f"{method} {path} HTTP/1.1", f"host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body or method == "POST":
            lines.append(f"content-length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        fields = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        if "content-length" in fields:
            content = await reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            content = await self._chunked(reader)
        else:  # the body runs to the end of the connection
            content = await reader.read()
            fields["connection"] = "close"
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return status, content

    @staticmethod
    async def _chunked(reader: asyncio.StreamReader) -> bytes:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # no trailers are sent to us; the empty line ends it
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
