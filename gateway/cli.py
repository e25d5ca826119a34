"""Command line: ``gateway serve | sync | demo | emulate | export-schema | db ... | keys ... | audit ...``."""

from __future__ import annotations

import argparse
import importlib
import ipaddress
import logging
import sys
from collections.abc import Callable, Sequence

import uvicorn

from .admin import add_audit_commands, add_database_commands, add_key_commands, prepare_database
from .callbacks_command import add_callbacks_command
from .runtime import tune_garbage_collector
from .sync_command import add_sync_command

__all__ = ["main"]

# Where ``demo`` and ``emulate`` live: the emulators' own distribution (sandbox/), not this package.
EMULATOR_COMMANDS = "emulators.commands"
INSTALL_HINT = (
    "the emulators are not installed here; from a checkout of the repository run "
    "`pip install -e ./sandbox` (or `make setup`), then try again"
)


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # httpx logs every upstream request at INFO: per-call noise that belongs at DEBUG.
    debug = level.upper() == "DEBUG"
    logging.getLogger("httpx").setLevel(logging.DEBUG if debug else logging.WARNING)


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server reachable from this machine alone."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve to anything


def _serve(args: argparse.Namespace) -> int:
    from .app import create_app
    from .config import Settings
    from .observability.logs import configure_logging as configure_gateway_logging

    settings = Settings()
    if settings.auth_mode == "off" and not is_loopback(args.host):
        print(
            f"gateway serve: AUTH_MODE=off lets anyone who reaches {args.host} read and change contacts; "
            "it is for local development on a loopback host (127.0.0.1, ::1, localhost) only",
            file=sys.stderr,
        )
        return 2
    configure_gateway_logging(settings)
    # Checked before uvicorn starts, so a database that is behind (or unreachable) gives one clear line
    # and a failed exit instead of a traceback from the application's start-up.
    if (refusal := prepare_database(settings)) is not None:
        print(f"gateway serve: {refusal}", file=sys.stderr)
        return 2
    app = create_app(settings)
    if settings.gc_tuning:
        tune_garbage_collector()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=settings.log_level.lower(),
        # The gateway's own logging stays in place (format, redactions) and writes the access line.
        log_config=None,
        access_log=False,
    )
    return 0


def _emulator_command(name: str) -> Callable[[argparse.Namespace], int]:
    """The emulators' implementation of ``name``, or a command that explains how to install them."""

    def run(args: argparse.Namespace) -> int:
        try:
            commands = importlib.import_module(EMULATOR_COMMANDS)
        except ModuleNotFoundError as missing:
            if missing.name not in ("emulators", EMULATOR_COMMANDS):
                raise
            print(f"gateway {name}: {INSTALL_HINT}", file=sys.stderr)
            return 2
        command: Callable[[argparse.Namespace], int] = getattr(commands, name)
        return command(args)

    return run


def _export_schema(args: argparse.Namespace) -> int:
    from .config import Settings
    from .schema.schema import build_schema

    sys.stdout.write(build_schema(Settings()).as_str() + "\n")  # the SDL is the same whatever the limits
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gateway", description="The deleted-contacts GraphQL gateway.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the gateway (configured from environment variables)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(run=_serve)
    add_sync_command(commands)

    demo = commands.add_parser(
        "demo", help="the gateway plus both emulators with seeded data, no credentials"
    )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--seed", type=int, default=42)
    demo.set_defaults(run=_emulator_command("demo"))

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
        help="Constant Contact bearer token to accept (repeatable; default: the demo token)",
    )
    emulate.add_argument(
        "--api-key",
        action="append",
        help="GetResponse API key to accept (repeatable; default: the demo key)",
    )
    emulate.set_defaults(run=_emulator_command("emulate"))

    export = commands.add_parser("export-schema", help="print the GraphQL SDL")
    export.set_defaults(run=_export_schema)
    add_database_commands(commands)
    add_key_commands(commands)
    add_audit_commands(commands)
    add_callbacks_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
