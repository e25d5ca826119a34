"""A faithful in-memory emulator of GetResponse API 1.5 (JSON-RPC at ``POST /``).

    from emulators.getresponse import create_app, GetResponseEmulatorSettings
    app = create_app(GetResponseEmulatorSettings(seed=42, contacts=1000))
    app.state.control   # EmulatorControl: request log, faults, clock, /_emulator/ routes
    app.state.store     # GetResponseStore: the account's state, for tests

Modules, top to bottom: ``settings`` (knobs and UNCONFIRMED switches), ``model`` (records and the
documented vocabulary), ``ids``, ``store`` (the account and its rules), ``seed_data``, ``errors``,
``conditions`` (operator semantics), ``params`` (reading conditions objects), ``catalog`` (campaigns,
messages, IDs in conditions), ``contacts`` (``get_contacts``), ``deleted`` (``get_contacts_deleted``),
``callbacks``, ``methods`` (the method table and per-call checks), ``rpc`` (JSON-RPC envelopes) and
``app``.
"""

from .app import create_app
from .settings import GetResponseEmulatorSettings

__all__ = ["GetResponseEmulatorSettings", "create_app"]
