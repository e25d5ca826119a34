"""Log lines as operators read them: text or one JSON object per line, addresses masked, secrets out.

Every line the process writes goes through one handler on the root logger whose formatter
(:class:`TextFormatter` or :class:`JsonFormatter`, ``LOG_FORMAT``) does three things last, on the
finished line, so that no logger anywhere can bypass them:

- every credential the settings hold is replaced by ``[redacted]`` (the clients already keep them
  out of messages: this is the net under that rule);
- every email address is masked to its first character and domain (``j***@example.com``) unless
  ``LOG_PII=true``: addresses are the personal data this gateway handles, and log stores keep
  them longer and show them wider than the providers do;
- a line written while a request is being answered carries its request id, correlation id and,
  when tracing is on, trace id.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson
from pydantic import SecretStr

from gateway.config import Settings

from .request_record import current_record

__all__ = [
    "JsonFormatter",
    "Redactor",
    "TextFormatter",
    "configure_logging",
    "mask_emails",
    "settings_secrets",
]

# A local part as addresses really have them (not every character RFC 5322 allows: '/', '=', '?'
# and '&' end it, so that a URL's path and query around an address stay readable), percent-escapes
# included; the @ may come percent-encoded too (%40), as URLs in debug lines carry it.
_LOCAL_CHARACTER = r"[A-Za-z0-9!#$'*+^_`{|}~-]"
_EMAIL = re.compile(
    rf"({_LOCAL_CHARACTER})(?:{_LOCAL_CHARACTER}|\.|%(?!40)[0-9A-Fa-f]{{2}})*(@|%40)"
    r"([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"
)
_REDACTED = "[redacted]"


def mask_emails(text: str) -> str:
    """``text`` with every address cut to its first character and its domain."""
    if "@" not in text and "%40" not in text:
        return text
    return _EMAIL.sub(r"\1***\2\3", text)


class Redactor:
    """Removes ``secrets`` from a text, and masks its addresses unless ``show_addresses``."""

    def __init__(self, secrets: Iterable[str], *, show_addresses: bool = False) -> None:
        # Longest first: a secret that contains another is replaced whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._show_addresses = show_addresses

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, _REDACTED)
        return text if self._show_addresses else mask_emails(text)


def settings_secrets(settings: Settings) -> list[str]:
    """The value of every ``SecretStr`` the settings hold (tokens, keys, the database URL)."""
    values = (getattr(settings, name) for name in type(settings).model_fields)
    return [value.get_secret_value() for value in values if isinstance(value, SecretStr)]


def _request_fields() -> dict[str, str]:
    record = current_record()
    if record is None:
        return {}
    fields = {"request_id": record.request_id}
    if record.correlation_id is not None:
        fields["correlation_id"] = record.correlation_id
    if record.trace_id is not None:
        fields["trace_id"] = record.trace_id
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request's ids, the fields of an
    ``extra={"fields": {...}}`` (the access line's), and the traceback as ``exception``."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_request_fields())
        extra = getattr(record, "fields", None)
        if isinstance(extra, Mapping):
            line.update(extra)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        # Message and traceback redacted as values too: a secret holding a quote or a backslash
        # would not match in the encoded text.
        for key in ("message", "exception"):
            if key in line:
                line[key] = self._redact(line[key])
        # Redacted as one finished text, so that no field, nested or not, escapes it; JSON escapes
        # neither '@' nor the characters of a secret, so a match in the encoded text is one in the value.
        return self._redact(orjson.dumps(line, default=str).decode())


class TextFormatter(logging.Formatter):
    """``time level logger message`` then the request's ids as ``key=value``."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = _request_fields()
        if fields and not getattr(record, "fields", None):  # the access line names its ids itself
            text += "".join(f" {key}={value}" for key, value in fields.items())
        return self._redact(text)


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """The root logger at ``LOG_LEVEL``, formatted as ``LOG_FORMAT`` says, with the redactions above,
    writing to ``stream`` (standard error by default)."""
    redact = Redactor(settings_secrets(settings), show_addresses=settings.log_pii)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(redact) if settings.log_format == "json" else TextFormatter(redact))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    level = settings.log_level.upper()
    root.setLevel(level)
    # httpx logs every upstream request at INFO: per-call noise that belongs at DEBUG.
    logging.getLogger("httpx").setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
    # uvicorn's own handlers would bypass the redactions: its loggers write through the root's.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
