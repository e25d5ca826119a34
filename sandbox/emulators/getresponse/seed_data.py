"""The seeded account, deterministic from ``settings.seed``.

What the data is built to exercise:

- people from ``emulators.seed.people_for("getresponse", ...)`` (unicode names, ``+`` tags,
  mixed-case addresses); about one person in ten is in two campaigns;
- campaigns with unique names (``shop_newsletter``, ...) and messages of every type, some newsletters
  without a name;
- removals with EVERY general and specific reason (the first removals cycle through all of them, the
  rest are drawn by weight), dated 2019-01-01 .. 2026-10-31, always after the contact was created;
  removals with and without a message (an unsubscribe click usually has one, sometimes from another
  campaign, since one click can unsubscribe from several);
- about one removal in a hundred is an *earlier* removal of the same address from the same campaign
  under another contact id, so "one entry per campaign and address, newest wins" matters;
- ``ip`` sometimes null (and sometimes IPv6), ``cycle_day`` a number or null, ``origin`` from the
  documented list.

``contacts`` counts active contacts plus removal records: ``round(contacts * deleted_fraction)`` of
them are removals, and ``get_contacts_deleted`` lists all but the earlier removals of the repeats
(``removals - max(1, removals // 100)`` entries).

Speed: a million records must take seconds, not minutes, so the builder draws with ``rng.random()``
(not ``randint``/``choice``), makes each ``datetime`` once from integer seconds, builds no JSON (the
store serializes a removal when a read first returns it) and pauses the cyclic garbage collector.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from emulators.seed import Person, gc_paused, people_for

from .ids import IdMinter
from .model import GENERAL_REASONS, ORIGINS, SPECIFIC_REASONS, Account, Campaign, Contact, Deletion, Message
from .settings import GetResponseEmulatorSettings
from .store import AccountData

__all__ = ["seed_account"]

CREATION_START = datetime(2014, 1, 1, tzinfo=UTC)
DELETION_START = datetime(2019, 1, 1, tzinfo=UTC)
SEED_END = datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC)

_CAMPAIGN_NAMES = (
    "shop_newsletter", "product_updates", "webinar_invites", "blog_digest", "partner_news",
    "black_friday_deals", "customer_onboarding", "event_announcements", "loyalty_club", "press_releases",
)  # fmt: skip
_SUBJECTS = (
    "Welcome aboard", "Your weekly digest", "New arrivals", "Last chance: 30% off", "We miss you",
    "Tips for getting started", "Invitation: live webinar", "Your order, our thanks", "Spring sale",
)  # fmt: skip
_MESSAGE_TYPE_CYCLE = ("newsletter", "autoresponder", "newsletter", "autoresponder", "ab_test", "draft")
# Relative frequency of each stored reason; bare "bounce"/"automation" are removals without a sub-reason.
_REASON_WEIGHTS = {
    "unsubscribe": 30, "user": 8, "support": 3, "complaint": 6, "blacklisted": 4, "api": 8, "other": 5,
    "bounce": 2, "bounce::mailbox_full": 4, "bounce::other_hard": 4, "bounce::other_soft": 4,
    "bounce::user_unknown": 4, "bounce::user_recycled": 2,
    "automation": 1, "automation::remove-on-remove": 3, "automation::remove-on-sale": 3,
    "automation::remove-on-subscribe": 3,
}  # fmt: skip
_MESSAGE_PROBABILITY = {"unsubscribe": 0.85, "complaint": 0.6, "bounce": 0.4}
_REPEAT_SHARE = 100  # one removal in a hundred is an earlier removal of the same address and campaign
_T = TypeVar("_T")
_CREATION_START_S = int(CREATION_START.timestamp())
_DELETION_START_S = int(DELETION_START.timestamp())
_SEED_END_S = int(SEED_END.timestamp())


def seed_account(settings: GetResponseEmulatorSettings) -> AccountData:
    with gc_paused():
        return _seed_account(settings)


def _seed_account(settings: GetResponseEmulatorSettings) -> AccountData:
    rng = random.Random(f"{settings.seed}:getresponse-account")
    ids = IdMinter(rng)
    data = AccountData(account=Account(ids.mint(), settings.account_login), ids=ids, rng=rng)
    data.campaigns = _campaigns(rng, ids, settings.campaigns)
    data.messages = _messages(rng, ids, data.campaigns, settings.messages_per_campaign)

    removals = round(settings.contacts * settings.deleted_fraction)
    repeats = max(1, removals // _REPEAT_SHARE) if removals >= 2 else 0
    memberships = _memberships(
        rng, settings, [c.campaign_id for c in data.campaigns], settings.contacts - repeats
    )
    removed, active = memberships[: removals - repeats], memberships[removals - repeats :]
    reasons = _reasons(rng, removals)
    builder = _RecordBuilder(rng, ids, data.messages)
    data.contacts = [builder.active_contact(person, campaign_id) for person, campaign_id in active]
    removed_twice = set(rng.sample(range(len(removed)), repeats))
    draw = rng.random
    for index, (person, campaign_id) in enumerate(removed):
        if index in removed_twice:
            first_created, first_deleted, created_s, deleted_s = sorted(
                _between(draw, _DELETION_START_S, _SEED_END_S) for _ in range(4)
            )
            data.deletions.append(
                builder.deletion(person, campaign_id, reasons.pop(), _at(first_created), _at(first_deleted))
            )
        else:
            deleted_s = _between(draw, _DELETION_START_S, _SEED_END_S)
            created_s = _between(draw, _CREATION_START_S, deleted_s - 3600)
        data.deletions.append(
            builder.deletion(person, campaign_id, reasons.pop(), _at(created_s), _at(deleted_s))
        )
    return data


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _between(draw: Callable[[], float], start: int, end: int) -> int:
    """A whole second in ``[start, end]`` (``start`` when the range is empty)."""
    return start + int(draw() * (end - start + 1)) if end > start else start


def _pick(draw: Callable[[], float], items: Sequence[_T]) -> _T:
    return items[int(draw() * len(items))]


def _moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    seconds = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randint(0, max(seconds, 0)))


def _campaigns(rng: random.Random, ids: IdMinter, count: int) -> list[Campaign]:
    campaigns = []
    for index in range(count):
        base = _CAMPAIGN_NAMES[index % len(_CAMPAIGN_NAMES)]
        name = base if index < len(_CAMPAIGN_NAMES) else f"{base}_{index // len(_CAMPAIGN_NAMES) + 1}"
        campaigns.append(
            Campaign(
                campaign_id=ids.mint(),
                name=name,
                description=None if rng.random() < 0.3 else name.replace("_", " ").capitalize(),
                is_default=index == 0,
                optin="single" if rng.random() < 0.25 else "double",
                from_name="Demo Shop",
                from_email="news@shop.example.com",
                reply_to_email="replies@shop.example.com",
                created_on=_moment(rng, datetime(2012, 1, 1, tzinfo=UTC), CREATION_START),
            )
        )
    return campaigns


def _messages(
    rng: random.Random, ids: IdMinter, campaigns: list[Campaign], per_campaign: int
) -> list[Message]:
    messages = []
    for campaign in campaigns:
        for index in range(per_campaign):
            kind = _MESSAGE_TYPE_CYCLE[index % len(_MESSAGE_TYPE_CYCLE)]
            created_on = _moment(rng, CREATION_START, SEED_END)
            messages.append(
                Message(
                    message_id=ids.mint(),
                    campaign_id=campaign.campaign_id,
                    type=kind,
                    subject=rng.choice(_SUBJECTS),
                    name=_message_name(rng, campaign.name, kind, index),
                    created_on=created_on,
                    send_on=created_on + timedelta(days=rng.randint(0, 20)) if kind == "newsletter" else None,
                    details=_message_details(rng, ids, kind, index),
                )
            )
    return messages


def _message_name(rng: random.Random, campaign_name: str, kind: str, index: int) -> str | None:
    if kind == "ab_test" or (kind == "newsletter" and rng.random() < 0.35):
        return None
    label = {"newsletter": "issue", "autoresponder": "day", "draft": "draft"}[kind]
    return f"{campaign_name}_{label}_{index + 1}"


def _message_details(rng: random.Random, ids: IdMinter, kind: str, index: int) -> dict[str, object]:
    if kind == "autoresponder":
        return {
            "status": "active" if rng.random() < 0.8 else "inactive",
            "autoresponder_name": f"Autoresponder {index + 1}",
            "based_on": "time",
            "day_of_cycle": rng.randint(0, 30),
            "days_of_week": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
            "time_travel": "no",
        }
    if kind == "ab_test":
        return {"ab_test": ids.mint()}
    return {}


def _memberships(
    rng: random.Random, settings: GetResponseEmulatorSettings, campaign_ids: list[str], count: int
) -> list[tuple[Person, str]]:
    """``count`` distinct (person, campaign) pairs in random order; some people are in two campaigns."""
    pairs: list[tuple[Person, str]] = []
    draw = rng.random
    for person in people_for("getresponse", settings.seed, count):
        if len(pairs) >= count:
            break
        first = _pick(draw, campaign_ids)
        pairs.append((person, first))
        if len(pairs) < count and len(campaign_ids) > 1 and draw() < 0.1:
            pairs.append((person, _pick(draw, [cid for cid in campaign_ids if cid != first])))
    rng.shuffle(pairs)
    return pairs


def _reasons(rng: random.Random, count: int) -> list[str]:
    """``count`` stored reasons, consumed with ``pop()``: every reason first, then by weight."""
    every = [*GENERAL_REASONS, *SPECIFIC_REASONS]
    drawn = rng.choices(list(_REASON_WEIGHTS), weights=list(_REASON_WEIGHTS.values()), k=count)
    return (drawn + every[::-1])[-count:] if count else []


@dataclass
class _RecordBuilder:
    rng: random.Random
    ids: IdMinter
    messages: list[Message]

    def __post_init__(self) -> None:
        self._sent = [m for m in self.messages if m.type != "draft"]
        self._sent_by_campaign: dict[str, list[Message]] = {}
        for message in self._sent:
            self._sent_by_campaign.setdefault(message.campaign_id, []).append(message)

    def _ip(self) -> str | None:
        draw = self.rng.random
        roll = draw()
        if roll < 0.2:
            return None
        if roll < 0.25:
            return ":".join(f"{int(draw() * 0x10000):x}" for _ in range(8))
        return (
            f"{1 + int(draw() * 254)}.{1 + int(draw() * 254)}.{1 + int(draw() * 254)}.{1 + int(draw() * 254)}"
        )

    def _cycle_day(self) -> int | None:
        draw = self.rng.random
        return None if draw() < 0.4 else int(draw() * 91)

    def _message_id(self, campaign_id: str, reason: str) -> str | None:
        draw = self.rng.random
        if draw() >= _MESSAGE_PROBABILITY.get(reason.partition("::")[0], 0.05):
            return None
        own = self._sent_by_campaign.get(campaign_id)
        pool = own if own and draw() < 0.9 else self._sent
        return _pick(draw, pool).message_id if pool else None

    def active_contact(self, person: Person, campaign_id: str) -> Contact:
        draw = self.rng.random
        created_s = _between(draw, _CREATION_START_S, _SEED_END_S)
        changed = draw() < 0.3
        return Contact(
            contact_id=self.ids.mint(),
            campaign_id=campaign_id,
            name=person.name,
            email=person.email,
            origin=_pick(draw, ORIGINS),
            ip=self._ip(),
            cycle_day=self._cycle_day(),
            created_on=_at(created_s),
            changed_on=_at(_between(draw, created_s, _SEED_END_S)) if changed else None,
            shuffle_key=self.rng.getrandbits(32),
        )

    def deletion(
        self, person: Person, campaign_id: str, reason: str, created_on: datetime, deleted_on: datetime
    ) -> Deletion:
        return Deletion(
            contact_id=self.ids.mint(),
            campaign_id=campaign_id,
            message_id=self._message_id(campaign_id, reason),
            name=person.name,
            email=person.email,
            origin=_pick(self.rng.random, ORIGINS),
            ip=self._ip(),
            cycle_day=self._cycle_day(),
            reason=reason,
            created_on=created_on,
            deleted_on=deleted_on,
        )
