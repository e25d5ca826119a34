"""``gateway demo`` and ``gateway emulate``: the commands that need the emulators.

They live here, beside the emulators, so that the gateway package never imports emulator code: the
gateway's command line looks this module up by name and, where the emulators are not installed, says
how to install them.  Both commands take the ``argparse`` namespace the gateway's parser built.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import uvicorn
from pydantic import SecretStr

from gateway.admin import issue_key
from gateway.app import create_app
from gateway.cli import configure_logging
from gateway.config import Settings
from gateway.core.principals import Scope
from gateway.http import GraphiQL
from gateway.runtime import tune_garbage_collector
from gateway.serving import BackgroundServer

from .constant_contact import ConstantContactEmulatorSettings
from .constant_contact import create_app as create_cc
from .getresponse import GetResponseEmulatorSettings
from .getresponse import create_app as create_gr

__all__ = [
    "DEMO_CC_ACCESS_TOKEN",
    "DEMO_CC_CLIENT_ID",
    "DEMO_CC_CLIENT_SECRET",
    "DEMO_CC_REFRESH_TOKEN",
    "DEMO_GR_API_KEY",
    "demo",
    "emulate",
]

# The demo's credentials: the emulators accept exactly these, so the demo needs none of the caller's.
DEMO_CC_ACCESS_TOKEN = "demo-cc-access-token"
DEMO_CC_REFRESH_TOKEN = "demo-cc-refresh-token"
DEMO_CC_CLIENT_ID = "demo-cc-client"
DEMO_CC_CLIENT_SECRET = "demo-cc-secret"
DEMO_GR_API_KEY = "demo-gr-api-key"


def demo_settings(cc_url: str, gr_url: str, **overrides: object) -> Settings:
    """Gateway settings pointing at a Constant Contact and a GetResponse emulator with demo credentials."""
    values: dict[str, object] = {
        "constant_contact_base_url": cc_url,
        "constant_contact_access_token": SecretStr(DEMO_CC_ACCESS_TOKEN),
        "constant_contact_refresh_token": SecretStr(DEMO_CC_REFRESH_TOKEN),
        "constant_contact_client_id": DEMO_CC_CLIENT_ID,
        "constant_contact_client_secret": SecretStr(DEMO_CC_CLIENT_SECRET),
        "constant_contact_token_url": f"{cc_url}/oauth2/default/v1/token",
        "getresponse_api_url": f"{gr_url}/",
        "getresponse_api_key": SecretStr(DEMO_GR_API_KEY),
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def demo(args: argparse.Namespace) -> int:
    configure_logging("INFO")
    cc = BackgroundServer(create_cc(ConstantContactEmulatorSettings(seed=args.seed))).start()
    gr = BackgroundServer(create_gr(GetResponseEmulatorSettings(seed=args.seed))).start()
    # The emulators are seeded afresh on every start, so the gateway's records about them (idempotency
    # results above all) must start afresh too: a temporary database, gone when the demo ends.
    data_dir = tempfile.TemporaryDirectory(prefix="gateway-demo-")
    settings = demo_settings(cc.url, gr.url, data_dir=Path(data_dir.name))
    # Authentication stays on, as in production: the demo issues itself a key with every scope and
    # hands it to GraphiQL, so the page works at once and shows how a caller authenticates.
    demo_key = issue_key(settings, "demo", [scope.value for scope in Scope]).credential
    print(f"Constant Contact emulator: {cc.url}/v3   (control plane {cc.url}/_emulator/requests)")
    print(f"GetResponse emulator:      {gr.url}/     (control plane {gr.url}/_emulator/requests)")
    print(f"GraphiQL:                  http://{args.host}:{args.port}/graphql  (the demo key is pre-filled)")
    print(f"Demo key (every scope):    {demo_key}")
    print(f"  curl -H 'Authorization: Bearer {demo_key}' -H 'content-type: application/json' \\")
    print(
        f'       -d \'{{"query": "{{ providers {{ provider healthy }} }}"}}\' http://{args.host}:{args.port}/graphql',
        flush=True,
    )
    graphiql = GraphiQL(default_headers={"Authorization": f"Bearer {demo_key}"})
    app = create_app(settings, graphiql=graphiql)
    if settings.gc_tuning:
        tune_garbage_collector()
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False)
    finally:
        cc.stop()
        gr.stop()
        data_dir.cleanup()
    return 0


def emulate(args: argparse.Namespace) -> int:
    if args.provider == "constant-contact":
        tokens = tuple(args.access_token or [DEMO_CC_ACCESS_TOKEN])
        app = create_cc(
            ConstantContactEmulatorSettings(
                seed=args.seed,
                contacts=args.contacts,
                deleted_fraction=args.deleted_fraction,
                access_tokens=tokens,
                requests_per_second=args.requests_per_second,
                daily_quota=args.daily_quota,
            )
        )
        print(f"Constant Contact v3 emulator on http://{args.host}:{args.port}/v3 (tokens: {len(tokens)})")
    else:
        keys = tuple(args.api_key or [DEMO_GR_API_KEY])
        app = create_gr(
            GetResponseEmulatorSettings(
                seed=args.seed, contacts=args.contacts, deleted_fraction=args.deleted_fraction, api_keys=keys
            )
        )
        print(f"GetResponse 1.5 emulator on http://{args.host}:{args.port}/ (api keys: {len(keys)})")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0
