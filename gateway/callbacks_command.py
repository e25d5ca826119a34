"""``gateway callbacks register --url URL | show``: GetResponse's account callback, pointed at the gateway.

``register`` calls ``set_account_callbacks`` (action ``unsubscribe``) with ``URL?secret=<secret>``, the
secret being ``GETRESPONSE_CALLBACK_SECRET``: GetResponse cannot sign its callbacks, so the URL is
what proves a call came from it.  ``show`` prints the account's registration with the secret masked.
The URL must be the gateway's ``/callbacks/getresponse`` as GetResponse reaches it (https in
production).  Exit status: 0 done, 2 not configured (no GetResponse credentials or no secret), 1 the
call failed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING, Any

import httpx

from .config import Settings
from .errors import GatewayError

if TYPE_CHECKING:
    from .providers.getresponse.client import GetResponseClient

__all__ = ["add_callbacks_command", "mask_secret", "register_callbacks", "registered_callbacks"]

SECRET_PARAMETER = "secret"
ACTIONS = ("unsubscribe",)
NOT_CONFIGURED = 2


def mask_secret(uri: str) -> str:
    """``uri`` with the value of its ``secret`` parameter replaced by asterisks."""
    url = httpx.URL(uri)
    if SECRET_PARAMETER not in url.params:
        return uri
    return str(url.copy_set_param(SECRET_PARAMETER, "****"))


def _client(settings: Settings) -> GetResponseClient:
    from .providers.getresponse.client import GetResponseClient

    if not settings.getresponse_configured:
        raise LookupError("GetResponse is not configured (GETRESPONSE_API_URL, GETRESPONSE_API_KEY)")
    assert settings.getresponse_api_url and settings.getresponse_api_key
    return GetResponseClient(
        api_url=settings.getresponse_api_url, api_key=settings.getresponse_api_key.get_secret_value()
    )


async def register_callbacks(settings: Settings, url: str) -> str:
    """Register ``url`` plus the secret for ``unsubscribe``; the registered URI, masked."""
    if settings.getresponse_callback_secret is None:
        raise LookupError("GETRESPONSE_CALLBACK_SECRET is not set")
    secret = settings.getresponse_callback_secret.get_secret_value()
    uri = str(httpx.URL(url).copy_set_param(SECRET_PARAMETER, secret))
    client = _client(settings)
    try:
        await client.set_account_callbacks(uri, ACTIONS)
    finally:
        await client.aclose()
    return mask_secret(uri)


async def registered_callbacks(settings: Settings) -> tuple[str, tuple[str, ...]] | None:
    """The account's callback URI (masked) and actions; None when none is registered."""
    client = _client(settings)
    try:
        current = await client.get_account_callbacks()
    finally:
        await client.aclose()
    return None if current is None else (mask_secret(current.uri), tuple(current.actions))


def _run(args: argparse.Namespace) -> int:
    settings = Settings()
    try:
        if args.action == "register":
            print(f"registered {asyncio.run(register_callbacks(settings, args.url))} for unsubscribe")
            return 0
        current = asyncio.run(registered_callbacks(settings))
    except LookupError as missing:
        print(f"gateway callbacks: {missing}", file=sys.stderr)
        return NOT_CONFIGURED
    except GatewayError as error:
        print(f"gateway callbacks: {error.message} ({error.code})", file=sys.stderr)
        return 1
    print("no callback registered" if current is None else f"{current[0]} actions={','.join(current[1])}")
    return 0


def add_callbacks_command(commands: Any) -> None:
    """Add ``callbacks`` to the CLI's subcommands."""
    callbacks = commands.add_parser("callbacks", help="GetResponse's unsubscribe callback to this gateway")
    actions = callbacks.add_subparsers(dest="action", required=True)
    register = actions.add_parser("register", help="register URL (plus the secret) for unsubscribe")
    register.add_argument(
        "--url", required=True, help="the gateway's /callbacks/getresponse as GetResponse reaches it"
    )
    actions.add_parser("show", help="print the registration, secret masked")
    callbacks.set_defaults(run=_run)
