"""Which media type a GraphQL response is written in, from the request's ``Accept`` header.

GraphQL over HTTP defines two response types. ``application/graphql-response+json`` lets the status
code tell request errors (400, no ``data``) from executed operations (200); ``application/json`` is
the legacy type, answered 200 for every well-formed request because old clients and intermediaries
read any 4xx as "not GraphQL".

Rules (https://graphql.github.io/graphql-over-http/draft/#sec-Accept):

- no ``Accept`` header, or only wildcards (``*/*``, ``application/*``) -> ``application/json``, which
  every client understands;
- otherwise the type with the higher q-value; on a tie the newer ``graphql-response+json``;
- a range with ``q=0``, or a ``charset`` other than utf-8 (the only one we write), does not match;
- nothing matches -> ``None`` (the endpoint answers 406).

``accepts_html`` tells a browser's navigation (``text/html`` listed explicitly) from API clients, so
``GET /graphql`` can answer browsers with GraphiQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["EVENT_STREAM", "MediaType", "accepts_html", "negotiate", "prefers_event_stream"]

EVENT_STREAM = "text/event-stream"


class MediaType(StrEnum):
    GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
    JSON = "application/json"

    @property
    def content_type(self) -> str:
        return f"{self.value}; charset=utf-8"


@dataclass(frozen=True, slots=True)
class _Range:
    type: str
    subtype: str
    q: float
    charset: str | None

    def specificity(self, media_type: str) -> int | None:
        """2 for an exact match, 1 for ``type/*``, 0 for ``*/*``, ``None`` when it does not match."""
        kind, _, sub = media_type.partition("/")
        if self.type == "*" and self.subtype == "*":
            return 0
        if self.type != kind:
            return None
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == sub else None


def _parse(header: str) -> list[_Range]:
    ranges: list[_Range] = []
    for item in header.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        kind, slash, sub = media.lower().partition("/")
        if not slash or not kind or not sub:
            continue
        q, charset = 1.0, None
        for param in params:
            name, _, value = param.partition("=")
            name, value = name.strip().lower(), value.strip().strip('"').lower()
            if name == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
            elif name == "charset":
                charset = value
        ranges.append(_Range(kind, sub, q, charset))
    return ranges


def _quality(ranges: list[_Range], media_type: str) -> tuple[float, int]:
    """(q, specificity) of the most specific range matching ``media_type``; q is 0 when none does."""
    best: tuple[int, float] | None = None
    for candidate in ranges:
        specificity = candidate.specificity(media_type)
        if specificity is None or (candidate.charset not in (None, "utf-8", "utf8")):
            continue
        if best is None or specificity > best[0]:
            best = (specificity, candidate.q)
    return (0.0, -1) if best is None else (best[1], best[0])


def negotiate(accept: str | None) -> MediaType | None:
    if accept is None or not accept.strip():
        return MediaType.JSON
    ranges = _parse(accept)
    if not ranges:
        return MediaType.JSON
    new_q, new_specificity = _quality(ranges, MediaType.GRAPHQL_RESPONSE_JSON)
    legacy_q, _ = _quality(ranges, MediaType.JSON)
    if new_q <= 0 and legacy_q <= 0:
        return None
    if new_q > legacy_q or (new_q == legacy_q and new_specificity == 2):
        return MediaType.GRAPHQL_RESPONSE_JSON
    return MediaType.JSON


def accepts_html(accept: str | None) -> bool:
    """True when ``text/html`` is named explicitly with a non-zero q (browsers do; API clients don't)."""
    return any(r.type == "text" and r.subtype == "html" and r.q > 0 for r in _parse(accept or ""))


def prefers_event_stream(accept: str | None) -> bool:
    """Whether the client wants GraphQL over Server-Sent Events rather than a JSON answer: it names
    ``text/event-stream`` with a q above every JSON type's, or as high and listed before them.

    Clients that can take several answers list them all (urql sends the JSON types first, then
    ``text/event-stream`` and ``multipart/mixed``, for every query): they get JSON.  An SSE client sends
    ``text/event-stream`` alone, or first."""
    ranges = _parse(accept or "")
    stream = [i for i, r in enumerate(ranges) if r.type == "text" and r.subtype == "event-stream" and r.q > 0]
    if not stream:
        return False
    stream_q = max(ranges[i].q for i in stream)
    json_q = max(_quality(ranges, MediaType.GRAPHQL_RESPONSE_JSON)[0], _quality(ranges, MediaType.JSON)[0])
    if stream_q != json_q:
        return stream_q > json_q
    first_json = min(
        (i for i, r in enumerate(ranges) if r.specificity(MediaType.JSON) is not None
         or r.specificity(MediaType.GRAPHQL_RESPONSE_JSON) is not None),
        default=len(ranges),
    )  # fmt: skip
    return stream[0] < first_json
