"""Contact writes: ``POST /contacts``, ``PUT /contacts/{id}`` and ``POST /contacts/sign_up_form``.

The whole body is validated before anything changes, so a rejected request leaves no trace.

``POST /contacts`` (``createContact``): ``create_source`` is required, plus one of ``first_name``,
``last_name``, ``email_address`` or ``sms_channel``.  An address held by any contact, deleted or not,
is a 409 naming that contact's id.  Without ``permission_to_send`` the address is ``implicit``
(UNCONFIRMED default).

``PUT /contacts/{id}`` (``putContact``), as documented: ``update_source`` is required; core fields left
out or blank become null; subresources left out are kept, subresources sent replace the old ones.  A
PUT on a deleted contact revives it and therefore needs ``update_source: "Account"`` and at least one
list in ``list_memberships`` (400 otherwise).  Without ``email_address`` the ``put_without_email``
switch decides (reject by default: UNCONFIRMED).  A different address that another contact holds is a
409.  ``permission_to_send`` left out keeps the current one; ``unsubscribed`` records an opt-out by
``update_source``; re-opting in a contact who opted out *themselves* is refused (400): only the contact
can do that.  A restored contact keeps its permission (an unsubscribed contact stays unsubscribed).

``POST /contacts/sign_up_form`` (``createOrUpdateContact``): ``list_memberships`` (1..50) and
``email_address`` are required (the emulator does not model SMS-only contacts).  An existing address is
updated partially: lists and custom fields are appended, the fields sent replace theirs, the permission
becomes ``explicit`` (the contact's own action), a deleted contact is restored, and the answer is 200
with ``action: "updated"``; otherwise a contact is created (``explicit``, or ``pending_confirmation``
with ``confirmed_opt_in``) and the answer is 201 with ``action: "created"`` (the action strings are
UNCONFIRMED).  ``sms_channel`` is accepted and ignored everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .bodies import BodyReader
from .model import PERMISSIONS, SOURCES, Contact, EmailAddress
from .settings import ConstantContactEmulatorSettings
from .store import MAX_LISTS_PER_CONTACT, ConstantContactStore

__all__ = ["ContactWriter"]

_NAME_FIELDS = ("first_name", "last_name", "job_title", "company_name")
_PHONE_KINDS = ("home", "work", "mobile", "other")
_ADDRESS_KINDS = ("home", "work", "other")


@dataclass(slots=True)
class _Core:
    names: dict[str, str | None]
    birthday_month: int | None
    birthday_day: int | None
    anniversary: str | None

    def apply(self, contact: Contact, *, partial: bool) -> None:
        for name, value in self.names.items():
            if value is not None or not partial:
                setattr(contact, name, value)
        if self.birthday_month is not None or not partial:
            contact.birthday_month, contact.birthday_day = self.birthday_month, self.birthday_day
        if self.anniversary is not None or not partial:
            contact.anniversary = self.anniversary


@dataclass(slots=True)
class _Subresources:
    list_memberships: list[str] | None = None
    custom_fields: list[dict[str, Any]] | None = None
    phone_numbers: list[dict[str, Any]] | None = None
    street_addresses: list[dict[str, Any]] | None = None
    taggings: list[str] | None = None
    notes: list[dict[str, Any]] | None = None

    def apply(self, contact: Contact) -> None:
        for name in (
            "list_memberships",
            "custom_fields",
            "phone_numbers",
            "street_addresses",
            "taggings",
            "notes",
        ):
            value = getattr(self, name)
            if value is not None:
                setattr(contact, name, value)


@dataclass(slots=True)
class _EmailRequest:
    address: str
    permission: str | None
    opt_out_reason: str | None


def _stamp(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


class ContactWriter:
    def __init__(self, store: ConstantContactStore, settings: ConstantContactEmulatorSettings) -> None:
        self.store = store
        self.settings = settings

    # -- POST /contacts --------------------------------------------------------------------------

    def create(self, payload: dict[str, Any]) -> Contact:
        reader = BodyReader(payload)
        now = self.store.clock.now()
        create_source = reader.choice("create_source", SOURCES, required=True)
        core = self._core(reader)
        requested = self._email_request(reader, with_opt_out_reason=False)
        subresources = self._subresources(reader, now, source=create_source or "Account")
        if not (
            core.names["first_name"] or core.names["last_name"] or requested or reader.present("sms_channel")
        ):
            reader.fail("At least one of first_name, last_name, email_address or sms_channel is required.")
        reader.finish()
        assert create_source is not None
        email = None
        if requested is not None:
            email = self._new_email(requested.address, requested.permission or "implicit", create_source, now)
        contact = Contact(
            contact_id=self.store.ids.mint(),
            seq=0,
            email=email,
            create_source=create_source,
            update_source=create_source,
            created_at=now,
            updated_at=now,
        )
        core.apply(contact, partial=False)
        subresources.apply(contact)
        return self.store.create(contact)

    # -- PUT /contacts/{id} ------------------------------------------------------------------------

    def replace(self, contact: Contact, payload: dict[str, Any]) -> Contact:
        reader = BodyReader(payload)
        now = self.store.clock.now()
        update_source = reader.choice("update_source", SOURCES, required=True)
        core = self._core(reader)
        requested = self._email_request(reader, with_opt_out_reason=True)
        subresources = self._subresources(reader, now, source=update_source or "Account")
        if (
            requested is None
            and not reader.present("email_address")
            and self.settings.put_without_email == "reject"
        ):
            reader.fail("email_address is required.")
        if contact.deleted:
            if update_source is not None and update_source != "Account":
                reader.fail("update_source must be Account to restore a deleted contact.")
            if not subresources.list_memberships:
                reader.fail("list_memberships must name at least one list to restore a deleted contact.")
        if requested is not None and requested.permission not in (None, "unsubscribed"):
            current = contact.email
            if (
                current is not None
                and current.permission_to_send == "unsubscribed"
                and current.opt_out_source == "Contact"
            ):
                reader.fail("The contact unsubscribed; only the contact can opt back in.")
        reader.finish()
        assert update_source is not None

        email_changed = self._replace_email(contact, requested, update_source, now)
        core.apply(contact, partial=False)
        subresources.apply(contact)
        if contact.deleted:
            self.store.revive(contact, now, update_source)
        contact.update_source = update_source
        self.store.touch(contact, now, email_too=email_changed)
        return contact

    def _replace_email(
        self, contact: Contact, requested: _EmailRequest | None, source: str, now: datetime
    ) -> bool:
        if requested is None:
            if self.settings.put_without_email == "clear" and contact.email is not None:
                self.store.set_email(contact, None)
            return False
        current = contact.email
        if current is None or current.address.casefold() != requested.address.casefold():
            permission = requested.permission or (current.permission_to_send if current else "implicit")
            self.store.set_email(contact, self._new_email(requested.address, permission, source, now))
            return True
        changed = current.address != requested.address
        current.address = requested.address
        if requested.permission is not None and requested.permission != current.permission_to_send:
            _set_permission(current, requested.permission, source, now, requested.opt_out_reason)
            changed = True
        return changed

    # -- POST /contacts/sign_up_form ---------------------------------------------------------------

    def sign_up(self, payload: dict[str, Any]) -> tuple[Contact, bool]:
        """The contact created or updated, and whether it was created."""
        reader = BodyReader(payload)
        now = self.store.clock.now()
        address = reader.email("email_address", max_length=50, required=True)
        list_ids = self._list_ids(reader, min_items=1)
        core = self._core(reader)
        phone = reader.string("phone_number", max_length=25)
        custom_fields = self._custom_fields(reader, max_items=50)
        street = reader.nested("street_address")
        street_address = self._street_address(street, now) if street is not None else None
        existing = self.store.by_email(address) if address else None
        merged = set(existing.list_memberships) | set(list_ids or ()) if existing is not None else set()
        if len(merged) > MAX_LISTS_PER_CONTACT:
            reader.fail(f"A contact can be a member of at most {MAX_LISTS_PER_CONTACT} lists.")
        reader.finish()
        assert address is not None and list_ids is not None

        contact = existing
        if contact is None:
            permission = "pending_confirmation" if self.settings.confirmed_opt_in else "explicit"
            contact = Contact(
                contact_id=self.store.ids.mint(),
                seq=0,
                email=self._new_email(address, permission, "Contact", now),
                create_source="Contact",
                update_source="Contact",
                created_at=now,
                updated_at=now,
            )
            self.store.create(contact)
        elif contact.email is not None and contact.email.permission_to_send != "explicit":
            _set_permission(contact.email, "explicit", "Contact", now, None)
        core.apply(contact, partial=True)
        contact.list_memberships = list(dict.fromkeys([*contact.list_memberships, *list_ids]))
        if custom_fields:
            known = {field["custom_field_id"] for field in custom_fields}
            kept = [f for f in contact.custom_fields if f["custom_field_id"] not in known]
            contact.custom_fields = [*kept, *custom_fields]
        if phone is not None and len(contact.phone_numbers) < 3:
            contact.phone_numbers = [
                *contact.phone_numbers,
                self._phone({"phone_number": phone, "kind": "other"}, now, "Contact"),
            ]
        if street_address is not None and len(contact.street_addresses) < 3:
            contact.street_addresses = [*contact.street_addresses, street_address]
        if contact.deleted:
            self.store.revive(contact, now, "Contact")
        contact.update_source = "Contact"
        self.store.touch(contact, now, email_too=existing is not None)
        return contact, existing is None

    # -- reading -----------------------------------------------------------------------------------

    def _core(self, reader: BodyReader) -> _Core:
        names = {name: reader.string(name, max_length=50) for name in _NAME_FIELDS}
        month = reader.integer("birthday_month", minimum=1, maximum=12)
        day = reader.integer("birthday_day", minimum=1, maximum=31)
        if reader.present("birthday_month") != reader.present("birthday_day"):
            reader.fail("birthday_month and birthday_day must be sent together.")
        return _Core(names, month, day, reader.anniversary("anniversary"))

    def _email_request(self, reader: BodyReader, *, with_opt_out_reason: bool) -> _EmailRequest | None:
        nested = reader.nested("email_address")
        if nested is None:
            return None
        address = nested.email("address", required=True)
        permission = nested.choice("permission_to_send", PERMISSIONS)
        reason = nested.string("opt_out_reason", max_length=255) if with_opt_out_reason else None
        return None if address is None else _EmailRequest(address, permission, reason)

    def _list_ids(self, reader: BodyReader, *, min_items: int = 0) -> list[str] | None:
        list_ids = reader.uuids("list_memberships", max_items=MAX_LISTS_PER_CONTACT, min_items=min_items)
        for list_id in list_ids or ():
            if self.store.active_list(list_id) is None:
                reader.fail(f"list_memberships names a list that does not exist: {list_id}.")
        return list_ids

    def _subresources(self, reader: BodyReader, now: datetime, *, source: str) -> _Subresources:
        found = _Subresources(
            list_memberships=self._list_ids(reader),
            custom_fields=self._custom_fields(reader, max_items=25),
            taggings=reader.uuids("taggings", max_items=50),
        )
        phones = reader.nested_list("phone_numbers", max_items=3)
        if phones is not None:
            found.phone_numbers = [
                self._phone({"phone_number": p.string("phone_number", max_length=25, required=True),
                             "kind": p.choice("kind", _PHONE_KINDS)}, now, source)
                for p in phones
            ]  # fmt: skip
        addresses = reader.nested_list("street_addresses", max_items=3)
        if addresses is not None:
            found.street_addresses = [self._street_address(address, now) for address in addresses]
        notes = reader.nested_list("notes", max_items=150)
        if notes is not None:
            found.notes = [
                {"note_id": self.store.ids.mint(), "created_at": _stamp(now),
                 "content": note.string("content", max_length=2000, required=True)}
                for note in notes
            ]  # fmt: skip
        return found

    def _custom_fields(self, reader: BodyReader, *, max_items: int) -> list[dict[str, Any]] | None:
        items = reader.nested_list("custom_fields", max_items=max_items)
        if items is None:
            return None
        fields = []
        for item in items:
            field_id = item.uuid("custom_field_id", required=True)
            if field_id is None:
                continue
            entry: dict[str, Any] = {"custom_field_id": field_id}
            value = item.string("value", max_length=255)
            if value is not None:
                entry["value"] = value
            choice_ids = item.strings("choice_ids")
            if choice_ids is not None:
                entry["choice_ids"] = choice_ids
            fields.append(entry)
        return fields

    def _phone(self, fields: dict[str, Any], now: datetime, source: str) -> dict[str, Any]:
        phone = {"phone_number_id": self.store.ids.mint()}
        phone.update({key: value for key, value in fields.items() if value is not None})
        phone.update(
            created_at=_stamp(now), updated_at=_stamp(now), update_source=source, create_source=source
        )
        return phone

    def _street_address(self, reader: BodyReader, now: datetime) -> dict[str, Any]:
        address: dict[str, Any] = {"street_address_id": self.store.ids.mint()}
        address["kind"] = reader.choice("kind", _ADDRESS_KINDS, required=True)
        address["street"] = reader.string("street", max_length=255)
        for name in ("city", "state", "postal_code", "country"):
            address[name] = reader.string(name, max_length=50)
        address = {key: value for key, value in address.items() if value is not None}
        address.update(created_at=_stamp(now), updated_at=_stamp(now))
        return address

    def _new_email(self, address: str, permission: str, source: str, now: datetime) -> EmailAddress:
        email = EmailAddress(address=address, permission_to_send=permission, created_at=now, updated_at=now)
        if permission == "pending_confirmation":
            email.confirm_status = "pending"
        if permission != "not_set":
            email.opt_in_source = source
            email.opt_in_date = now
        if permission == "unsubscribed":
            email.opt_out_source = source
            email.opt_out_date = now
        return email


def _set_permission(
    email: EmailAddress, permission: str, source: str, now: datetime, reason: str | None
) -> None:
    email.permission_to_send = permission
    email.updated_at = now
    if permission == "unsubscribed":
        email.opt_out_source = source
        email.opt_out_date = now
        email.opt_out_reason = reason
    else:
        email.opt_out_source = email.opt_out_date = email.opt_out_reason = None
        email.opt_in_source = source
        email.opt_in_date = now
        email.confirm_status = "pending" if permission == "pending_confirmation" else email.confirm_status
