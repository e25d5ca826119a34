"""The GetResponse 1.5 methods the emulator serves, and the checks every call goes through.

Every call, in this order:

1. unknown method -> ``-32601 Method not found``;
2. counted once in the request log (``control.log.record(method)``), whatever happens next;
3. ``params`` must be ``[API_KEY]`` or ``[API_KEY, {conditions}]`` -> otherwise ``Invalid params``
   (named params are not accepted: UNCONFIRMED that GetResponse ever did);
4. the key must be one of ``settings.api_keys`` -> ``-1 API key verification failed`` (HTTP 200, or 403
   when ``bad_key_http_status`` says so);
5. ``params[1]``, when present, must be an object -> ``Invalid params`` with GetResponse's detail
   ``Attribute params must be reference to hash``;
6. the method: its own checks (``Invalid params`` for malformed conditions, code ``-1`` errors with the
   documented texts).

Decisions where the docs are silent:

- ``get_contact`` on a missing or deleted id: ``Missing contact`` (or ``{}`` with
  ``get_contact_missing_as_empty``).
- ``delete_contact`` records reason ``api``; the optional ``message`` (UNCONFIRMED meaning) attributes
  the removal to that message (``Missing message`` when unknown).  No callback: GetResponse calls back
  only for unsubscribe-link clicks.
- ``add_contact`` checks in this order: mandatory params, ``Missing campaign``, ``Invalid email
  syntax``, ``Contact already added to target campaign``, ``Contact already queued for target
  campaign``.  Re-adding an address that was removed (for any reason) is allowed and yields a new id.
  ``ip`` must be dotted IPv4 or uncompressed IPv6; ``customs`` names ``[a-z0-9_]{1,32}``, contents up
  to 255 characters.  Without ``name`` the contact's name is ``""``: every documented result shows
  ``name`` as a string, never ``null``.
- ``get_account_callbacks`` with nothing configured answers ``{}``; ``set_account_callbacks`` wants an
  absolute ``http``/``https`` URI with a host (else ``Invalid URI``) and a non-empty list of known
  actions (else ``Invalid params``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from emulators.control import RequestLog

from .callbacks import CallbackDispatcher, subscribe_params
from .catalog import find_campaigns, find_messages
from .contacts import get_contacts
from .deleted import get_contacts_deleted
from .errors import (
    API_KEY_FAILED,
    INVALID_EMAIL,
    INVALID_URI,
    PARAMS_NOT_A_HASH,
    RpcError,
    invalid_params,
    method_error,
    method_not_found,
)
from .model import CALLBACK_ACTIONS, CallbackConfig
from .params import Conditions
from .settings import GetResponseEmulatorSettings
from .store import GetResponseStore

__all__ = ["METHODS", "GetResponseApi"]

_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_CUSTOM_NAME = re.compile(r"[a-z0-9_]{1,32}")


@dataclass(frozen=True, slots=True)
class CallContext:
    store: GetResponseStore
    settings: GetResponseEmulatorSettings
    callbacks: CallbackDispatcher


Method = Callable[[CallContext, Conditions], Any]


class GetResponseApi:
    """``dispatch(method, params)`` for the JSON-RPC endpoint."""

    def __init__(
        self,
        settings: GetResponseEmulatorSettings,
        store: GetResponseStore,
        log: RequestLog,
        callbacks: CallbackDispatcher,
    ) -> None:
        self.settings = settings
        self.store = store
        self.log = log
        self.callbacks = callbacks
        self._context = CallContext(store, settings, callbacks)

    def confirm_queued(self) -> None:
        """Activate queued contacts that are due and send their ``subscribe`` callbacks."""
        for contact in self.store.confirm_due():
            config = self.store.callbacks
            if config is not None and "subscribe" in config.actions:
                campaign = self.store.campaigns[contact.campaign_id]
                self.callbacks.send(config.uri, subscribe_params(self.store.account, campaign, contact))

    def dispatch(self, method: str, params: Any) -> Any:
        handler = METHODS.get(method)
        if handler is None:
            raise method_not_found(method)
        self.log.record(method)
        conditions = self._authenticated_conditions(params)
        return handler(self._context, conditions)

    def _authenticated_conditions(self, params: Any) -> Conditions:
        if not isinstance(params, list) or not 1 <= len(params) <= 2 or not isinstance(params[0], str):
            raise invalid_params("params must be an array: [API_KEY] or [API_KEY, {conditions}]")
        if params[0] not in self.settings.api_keys:
            raise method_error(API_KEY_FAILED, http_status=self.settings.bad_key_http_status)
        conditions = params[1] if len(params) == 2 else {}
        if not isinstance(conditions, dict):
            raise invalid_params(PARAMS_NOT_A_HASH)
        return Conditions(conditions, allow_matches=self.settings.accept_matches_operator)


# -- connection, campaigns, messages -------------------------------------------------------------------


def _ping(context: CallContext, conditions: Conditions) -> Any:
    conditions.only()
    return {"ping": "pong"}


def _get_campaigns(context: CallContext, conditions: Conditions) -> Any:
    return {
        campaign.campaign_id: campaign.to_json() for campaign in find_campaigns(context.store, conditions)
    }


def _get_campaign(context: CallContext, conditions: Conditions) -> Any:
    campaign = context.store.campaign(conditions.only("campaign").required_string("campaign"))
    return {campaign.campaign_id: campaign.to_json()}


def _get_messages(context: CallContext, conditions: Conditions) -> Any:
    return {message.message_id: message.to_json() for message in find_messages(context.store, conditions)}


def _get_message(context: CallContext, conditions: Conditions) -> Any:
    message = context.store.message(conditions.only("message").required_string("message"))
    return {message.message_id: message.to_json()}


# -- contacts ------------------------------------------------------------------------------------------


def _get_contacts(context: CallContext, conditions: Conditions) -> Any:
    return get_contacts(context.store, conditions)


def _get_contacts_deleted(context: CallContext, conditions: Conditions) -> Any:
    return get_contacts_deleted(context.store, conditions)


def _get_contact(context: CallContext, conditions: Conditions) -> Any:
    contact_id = conditions.only("contact").required_string("contact")
    try:
        contact = context.store.contact(contact_id)
    except RpcError:
        if context.settings.get_contact_missing_as_empty:
            return {}
        raise
    return {contact.contact_id: contact.to_json()}


def _delete_contact(context: CallContext, conditions: Conditions) -> Any:
    conditions.only("contact", "message")
    contact_id = conditions.required_string("contact")
    message_id = conditions.string("message")
    context.store.delete_contact(contact_id, reason="api", message_id=message_id)
    return {"deleted": 1}


def _move_contact(context: CallContext, conditions: Conditions) -> Any:
    conditions.only("contact", "campaign")
    contact_id = conditions.required_string("contact")
    campaign_id = conditions.required_string("campaign")
    context.store.move_contact(contact_id, campaign_id)
    return {"updated": 1}


def _add_contact(context: CallContext, conditions: Conditions) -> Any:
    # ``action`` is deprecated and ignored since 1.39.0; accepting it keeps old clients working.
    conditions.only("campaign", "name", "email", "cycle_day", "ip", "customs", "action")
    campaign_id = conditions.required_string("campaign")
    email = conditions.required_string("email")
    name = conditions.string("name")
    cycle_day = conditions.integer("cycle_day", minimum=0, maximum=10000)
    ip = _ip(conditions.string("ip"))
    customs = _customs(conditions.raw.get("customs"))
    context.store.campaign(campaign_id)
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise method_error(INVALID_EMAIL)
    context.store.queue_contact(
        campaign_id=campaign_id, email=email, name=name or "", cycle_day=cycle_day, ip=ip, customs=customs
    )
    return {"queued": 1}


def _ip(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        address = None
    if address is None or "::" in value:
        raise invalid_params("ip must be a dotted IPv4 address or a full (uncompressed) IPv6 address")
    return value


def _customs(raw: Any) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    shape = 'customs must be an array of {"name": [a-z0-9_]{1,32}, "content": up to 255 characters}'
    if not isinstance(raw, list):
        raise invalid_params(shape)
    customs = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"name", "content"}:
            raise invalid_params(shape)
        name, content = item["name"], item["content"]
        if not isinstance(name, str) or not _CUSTOM_NAME.fullmatch(name):
            raise invalid_params(shape)
        if not isinstance(content, str) or len(content) > 255:
            raise invalid_params(shape)
        customs.append((name, content))
    return tuple(customs)


# -- callbacks -----------------------------------------------------------------------------------------


def _get_account_callbacks(context: CallContext, conditions: Conditions) -> Any:
    conditions.only()
    config = context.store.callbacks
    return {} if config is None else config.to_json()


def _set_account_callbacks(context: CallContext, conditions: Conditions) -> Any:
    conditions.only("uri", "actions")
    uri = conditions.required_string("uri")
    actions = conditions.raw.get("actions")
    if (
        not isinstance(actions, list)
        or not actions
        or not all(isinstance(action, str) and action in CALLBACK_ACTIONS for action in actions)
    ):
        raise invalid_params(f"actions must be a non-empty array of: {', '.join(CALLBACK_ACTIONS)}")
    if not _valid_uri(uri):
        raise method_error(INVALID_URI)
    context.store.set_callbacks(CallbackConfig(uri, tuple(dict.fromkeys(actions))))
    return {"updated": 1}


def _valid_uri(uri: str) -> bool:
    try:
        parts = urlsplit(uri)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and port_ok
        and not any(c.isspace() for c in uri)
    )


def _delete_account_callbacks(context: CallContext, conditions: Conditions) -> Any:
    conditions.only()
    context.store.set_callbacks(None)
    return {"deleted": 1}


METHODS: dict[str, Method] = {
    "ping": _ping,
    "get_campaigns": _get_campaigns,
    "get_campaign": _get_campaign,
    "get_messages": _get_messages,
    "get_message": _get_message,
    "get_contacts": _get_contacts,
    "get_contact": _get_contact,
    "get_contacts_deleted": _get_contacts_deleted,
    "delete_contact": _delete_contact,
    "move_contact": _move_contact,
    "add_contact": _add_contact,
    "get_account_callbacks": _get_account_callbacks,
    "set_account_callbacks": _set_account_callbacks,
    "delete_account_callbacks": _delete_account_callbacks,
}
