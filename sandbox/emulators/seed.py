"""Deterministic people for the emulators' seeded data.

Both emulators draw from the same streams so that, without talking to each other, about a fifth of
the addresses exist at both providers: ``people_for(provider, seed, n)`` starts with the first
``n // 5`` people of a *shared* stream and fills the rest from a stream of its own.  Two emulators
started with the same seed therefore share ``min(n_cc, n_gr) // 5`` addresses.

Addresses are deliberately awkward: unicode display names, ``+`` tags, mixed case, and shared
addresses whose case differs between the providers (email matching must be case-insensitive).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from faker import Faker

__all__ = ["OVERLAP_FRACTION", "Person", "people_for"]

OVERLAP_FRACTION = 5  # one in five
_LOCALES = ("en_US", "de_DE", "fr_FR", "es_ES", "pl_PL", "pt_BR", "it_IT", "sv_SE", "tr_TR", "ja_JP")
_DOMAINS = ("example.com", "example.org", "mail.example.net", "Example.COM", "post.example.de")
_TAGS = ("news", "promo", "2024", "shop", "list")


@dataclass(frozen=True, slots=True)
class Person:
    first_name: str
    last_name: str
    email: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def _ascii_local_part(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    cleaned = "".join(ch for ch in folded if ch.isalnum())
    return cleaned or "user"


def _stream(seed: int, stream: str, count: int) -> list[Person]:
    rng = random.Random(f"{seed}:{stream}")
    fakers = {locale: Faker(locale) for locale in _LOCALES}
    for index, fake in enumerate(fakers.values()):
        fake.seed_instance(f"{seed}:{stream}:{index}")
    people: list[Person] = []
    seen: set[str] = set()
    serial = 0
    while len(people) < count:
        serial += 1
        fake = fakers[rng.choice(_LOCALES)]
        first, last = fake.first_name(), fake.last_name()
        if first.isascii() or not hasattr(fake, "first_romanized_name"):
            local_first, local_last = _ascii_local_part(first), _ascii_local_part(last)
        else:  # ja_JP: romanized parts for the address, kanji for the display name
            local_first, local_last = fake.first_romanized_name(), fake.last_romanized_name()
        local = f"{local_first}.{local_last}"
        if rng.random() < 0.5:
            local = local.lower()
        if rng.random() < 0.15:
            local = f"{local}+{rng.choice(_TAGS)}"
        local = f"{local}{serial}" if rng.random() < 0.5 else f"{local}.{stream[:2]}{serial}"
        email = f"{local}@{rng.choice(_DOMAINS)}"
        if email.lower() in seen:
            continue
        seen.add(email.lower())
        people.append(Person(first_name=first, last_name=last, email=email))
    return people


@lru_cache(maxsize=16)
def _cached_stream(seed: int, stream: str, count: int) -> tuple[Person, ...]:
    return tuple(_stream(seed, stream, count))


def people_for(provider: str, seed: int, count: int) -> list[Person]:
    """``count`` distinct people for ``provider`` ("constant_contact" or "getresponse").

    The first ``count // 5`` come from the shared stream (the same people at both providers; at
    GetResponse a third of them have their address lower-cased), the rest from the provider's own.
    """
    shared_count = count // OVERLAP_FRACTION
    shared = list(_cached_stream(seed, "shared", shared_count))
    if provider == "getresponse":
        shared = [
            Person(p.first_name, p.last_name, p.email.lower()) if index % 3 == 0 else p
            for index, p in enumerate(shared)
        ]
    own = list(_cached_stream(seed, provider, count - shared_count))
    return shared + own
