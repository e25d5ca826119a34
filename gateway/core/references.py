"""What a mutation's caller named, checked before anything is sent to a provider.

A reference names one contact at one provider, by the provider's contact id or by address.  Both
end up in requests (an id in a URL path, an address in a query string or a JSON-RPC condition), and a
provider that reads an odd value leniently (an empty ``email=`` taken as "no filter", an id ``.``
normalised out of the path) would widen a write to contacts nobody named.  So every reference is
checked here first, provider-neutrally, and each provider adds only the form of its own ids
(``ContactIdForm``, declared by its adapter in ``gateway.core.ports``).  A reference that fails is
reported on its own item (``BAD_USER_INPUT``); the other items are still processed.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gateway.errors import shown

from .model import DeletedContact, ListedContact, Provider
from .ports import ContactIdForm, Target

__all__ = [
    "InputProblem",
    "InputSubject",
    "Reference",
    "address_problem",
    "contact_id_problem",
    "holds_address",
    "records_by_address",
    "reference_problem",
]


class InputSubject(enum.Enum):
    """Which part of a mutation's input a problem concerns (the GraphQL layer turns it into a path)."""

    CONTACT = "contact"
    """One item of the contacts, at ``InputProblem.index``."""
    CONTACTS = "contacts"
    """The list of contacts as a whole."""
    OVERRIDE_REASON = "override_reason"
    """The reason given for a consent override."""


@dataclass(frozen=True, slots=True)
class InputProblem:
    """Why part of a mutation's input was not acted on; the rest of the input still was."""

    code: str
    message: str
    subject: InputSubject
    index: int | None = None

    @classmethod
    def of_contact(cls, index: int, message: str, code: str = "BAD_USER_INPUT") -> InputProblem:
        return cls(code, message, InputSubject.CONTACT, index)


Reference = Target | InputProblem
"""One item of a mutation's contacts, in input order: what it names, or why it could not be read."""


# Characters that change what a URL path or query means, or that no id or address of either
# provider contains; refused before any provider form is consulted.
_PATH_OR_CONTROL = re.compile(r"[/\\?#%\s\x00-\x1f\x7f]")

# RFC 5321 caps a forward path at 256 octets including the angle brackets, so an address has at most
# 254 characters, a local part at most 64 and a domain label at most 63.  These are the syntax of an
# address, not a policy of this gateway.
_ADDRESS_MAX = 254
_LOCAL_MAX = 64
_LABEL_MAX = 63
_LOCAL_ATOM = r"[^\s@\"(),:;<>\[\]\\.\x00-\x1f\x7f]+"
_LABEL = r"[^\W_](?:(?:[^\W_]|-)*[^\W_])?"  # letters and digits, hyphens inside
_ADDRESS = re.compile(rf"(?P<local>{_LOCAL_ATOM}(?:\.{_LOCAL_ATOM})*)@(?P<domain>{_LABEL}(?:\.{_LABEL})+)")


def address_problem(email: str) -> str | None:
    """Why ``email`` is not a syntactically valid address, or None when it is one."""
    if not email.strip():
        return "the email address is empty"
    if len(email) > _ADDRESS_MAX:
        return f"an email address has at most {_ADDRESS_MAX} characters (this one has {len(email)})"
    match = _ADDRESS.fullmatch(email)
    if (
        match is None
        or len(match["local"]) > _LOCAL_MAX
        or any(len(label) > _LABEL_MAX for label in match["domain"].split("."))
    ):
        return f"{shown(email)} is not a valid email address"
    return None


def contact_id_problem(contact_id: str, form: ContactIdForm) -> str | None:
    """Why ``contact_id`` cannot be an id of the provider whose ids have ``form``, or None."""
    if not contact_id.strip():
        return "the contact id is empty"
    if contact_id in (".", "..") or _PATH_OR_CONTROL.search(contact_id):
        return f"{shown(contact_id)} is not a contact id (path or control characters)"
    if not form.accepts(contact_id):
        return f"{shown(contact_id)} is not a contact id of this provider: ids are {form.description}"
    return None


def reference_problem(target: Target, forms: Mapping[Provider, ContactIdForm]) -> str | None:
    """Why ``target`` cannot name a contact, or None; ``forms`` holds the configured providers."""
    form = forms.get(target.provider)
    if form is None:
        return None  # an unconfigured provider is reported as such by the caller
    if (target.contact_id is None) == (target.email is None):
        return "give exactly one of `contactId` and `email` with `provider`"
    if target.contact_id is not None:
        return contact_id_problem(target.contact_id, form)
    assert target.email is not None
    return address_problem(target.email)


def holds_address(address: str | None, email: str | None) -> bool:
    """Whether a record holding ``address`` is exactly what ``email`` asked for (in any letter case):
    the one test of "this record is the address named", for lookups and writes alike."""
    return address is not None and email is not None and address.casefold() == email.casefold()


def records_by_address(
    emails: Sequence[str], asked: Sequence[str], answers: Sequence[Sequence[ListedContact]]
) -> list[list[DeletedContact]]:
    """For each of ``emails``, the records a provider answered for it that really hold it.

    ``answers[i]`` is the provider's answer to ``asked[i]`` (the non-blank ones of ``emails``); a
    record the provider answered for an address it does not hold is dropped, whatever the API did.
    """
    held = {
        email.casefold(): [c for c in (listed.contact for listed in answer) if holds_address(c.email, email)]
        for email, answer in zip(asked, answers, strict=True)
    }
    return [held.get(email.casefold(), []) for email in emails]
