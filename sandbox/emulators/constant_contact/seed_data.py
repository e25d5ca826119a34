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
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from emulators.seed import Person, people_for

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


def seed_account(settings: ConstantContactEmulatorSettings) -> AccountData:
    rng = random.Random(f"{settings.seed}:constant-contact-account")
    ids = UuidMinter(rng)
    data = AccountData(ids=ids, rng=rng)
    data.lists = _lists(rng, ids, settings.lists)
    builder = _ContactBuilder(rng, ids, [cl.list_id for cl in data.lists])

    people = people_for("constant_contact", settings.seed, settings.contacts)
    deleted_count = round(settings.contacts * settings.deleted_fraction)
    deleted = set(rng.sample(range(len(people)), deleted_count))
    live_permissions = _permissions(rng, len(people) - deleted_count, _LIVE_PERMISSIONS)
    deleted_permissions = _permissions(rng, deleted_count, _DELETED_PERMISSIONS)
    contacts = []
    for index, person in enumerate(people):
        if index in deleted:
            contacts.append(builder.deleted_contact(person, deleted_permissions.pop()))
        else:
            contacts.append(builder.live_contact(person, live_permissions.pop()))
    contacts.sort(key=lambda contact: (contact.created_at, contact.contact_id))
    data.contacts = contacts
    return data


def _moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    seconds = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randint(0, max(seconds, 0)))


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
        self.ids = ids
        self.list_ids = list_ids
        self.custom_field_ids = [ids.mint() for _ in range(3)]
        self.tag_ids = [ids.mint() for _ in range(4)]

    def live_contact(self, person: Person, permission: str) -> Contact:
        rng = self.rng
        created_at = _moment(rng, CREATION_START, SEED_END)
        updated_at = created_at if rng.random() < 0.3 else _moment(rng, created_at, SEED_END)
        contact = self._contact(person, permission, created_at, updated_at, updated_at)
        if permission != "unsubscribed" and rng.random() >= 0.04:
            contact.list_memberships = rng.sample(self.list_ids, k=min(len(self.list_ids), rng.randint(1, 3)))
        return contact

    def deleted_contact(self, person: Person, permission: str) -> Contact:
        rng = self.rng
        deleted_moment = _moment(rng, DELETION_START, SEED_END)
        created_at = _moment(rng, CREATION_START, deleted_moment - timedelta(hours=1))
        updated_at = deleted_moment if rng.random() < 0.7 else _moment(rng, deleted_moment, SEED_END)
        contact = self._contact(person, permission, created_at, updated_at, deleted_moment)
        contact.deleted_on = deleted_moment.date()
        contact.update_source = "Account"
        return contact

    def _contact(
        self,
        person: Person,
        permission: str,
        created_at: datetime,
        updated_at: datetime,
        last_event: datetime,
    ) -> Contact:
        """A contact whose address last changed at ``last_event`` (its deletion, or its last update)."""
        rng = self.rng
        create_source = "Account" if rng.random() < 0.7 else "Contact"
        birthday = rng.random() < 0.2
        return Contact(
            contact_id=self.ids.mint(),
            seq=0,
            email=self._email(person, permission, create_source, created_at, last_event),
            create_source=create_source,
            update_source="Account" if rng.random() < 0.6 else "Contact",
            created_at=created_at,
            updated_at=updated_at,
            first_name=person.first_name[:50],
            last_name=None if rng.random() < 0.03 else person.last_name[:50],
            job_title=rng.choice(_JOB_TITLES) if rng.random() < 0.3 else None,
            company_name=rng.choice(_COMPANIES) if rng.random() < 0.3 else None,
            birthday_month=rng.randint(1, 12) if birthday else None,
            birthday_day=rng.randint(1, 28) if birthday else None,
            anniversary=f"{rng.randint(1990, 2020)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            if rng.random() < 0.1
            else None,
            custom_fields=self._custom_fields(),
            phone_numbers=self._phone_numbers(created_at),
            street_addresses=self._street_addresses(created_at),
            taggings=rng.sample(self.tag_ids, k=rng.randint(1, 2)) if rng.random() < 0.1 else [],
            notes=self._notes(created_at, last_event),
        )

    def _email(
        self, person: Person, permission: str, create_source: str, created_at: datetime, last_event: datetime
    ) -> EmailAddress:
        rng = self.rng
        email = EmailAddress(
            address=person.email,
            permission_to_send=permission,
            created_at=created_at,
            updated_at=last_event,
            confirm_status={"pending_confirmation": "pending", "explicit": "confirmed"}.get(
                permission, "off"
            ),
        )
        if permission == "explicit" and rng.random() < 0.3:
            email.confirm_status = "off"
        if permission != "not_set":
            email.opt_in_source = create_source if rng.random() < 0.8 else "Contact"
            email.opt_in_date = _moment(rng, created_at, min(created_at + timedelta(days=2), last_event))
        if permission == "unsubscribed":
            email.opt_out_source = "Contact" if rng.random() < 0.8 else "Account"
            email.opt_out_date = _moment(rng, email.opt_in_date or created_at, last_event)
            email.opt_out_reason = rng.choice(_OPT_OUT_REASONS) if rng.random() < 0.5 else None
        return email

    def _custom_fields(self) -> list[dict[str, object]]:
        if self.rng.random() >= 0.1:
            return []
        return [
            {"custom_field_id": self.custom_field_ids[0], "value": self.rng.choice(("Tesla S 2017", "Gold"))}
        ]

    def _phone_numbers(self, created_at: datetime) -> list[dict[str, object]]:
        rng = self.rng
        if rng.random() >= 0.25:
            return []
        stamp = _moment(rng, created_at, SEED_END)
        return [
            {
                "phone_number_id": self.ids.mint(),
                "phone_number": f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
                "kind": rng.choice(("home", "work", "mobile", "other")),
                "created_at": f"{stamp:%Y-%m-%dT%H:%M:%S}.000Z",
                "updated_at": f"{stamp:%Y-%m-%dT%H:%M:%S}.000Z",
                "update_source": "Account",
                "create_source": "Account",
            }
        ]

    def _street_addresses(self, created_at: datetime) -> list[dict[str, object]]:
        rng = self.rng
        if rng.random() >= 0.15:
            return []
        city, state, postal_code, country = rng.choice(_CITIES)
        stamp = f"{_moment(rng, created_at, SEED_END):%Y-%m-%dT%H:%M:%S}.000Z"
        return [
            {
                "street_address_id": self.ids.mint(),
                "kind": rng.choice(("home", "work", "other")),
                "street": f"{rng.randint(1, 999)} Main Street",
                "city": city,
                "state": state,
                "postal_code": postal_code,
                "country": country,
                "created_at": stamp,
                "updated_at": stamp,
            }
        ]

    def _notes(self, created_at: datetime, last_event: datetime) -> list[dict[str, object]]:
        rng = self.rng
        if rng.random() >= 0.05:
            return []
        stamp = _moment(rng, created_at, last_event)
        return [{"note_id": self.ids.mint(), "created_at": f"{stamp:%Y-%m-%dT%H:%M:%S}.000Z",
                 "content": rng.choice(_NOTES)}]  # fmt: skip
