"""Mutation reports recorded for idempotency keys, and played back to a retried request.

What is recorded is the provider-neutral outcome of each contact (``OperationOutcome``) plus the input
problems, not the GraphQL response: a retry may select other fields, so the payload is rebuilt from
the record exactly as it was built the first time.  Deleted-contact records travel in the form their
adapter uses for paging snapshots (``snapshot_entry`` / ``from_snapshot_entry``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

import orjson

from .model import Provider
from .ports import BulkProgress, DeletedContactsPort, OperationOutcome, OutcomeStatus, Target
from .references import InputProblem, InputSubject

__all__ = ["decode", "encode"]


def encode(
    outcomes: Sequence[OperationOutcome],
    problems: Sequence[InputProblem],
    ports: Mapping[Provider, DeletedContactsPort],
) -> bytes:
    return orjson.dumps(
        {
            "outcomes": [_outcome(outcome, ports) for outcome in outcomes],
            "problems": [
                {"code": p.code, "message": p.message, "subject": p.subject.value, "index": p.index}
                for p in problems
            ],
        }
    )


def decode(
    data: bytes, ports: Mapping[Provider, DeletedContactsPort]
) -> tuple[list[OperationOutcome], list[InputProblem]]:
    """The recorded outcomes and input problems."""
    record = orjson.loads(data)
    problems = [
        InputProblem(p["code"], p["message"], InputSubject(p["subject"]), p["index"])
        for p in record["problems"]
    ]
    return [_restored(item, ports) for item in record["outcomes"]], problems


def _outcome(outcome: OperationOutcome, ports: Mapping[Provider, DeletedContactsPort]) -> dict[str, Any]:
    target = outcome.target
    contact = outcome.contact
    return {
        "target": [target.index, target.provider.value, target.contact_id, target.email],
        "status": outcome.status.value,
        "contact_id": outcome.contact_id,
        "email": outcome.email,
        "message": outcome.message,
        "code": outcome.code,
        "bulk": None if outcome.bulk_operation is None else asdict(outcome.bulk_operation),
        "contact": None
        if contact is None
        else [contact.provider.value, ports[contact.provider].snapshot_entry(contact)],
    }


def _restored(item: dict[str, Any], ports: Mapping[Provider, DeletedContactsPort]) -> OperationOutcome:
    index, provider, contact_id, email = item["target"]
    contact = None
    if item["contact"] is not None:
        port = ports.get(Provider(item["contact"][0]))
        contact = port.from_snapshot_entry(item["contact"][1]) if port is not None else None
    return OperationOutcome(
        Target(index, Provider(provider), contact_id, email),
        OutcomeStatus(item["status"]),
        item["contact_id"],
        item["email"],
        item["message"],
        item["code"],
        None if item["bulk"] is None else _bulk(item["bulk"]),
        contact,
    )


def _bulk(data: dict[str, Any]) -> BulkProgress:
    def moment(value: str | None) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value)

    return BulkProgress(
        **{
            **data,
            "provider": Provider(data["provider"]),
            "errors": tuple(data["errors"]),
            "created_at": moment(data["created_at"]),
            "completed_at": moment(data["completed_at"]),
        }
    )
