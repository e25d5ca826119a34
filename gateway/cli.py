"""Command line: ``gateway serve | demo | emulate | export-schema``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import uvicorn

from .runtime import tune_garbage_collector

__all__ = ["main"]

DEMO_CC_ACCESS_TOKEN = "demo-cc-access-token"
DEMO_CC_REFRESH_TOKEN = "demo-cc-refresh-token"
DEMO_CC_CLIENT_ID = "demo-cc-client"
DEMO_CC_CLIENT_SECRET = "demo-cc-secret"
DEMO_GR_API_KEY = "demo-gr-api-key"


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # httpx logs every upstream request at INFO: per-call noise that belongs at DEBUG.
    debug = level.upper() == "DEBUG"
    logging.getLogger("httpx").setLevel(logging.DEBUG if debug else logging.WARNING)


def _serve(args: argparse.Namespace) -> int:
    from .app import create_app
    from .config import Settings

    settings = Settings()
    _configure_logging(settings.log_level)
    app = create_app(settings)
    if settings.gc_tuning:
        tune_garbage_collector()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=settings.log_level.lower(),
        access_log=False,
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    from pydantic import SecretStr

    from .app import create_app
    from .config import Settings
    from .emulators.constant_contact import ConstantContactEmulatorSettings
    from .emulators.constant_contact import create_app as create_cc
    from .emulators.getresponse import GetResponseEmulatorSettings
    from .emulators.getresponse import create_app as create_gr
    from .serving import BackgroundServer

    _configure_logging("INFO")
    cc = BackgroundServer(create_cc(ConstantContactEmulatorSettings(seed=args.seed))).start()
    gr = BackgroundServer(create_gr(GetResponseEmulatorSettings(seed=args.seed))).start()
    settings = Settings(
        constant_contact_base_url=cc.url,
        constant_contact_access_token=SecretStr(DEMO_CC_ACCESS_TOKEN),
        constant_contact_refresh_token=SecretStr(DEMO_CC_REFRESH_TOKEN),
        constant_contact_client_id=DEMO_CC_CLIENT_ID,
        constant_contact_client_secret=SecretStr(DEMO_CC_CLIENT_SECRET),
        constant_contact_token_url=f"{cc.url}/oauth2/default/v1/token",
        getresponse_api_url=f"{gr.url}/",
        getresponse_api_key=SecretStr(DEMO_GR_API_KEY),
    )
    print(f"Constant Contact emulator: {cc.url}/v3   (control plane {cc.url}/_emulator/requests)")
    print(f"GetResponse emulator:      {gr.url}/     (control plane {gr.url}/_emulator/requests)")
    print(f"GraphiQL:                  http://{args.host}:{args.port}/graphql", flush=True)
    app = create_app(settings)
    if settings.gc_tuning:
        tune_garbage_collector()
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False)
    finally:
        cc.stop()
        gr.stop()
    return 0


def _emulate(args: argparse.Namespace) -> int:
    if args.provider == "constant-contact":
        from .emulators.constant_contact import ConstantContactEmulatorSettings
        from .emulators.constant_contact import create_app as create_cc

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
        from .emulators.getresponse import GetResponseEmulatorSettings
        from .emulators.getresponse import create_app as create_gr

        keys = tuple(args.api_key or [DEMO_GR_API_KEY])
        app = create_gr(
            GetResponseEmulatorSettings(
                seed=args.seed, contacts=args.contacts, deleted_fraction=args.deleted_fraction, api_keys=keys
            )
        )
        print(f"GetResponse 1.5 emulator on http://{args.host}:{args.port}/ (api keys: {len(keys)})")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def _export_schema(args: argparse.Namespace) -> int:
    from .schema.schema import get_schema

    sys.stdout.write(get_schema().as_str() + "\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gateway", description="The deleted-contacts GraphQL gateway.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the gateway (configured from environment variables)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(run=_serve)

    demo = commands.add_parser(
        "demo", help="the gateway plus both emulators with seeded data, no credentials"
    )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--seed", type=int, default=42)
    demo.set_defaults(run=_demo)

    emulate = commands.add_parser("emulate", help="run one provider emulator")
    emulate.add_argument("provider", choices=["constant-contact", "getresponse"])
    emulate.add_argument("--host", default="127.0.0.1")
    emulate.add_argument("--port", type=int, default=8001)
    emulate.add_argument("--seed", type=int, default=42)
    emulate.add_argument("--contacts", type=int, default=1000, help="seeded contacts (active + deleted)")
    emulate.add_argument("--deleted-fraction", type=float, default=0.3, help="share of them deleted")
    emulate.add_argument(
        "--requests-per-second", type=float, default=4.0, help="Constant Contact: limit per token (429 above)"
    )
    emulate.add_argument("--daily-quota", type=int, default=10_000, help="Constant Contact: requests per day")
    emulate.add_argument(
        "--access-token",
        action="append",
        help=f"Constant Contact bearer token to accept (repeatable; default {DEMO_CC_ACCESS_TOKEN})",
    )
    emulate.add_argument(
        "--api-key",
        action="append",
        help=f"GetResponse API key to accept (repeatable; default {DEMO_GR_API_KEY})",
    )
    emulate.set_defaults(run=_emulate)

    export = commands.add_parser("export-schema", help="print the GraphQL SDL")
    export.set_defaults(run=_export_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
