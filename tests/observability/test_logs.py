"""The redactions every log line goes through, and the text format."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from gateway.config import Settings
from gateway.core.principals import Principal, PrincipalKind
from gateway.observability.access_log import principal_label
from gateway.observability.logs import Redactor, configure_logging, mask_emails, settings_secrets


def test_addresses_are_masked_plain_and_percent_encoded() -> None:
    assert mask_emails("to jane.doe+x@mail.example.com, ok") == "to j***@mail.example.com, ok"
    assert mask_emails("GET /v3/contacts?email=jane.doe%40example.org&x=1") == (
        "GET /v3/contacts?email=j***%40example.org&x=1"
    )
    assert mask_emails("no address @ here, nor user@localhost") == "no address @ here, nor user@localhost"


def test_secrets_go_before_addresses_and_longest_first() -> None:
    redact = Redactor(["abc", "abcdef"], show_addresses=True)
    assert redact("token abcdef and abc, mail a@b.org") == "token [redacted] and [redacted], mail a@b.org"


def test_every_secret_setting_is_known() -> None:
    settings = Settings(constant_contact_access_token="t-1", getresponse_api_key="k-2")
    assert {"t-1", "k-2"} <= set(settings_secrets(settings))


@pytest.fixture
def root_restored() -> Iterator[None]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def test_text_lines_are_redacted_too(root_restored: None) -> None:
    stream = io.StringIO()
    configure_logging(Settings(getresponse_api_key="key-123", log_format="text"), stream=stream)
    try:
        raise RuntimeError("failed for key-123 and bob@example.com")
    except RuntimeError:
        logging.getLogger("gateway.test").exception("while mailing bob@example.com")
    text = stream.getvalue()
    assert "key-123" not in text and "bob@" not in text
    assert "gateway.test while mailing b***@example.com" in text
    assert "RuntimeError: failed for [redacted] and b***@example.com" in text  # the traceback too


def test_an_encoded_plus_does_not_leave_the_start_of_an_address() -> None:
    assert mask_emails("?email=jane%2Bnews%40example.org") == "?email=j***%40example.org"


def test_the_access_line_names_an_authenticated_principal_or_a_dash() -> None:
    principal = Principal(PrincipalKind.KEY, "k-42", "ci", frozenset())
    assert principal_label(principal) == "key:k-42"
    assert principal_label(None) == "-"
    assert principal_label("not a principal") == "-"
