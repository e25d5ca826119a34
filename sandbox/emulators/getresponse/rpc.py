"""JSON-RPC 1.0 and 2.0 over one HTTP POST: envelopes, batches, notifications.

What the emulator answers (GetResponse documents "1.0 and 2.0 with Notifications and Batches"; the
finer points are JSON-RPC 2.0 §4-§6 unless noted):

- A request with ``"jsonrpc": "2.0"`` gets a 2.0 reply ``{"jsonrpc": "2.0", "result": ..., "id": ...}``
  (plus ``"error": null`` only if ``include_null_error_in_v2``; UNCONFIRMED which one GetResponse
  sends) or ``{"jsonrpc": "2.0", "error": {...}, "id": ...}``.  A request without ``jsonrpc`` is 1.0 and
  gets ``{"result": ..., "error": null, "id": ...}`` / ``{"result": null, "error": {...}, "id": ...}``.
  Any other ``jsonrpc`` value is an invalid request.
- The ``id`` (string, number or null) is echoed unchanged.  A request WITHOUT an ``id`` member is a
  notification (and so is a 1.0 request with ``"id": null``, per JSON-RPC 1.0): it is executed, nothing
  is answered, and a request that was only notifications gets HTTP 204 with an empty body.
- A batch is a JSON array; replies come back as an array in request order, notifications left out.
  An empty array is one ``Invalid Request`` error (not an array).
- Body not JSON: ``-32700 Parse error``; not a request object (or a bad ``id``/``method``):
  ``-32600 Invalid Request``, both with ``"id": null`` unless the id could be read.
- HTTP status: 200 for every reply, except that a single request whose error carries another
  ``http_status`` (the optional 403 for a bad API key) gets that status.  Inside a batch the status
  stays 200 because one status cannot describe several calls.

The methods themselves are behind ``dispatch(method, params)``, which returns the result or raises
``RpcError``.  Anything else it raises is reported as ``-32603 Internal error`` (and logged), never as
an HTTP 500 with a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from .errors import RpcError, internal_error, invalid_request, parse_error

__all__ = ["JsonRpcEndpoint", "RpcReply"]

logger = logging.getLogger(__name__)

Dispatch = Callable[[str, Any], Any]
_NO_ID = object()  # the request had no "id" member at all


@dataclass(frozen=True, slots=True)
class RpcReply:
    status_code: int
    body: bytes  # empty for 204


@dataclass(frozen=True, slots=True)
class _Answer:
    payload: dict[str, Any]
    http_status: int


class JsonRpcEndpoint:
    def __init__(self, dispatch: Dispatch, *, include_null_error_in_v2: bool = False) -> None:
        self._dispatch = dispatch
        self._include_null_error_in_v2 = include_null_error_in_v2

    def handle(self, body: bytes) -> RpcReply:
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return self._single(self._error_answer(parse_error(str(exc)), version="2.0", request_id=None))
        if isinstance(document, list):
            return self._batch(document)
        return self._single(self._answer(document))

    def _single(self, answer: _Answer | None) -> RpcReply:
        if answer is None:
            return RpcReply(204, b"")
        return RpcReply(answer.http_status, orjson.dumps(answer.payload))

    def _batch(self, requests: list[Any]) -> RpcReply:
        if not requests:
            return self._single(
                self._error_answer(invalid_request("empty batch"), version="2.0", request_id=None)
            )
        answers = [answer for request in requests if (answer := self._answer(request)) is not None]
        if not answers:
            return RpcReply(204, b"")
        return RpcReply(200, orjson.dumps([answer.payload for answer in answers]))

    def _answer(self, request: Any) -> _Answer | None:
        """Run one request; ``None`` when it was a notification (nothing to answer)."""
        if not isinstance(request, dict):
            return self._error_answer(invalid_request("a request must be a JSON object"), "2.0", None)
        version = request.get("jsonrpc", "1.0")
        request_id = request.get("id", _NO_ID)
        if version != "2.0" and "jsonrpc" in request:
            return self._error_answer(invalid_request('"jsonrpc" must be "2.0" or absent'), "2.0", None)
        if request_id is not _NO_ID and (isinstance(request_id, bool) or not _valid_id(request_id)):
            return self._error_answer(
                invalid_request('"id" must be a string, a number or null'), version, None
            )
        notification = request_id is _NO_ID or (version == "1.0" and request_id is None)
        echoed_id = None if request_id is _NO_ID else request_id
        method = request.get("method")
        if not isinstance(method, str) or not method:
            return self._error_answer(
                invalid_request('"method" must be a non-empty string'), version, echoed_id
            )
        try:
            result = self._dispatch(method, request.get("params"))
        except RpcError as error:
            return None if notification else self._error_answer(error, version, echoed_id)
        except Exception:
            logger.exception("JSON-RPC method %s failed", method[:100])
            return None if notification else self._error_answer(internal_error(), version, echoed_id)
        return None if notification else self._result_answer(result, version, echoed_id)

    def _result_answer(self, result: Any, version: str, request_id: Any) -> _Answer:
        if version == "2.0":
            payload: dict[str, Any] = {"jsonrpc": "2.0", "result": result}
            if self._include_null_error_in_v2:
                payload["error"] = None
        else:
            payload = {"result": result, "error": None}
        payload["id"] = request_id
        return _Answer(payload, 200)

    @staticmethod
    def _error_answer(error: RpcError, version: str, request_id: Any) -> _Answer:
        if version == "2.0":
            payload: dict[str, Any] = {"jsonrpc": "2.0", "error": error.to_json(), "id": request_id}
        else:
            payload = {"result": None, "error": error.to_json(), "id": request_id}
        return _Answer(payload, error.http_status)


def _valid_id(request_id: Any) -> bool:
    return request_id is None or isinstance(request_id, str | int | float)
