"""The command line: the schema export that `schema.graphql` is generated from, and the parser."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli import build_parser, is_loopback, main

ROOT = Path(__file__).resolve().parent.parent


def test_schema_graphql_is_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export-schema"]) == 0
    exported = capsys.readouterr().out
    committed = (ROOT / "schema.graphql").read_text()
    assert exported == committed, "schema.graphql is stale: run `make schema`"


def test_export_schema_runs_as_a_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "export-schema"], capture_output=True, text=True, check=True
    )
    assert "interface DeletedContact implements Node" in result.stdout
    assert "deletedContacts(" in result.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--port", "9000"],
        ["demo", "--port", "9001", "--seed", "3"],
        ["emulate", "constant-contact", "--requests-per-second", "50", "--access-token", "t"],
        ["emulate", "getresponse", "--contacts", "10", "--api-key", "k"],
    ],
)
def test_parser_accepts_the_documented_commands(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert callable(args.run)


def test_unknown_provider_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["emulate", "mailchimp"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "gateway.internal"])
def test_serve_refuses_authentication_off_on_a_host_others_can_reach(
    host: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AUTH_MODE", "off")
    assert main(["serve", "--host", host, "--port", "0"]) == 2
    assert "AUTH_MODE=off" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("10.0.0.1", False), ("example.com", False)],
)  # fmt: skip
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
