"""Accept negotiation and request ids, as plain functions."""

from __future__ import annotations

import pytest

from gateway.http.negotiation import MediaType, accepts_html, negotiate, prefers_event_stream
from gateway.http.request_id import correlation_id_from, new_request_id

NEW, LEGACY = MediaType.GRAPHQL_RESPONSE_JSON, MediaType.JSON


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, LEGACY),
        ("", LEGACY),
        ("  ", LEGACY),
        ("application/graphql-response+json", NEW),
        ("application/json", LEGACY),
        ("*/*", LEGACY),
        ("application/*", LEGACY),
        ("application/*, */*;q=0.5", LEGACY),
        ("application/graphql-response+json, application/json", NEW),
        ("application/json, application/graphql-response+json", NEW),
        ("application/json;q=0.9, application/graphql-response+json", NEW),
        ("application/graphql-response+json;q=0.8, application/json", LEGACY),
        ("application/graphql-response+json;q=0, */*", LEGACY),
        ("application/json;q=0, */*", NEW),
        ("application/graphql-response+json, application/json;q=0.9, multipart/mixed", NEW),
        ("APPLICATION/GRAPHQL-RESPONSE+JSON", NEW),
        ('application/graphql-response+json; charset="UTF-8"', NEW),
        ("application/graphql-response+json;charset=iso-8859-1, application/json", LEGACY),
        ("application/json;q=abc, application/graphql-response+json;q=0.1", NEW),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", LEGACY),
        ("garbage", LEGACY),
        ("text/plain", None),
        ("application/xml, text/*", None),
        ("application/json;q=0", None),
        ("application/json;q=0, application/graphql-response+json;q=0", None),
    ],
)
def test_negotiate(accept: str | None, expected: MediaType | None) -> None:
    assert negotiate(accept) is expected


def test_content_types_name_utf8() -> None:
    assert NEW.content_type == "application/graphql-response+json; charset=utf-8"
    assert LEGACY.content_type == "application/json; charset=utf-8"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),  # Chromium/Firefox
        ("TEXT/HTML", True),
        ("text/html;q=0", False),
        ("*/*", False),
        ("text/*", False),
        ("application/json", False),
        (None, False),
    ],
)
def test_accepts_html_only_when_named(accept: str | None, expected: bool) -> None:
    assert accepts_html(accept) is expected


@pytest.mark.parametrize(
    "incoming", ["abc", "0f3e9c2a-7d1b-4e55-9f00-6f1b2b9a1c11", "svc:req/42", "a=b+c", "A" * 128]
)
def test_request_ids_that_are_kept(incoming: str) -> None:
    assert correlation_id_from(incoming) == incoming


@pytest.mark.parametrize(
    "incoming", [None, "", " ", "A" * 129, "-x", ".x", "a b", "line\nbreak", "a\x00", "ümlaut", "a;b", 'a"b']
)
def test_request_ids_that_are_not_kept(incoming: str | None) -> None:
    assert correlation_id_from(incoming) is None
    generated = new_request_id()
    assert len(generated) == 32 and int(generated, 16) >= 0
    assert new_request_id() != generated  # fresh every time


@pytest.mark.parametrize(
    ("accept", "stream"),
    [
        ("text/event-stream", True),
        ("text/event-stream, application/json", True),
        ("application/json;q=0.5, text/event-stream", True),
        # urql asks for every answer it can read, JSON first, on every query: JSON it is.
        (
            "application/graphql-response+json, application/graphql+json, application/json, "
            "text/event-stream, multipart/mixed",
            False,
        ),
        ("application/json", False),
        ("*/*", False),
        ("text/event-stream;q=0, application/json", False),
        (None, False),
    ],
)
def test_event_streams_go_to_clients_that_prefer_them(accept: str | None, stream: bool) -> None:
    assert prefers_event_stream(accept) is stream
