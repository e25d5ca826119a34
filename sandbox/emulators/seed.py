"""Deterministic people for the emulators' seeded data.

Both emulators draw from the same streams so that, without talking to each other, about a fifth of
the addresses exist at both providers: ``people_for(provider, seed, n)`` starts with the first
``n // 5`` people of a *shared* stream and fills the rest from a stream of its own.  Two emulators
started with the same seed therefore share ``min(n_cc, n_gr) // 5`` addresses.

Addresses are deliberately awkward: unicode display names, ``+`` tags, mixed case, and shared
addresses whose case differs between the providers (email matching must be case-insensitive).

Speed: an account may hold millions of people, so Faker is asked only once per process, for a fixed
pool of names per locale (``name_pools``); each person then combines pooled names with the stream's
seeded ``random.Random``, a handful of draws and one string format per person.  Addresses are unique
without a lookup table: every address ends with its serial number, and the shared stream's serials
are even while a provider's own are odd, so no two people of one account can have the same address
(compared case-insensitively).
"""

from __future__ import annotations

import contextlib
import gc
import random
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from typing import NamedTuple

from faker import Faker

__all__ = ["OVERLAP_FRACTION", "Person", "gc_paused", "name_pools", "people_for"]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No garbage collection while a large account is built: its millions of new objects would set
    off full collections that find nothing to free."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


OVERLAP_FRACTION = 5  # one in five
_LOCALES = ("en_US", "de_DE", "fr_FR", "es_ES", "pl_PL", "pt_BR", "it_IT", "sv_SE", "tr_TR", "ja_JP")
_DOMAINS = ("example.com", "example.org", "mail.example.net", "Example.COM", "post.example.de")
_TAGS = ("news", "promo", "2024", "shop", "list")
# Names drawn per locale for the pools: Faker draws by its own frequencies, so common names recur in a
# pool as they do in Faker's output.  The pools are the same for every seed (seeded with this value).
_POOL_DRAWS = 400
_POOL_SEED = "emulators-name-pool"


class Person(NamedTuple):
    first_name: str
    last_name: str
    email: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class _Name(NamedTuple):
    display: str  # as shown (kanji for ja_JP)
    local: str  # ASCII, for the address's local part


def _ascii_local_part(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    cleaned = "".join(ch for ch in folded if ch.isalnum())
    return cleaned or "user"


@lru_cache(maxsize=1)
def name_pools() -> tuple[tuple[tuple[_Name, ...], tuple[_Name, ...]], ...]:
    """Per locale (in ``_LOCALES`` order), pooled first names and last names, built once per process."""
    pools = []
    for index, locale in enumerate(_LOCALES):
        fake = Faker(locale)
        fake.seed_instance(f"{_POOL_SEED}:{index}")
        if hasattr(fake, "first_name_pair"):  # ja_JP: kanji for the display name, romaji for the address
            firsts = [fake.first_name_pair() for _ in range(_POOL_DRAWS)]
            lasts = [fake.last_name_pair() for _ in range(_POOL_DRAWS)]
            pools.append(
                (
                    tuple(_Name(pair[0], _ascii_local_part(pair[2])) for pair in firsts),
                    tuple(_Name(pair[0], _ascii_local_part(pair[2])) for pair in lasts),
                )
            )
            continue
        pools.append(
            (
                tuple(
                    _Name(name, _ascii_local_part(name))
                    for name in (fake.first_name() for _ in range(_POOL_DRAWS))
                ),
                tuple(
                    _Name(name, _ascii_local_part(name))
                    for name in (fake.last_name() for _ in range(_POOL_DRAWS))
                ),
            )
        )
    return tuple(pools)


def _stream(seed: int, stream: str, count: int) -> list[Person]:
    rng = random.Random(f"{seed}:{stream}")
    draw = rng.random
    pools = name_pools()
    locales = len(pools)
    domains, tags = _DOMAINS, _TAGS
    marker = stream[:2]
    parity = 0 if stream == "shared" else 1  # disjoint serials: see the module docstring
    people: list[Person] = []
    append = people.append
    for serial in range(2 + parity, 2 * count + 2 + parity, 2):
        firsts, lasts = pools[int(draw() * locales)]
        first = firsts[int(draw() * len(firsts))]
        last = lasts[int(draw() * len(lasts))]
        local = f"{first.local}.{last.local}"
        if draw() < 0.5:
            local = local.lower()
        if draw() < 0.15:
            local = f"{local}+{tags[int(draw() * len(tags))]}"
        local = f"{local}{serial}" if draw() < 0.5 else f"{local}.{marker}{serial}"
        append(Person(first.display, last.display, f"{local}@{domains[int(draw() * len(domains))]}"))
    return people


def people_for(provider: str, seed: int, count: int) -> list[Person]:
    """``count`` distinct people for ``provider`` ("constant_contact" or "getresponse").

    The first ``count // 5`` come from the shared stream (the same people at both providers; at
    GetResponse a third of them have their address lower-cased), the rest from the provider's own.
    """
    shared_count = count // OVERLAP_FRACTION
    shared = _stream(seed, "shared", shared_count)
    if provider == "getresponse":
        shared = [
            Person(p.first_name, p.last_name, p.email.lower()) if index % 3 == 0 else p
            for index, p in enumerate(shared)
        ]
    own = _stream(seed, provider, count - shared_count)
    return shared + own
