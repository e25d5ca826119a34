"""The seeded account, deterministic from ``settings.seed``.

What the data is built to exercise:

- people from ``emulators.seed.people_for("constant_contact", ...)`` (unicode names, ``+``
  tags, mixed-case addresses); a fifth of them also exist at the GetResponse emulator;
- ``round(contacts * deleted_fraction)`` deleted contacts, deleted 2019-01-01 .. 2026-10-31 (several
  years), never before they were created; most were last updated when deleted, some later (CC's own
  example: deleted 2015-03-17, updated 2018-01-25), so ``deleted_at`` day <= ``updated_at`` day;
- every ``permission_to_send`` value among live and among deleted contacts (the first few of each group
  cycle through all of them), including ``unsubscribed`` deleted contacts, opted out by the contact or
  by the account, with and without a reason;
- ``create_source``/``update_source`` of both kinds, optional job titles, companies, birthdays,
  anniversaries, and some phone numbers, street addresses, custom fields, tags and notes for
  ``include=``;
- live contacts in one to three lists (a few in none, unsubscribed ones in none); deleted ones in none.

Contacts are returned in creation order, which is the order ``GET /contacts`` pages through.

Speed: seeding a million contacts must take seconds, not minutes, so the builder draws with
``rng.random()`` (not ``randint``/``choice``), computes moments as integer seconds and makes each
``datetime`` once, shares the empty tuple for absent subresources, and pauses the cyclic garbage
collector while it builds (nothing it builds is garbage).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from emulators.seed import Person, gc_paused, people_for

from .ids import UuidMinter
from .model import PERMISSIONS, Contact, ContactList, EmailAddress
from .settings import ConstantContactEmulatorSettings
from .store import AccountData

__all__ = ["CREATION_START", "DELETION_START", "SEED_END", "seed_account"]

CREATION_START = datetime(2014, 1, 1, tzinfo=UTC)
DELETION_START = datetime(2019, 1, 1, tzinfo=UTC)
SEED_END = datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC)
_LISTS_START = datetime(2012, 1, 1, tzinfo=UTC)

_LIST_NAMES = (
    "General Interest", "Monthly Newsletter", "Customers", "VIP Customers", "Webinar Attendees",
    "Spring Sale 2024", "Événements Paris", "Partner Leads", "Trade Show 2023", "Donors",
    "Beta Testers", "Kundinnen & Kunden", "Volunteers", "Black Friday", "Blog Subscribers",
)  # fmt: skip
_JOB_TITLES = ("Musician", "Owner", "Marketing Manager", "Teacher", "Ingeniera", "Buyer", "CEO", "Florist")
_COMPANIES = (
    "Acme Corp.",
    "Müller GmbH",
    "Café Lumière",
    "Northwind",
    "Globex",
    "Initech",
    "Żabka Sp. z o.o.",
)
_OPT_OUT_REASONS = (
    "I am no longer interested in this service.",
    "Too many emails.",
    "I never signed up for this list.",
    "Content not relevant",
)
_CITIES = (
    ("Chicago", "Illinois", "60609", "United States"),
    ("Waltham", "Massachusetts", "02451", "United States"),
    ("Kraków", "Małopolskie", "30-001", "Poland"),
    ("Lyon", "Auvergne-Rhône-Alpes", "69001", "France"),
)
_NOTES = ("Met at the trade show.", "Prefers email over phone.", "Asked to be contacted in spring.")
# Relative frequencies of permission_to_send, for live and for deleted contacts.
_LIVE_PERMISSIONS = {"explicit": 40, "implicit": 30, "unsubscribed": 12, "not_set": 8,
                     "pending_confirmation": 6, "temp_hold": 4}  # fmt: skip
_DELETED_PERMISSIONS = {"explicit": 35, "implicit": 35, "unsubscribed": 20, "not_set": 5,
                        "pending_confirmation": 3, "temp_hold": 2}  # fmt: skip


_T = TypeVar("_T")
_CREATION_START_S = int(CREATION_START.timestamp())
_DELETION_START_S = int(DELETION_START.timestamp())
_SEED_END_S = int(SEED_END.timestamp())
_CONFIRM_STATUS = {"pending_confirmation": "pending", "explicit": "confirmed"}


def seed_account(settings: ConstantContactEmulatorSettings) -> AccountData:
    with gc_paused():
        return _seed_account(settings)


def _seed_account(settings: ConstantContactEmulatorSettings) -> AccountData:
    rng = random.Random(f"{settings.seed}:constant-contact-account")
    ids = UuidMinter(rng)
    data = AccountData(ids=ids, rng=rng)
    data.lists = _lists(rng, ids, settings.lists)
    builder = _ContactBuilder(rng, ids, [cl.list_id for cl in data.lists])

    people = people_for("constant_contact", settings.seed, settings.contacts)
    deleted_count = round(settings.contacts * settings.deleted_fraction)
    live_permissions = _permissions(rng, len(people) - deleted_count, _LIVE_PERMISSIONS)
    deleted_permissions = _permissions(rng, deleted_count, _DELETED_PERMISSIONS)
    contacts = []
    draw = rng.random
    to_delete, remaining = deleted_count, len(people)
    for person in people:
        # Selection sampling: exactly ``deleted_count`` deleted, each person equally likely.
        if draw() * remaining < to_delete:
            contacts.append(builder.deleted_contact(person, deleted_permissions.pop()))
            to_delete -= 1
        else:
            contacts.append(builder.live_contact(person, live_permissions.pop()))
        remaining -= 1
    contacts.sort(key=lambda contact: (contact.created_at, contact.contact_id))
    data.contacts = contacts
    return data


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _stamp(seconds: int) -> str:
    """A subresource's timestamp, ``2016-01-23T13:48:44.000Z``."""
    return f"{datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None).isoformat()}.000Z"


def _moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return _at(_between(rng.random, int(start.timestamp()), int(end.timestamp())))


def _between(draw: Callable[[], float], start: int, end: int) -> int:
    """A whole second in ``[start, end]`` (``start`` when the range is empty)."""
    return start + int(draw() * (end - start + 1)) if end > start else start


def _pick(draw: Callable[[], float], items: Sequence[_T]) -> _T:
    return items[int(draw() * len(items))]


def _permissions(rng: random.Random, count: int, weights: dict[str, int]) -> list[str]:
    """``count`` permissions, consumed with ``pop()``: every value first, then by weight."""
    drawn = rng.choices(list(weights), weights=list(weights.values()), k=count)
    return (drawn + list(PERMISSIONS)[::-1])[-count:] if count else []


def _lists(rng: random.Random, ids: UuidMinter, count: int) -> list[ContactList]:
    lists = []
    for index in range(count):
        base = _LIST_NAMES[index % len(_LIST_NAMES)]
        name = base if index < len(_LIST_NAMES) else f"{base} {index // len(_LIST_NAMES) + 1}"
        created_at = _moment(rng, _LISTS_START, CREATION_START)
        lists.append(
            ContactList(
                list_id=ids.mint(),
                seq=index,
                name=name,
                description=None if rng.random() < 0.3 else f"Contacts of the {name} list.",
                favorite=rng.random() < 0.25,
                created_at=created_at,
                updated_at=_moment(rng, created_at, SEED_END),
            )
        )
    return lists


class _ContactBuilder:
    def __init__(self, rng: random.Random, ids: UuidMinter, list_ids: list[str]) -> None:
        self.rng = rng
        self.draw = rng.random
        self.ids = ids
        self.list_ids = list_ids
        self.custom_field_ids = [ids.mint() for _ in range(3)]
        self.tag_ids = [ids.mint() for _ in range(4)]

    def live_contact(self, person: Person, permission: str) -> Contact:
        draw = self.draw
        created_s = _between(draw, _CREATION_START_S, _SEED_END_S)
        updated_s = created_s if draw() < 0.3 else _between(draw, created_s, _SEED_END_S)
        created_at = _at(created_s)
        updated_at = created_at if updated_s == created_s else _at(updated_s)
        contact = self._contact(person, permission, created_s, created_at, updated_at, updated_s, updated_at)
        if permission != "unsubscribed" and draw() >= 0.04 and self.list_ids:
            count = min(len(self.list_ids), 1 + int(draw() * 3))
            contact.list_memberships = self.rng.sample(self.list_ids, k=count)
        return contact

    def deleted_contact(self, person: Person, permission: str) -> Contact:
        draw = self.draw
        deleted_s = _between(draw, _DELETION_START_S, _SEED_END_S)
        created_s = _between(draw, _CREATION_START_S, deleted_s - 3600)
        updated_s = deleted_s if draw() < 0.7 else _between(draw, deleted_s, _SEED_END_S)
        deleted_moment = _at(deleted_s)
        updated_at = deleted_moment if updated_s == deleted_s else _at(updated_s)
        contact = self._contact(
            person, permission, created_s, _at(created_s), updated_at, deleted_s, deleted_moment
        )
        contact.deleted_on = deleted_moment.date()
        contact.update_source = "Account"
        return contact

    def _contact(
        self,
        person: Person,
        permission: str,
        created_s: int,
        created_at: datetime,
        updated_at: datetime,
        last_event_s: int,
        last_event: datetime,
    ) -> Contact:
        """A contact whose address last changed at ``last_event`` (its deletion, or its last update)."""
        draw = self.draw
        create_source = "Account" if draw() < 0.7 else "Contact"
        update_source = "Account" if draw() < 0.6 else "Contact"
        email = self._email(
            person, permission, create_source, created_s, created_at, last_event_s, last_event
        )
        contact = Contact(
            contact_id=self.ids.mint(),
            seq=0,
            email=email,
            create_source=create_source,
            update_source=update_source,
            created_at=created_at,
            updated_at=updated_at,
            first_name=person.first_name[:50],
            last_name=None if draw() < 0.03 else person.last_name[:50],
            job_title=_pick(draw, _JOB_TITLES) if draw() < 0.3 else None,
            company_name=_pick(draw, _COMPANIES) if draw() < 0.3 else None,
        )
        if draw() < 0.2:
            contact.birthday_month = 1 + int(draw() * 12)
            contact.birthday_day = 1 + int(draw() * 28)
        if draw() < 0.1:
            contact.anniversary = (
                f"{1990 + int(draw() * 31)}-{1 + int(draw() * 12):02d}-{1 + int(draw() * 28):02d}"
            )
        if draw() < 0.1:
            contact.custom_fields = [
                {"custom_field_id": self.custom_field_ids[0], "value": _pick(draw, ("Tesla S 2017", "Gold"))}
            ]
        if draw() < 0.25:
            contact.phone_numbers = self._phone_numbers(created_s)
        if draw() < 0.15:
            contact.street_addresses = self._street_addresses(created_s)
        if draw() < 0.1:
            contact.taggings = self.rng.sample(self.tag_ids, k=1 + int(draw() * 2))
        if draw() < 0.05:
            contact.notes = self._notes(created_s, last_event_s)
        return contact

    def _email(
        self,
        person: Person,
        permission: str,
        create_source: str,
        created_s: int,
        created_at: datetime,
        last_event_s: int,
        last_event: datetime,
    ) -> EmailAddress:
        draw = self.draw
        email = EmailAddress(
            address=person.email,
            permission_to_send=permission,
            created_at=created_at,
            updated_at=last_event,
            confirm_status=_CONFIRM_STATUS.get(permission, "off"),
        )
        if permission == "explicit" and draw() < 0.3:
            email.confirm_status = "off"
        opt_in_s = created_s
        if permission != "not_set":
            email.opt_in_source = create_source if draw() < 0.8 else "Contact"
            opt_in_s = _between(draw, created_s, min(created_s + 2 * 86400, last_event_s))
            email.opt_in_date = created_at if opt_in_s == created_s else _at(opt_in_s)
        if permission == "unsubscribed":
            email.opt_out_source = "Contact" if draw() < 0.8 else "Account"
            email.opt_out_date = _at(_between(draw, opt_in_s, last_event_s))
            email.opt_out_reason = _pick(draw, _OPT_OUT_REASONS) if draw() < 0.5 else None
        return email

    def _phone_numbers(self, created_s: int) -> list[dict[str, object]]:
        draw = self.draw
        stamp = _stamp(_between(draw, created_s, _SEED_END_S))
        return [
            {
                "phone_number_id": self.ids.mint(),
                "phone_number": f"+1-555-{100 + int(draw() * 900)}-{1000 + int(draw() * 9000)}",
                "kind": _pick(draw, ("home", "work", "mobile", "other")),
                "created_at": stamp,
                "updated_at": stamp,
                "update_source": "Account",
                "create_source": "Account",
            }
        ]

    def _street_addresses(self, created_s: int) -> list[dict[str, object]]:
        draw = self.draw
        city, state, postal_code, country = _pick(draw, _CITIES)
        stamp = _stamp(_between(draw, created_s, _SEED_END_S))
        return [
            {
                "street_address_id": self.ids.mint(),
                "kind": _pick(draw, ("home", "work", "other")),
                "street": f"{1 + int(draw() * 999)} Main Street",
                "city": city,
                "state": state,
                "postal_code": postal_code,
                "country": country,
                "created_at": stamp,
                "updated_at": stamp,
            }
        ]

    def _notes(self, created_s: int, last_event_s: int) -> list[dict[str, object]]:
        draw = self.draw
        stamp = _stamp(_between(draw, created_s, last_event_s))
        return [{"note_id": self.ids.mint(), "created_at": stamp,
                 "content": _pick(draw, _NOTES)}]  # fmt: skip
