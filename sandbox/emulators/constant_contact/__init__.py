"""A faithful in-memory emulator of the Constant Contact v3 API (REST under ``/v3``).

    from emulators.constant_contact import create_app, ConstantContactEmulatorSettings
    app = create_app(ConstantContactEmulatorSettings(seed=42, contacts=1000))
    app.state.control   # EmulatorControl: request log, faults, clock, /_emulator/ routes
    app.state.store     # ConstantContactStore: the account's state, for tests

Constant Contact emulator.  It serves what a deleted-contacts gateway needs: ``GET/POST /v3/contacts``,
``GET/PUT/DELETE /v3/contacts/{id}``, ``POST /v3/contacts/sign_up_form``, the ``contact_delete`` and
``add_list_memberships`` bulk activities with ``GET /v3/activities/{id}``, ``GET /v3/contact_lists``,
and an OAuth2 refresh-token endpoint at ``/oauth2/default/v1/token``; shapes follow CC's Swagger
(the tests validate them against it).  Decisions where CC is silent: contacts page in creation order
behind an opaque cursor (base64 of the query plus ``next=<first id of the next page>``) and the href is
``/v3/contacts?cursor=...`` only, so paging stays exact while contacts are deleted or restored between
pages; DELETE is a soft delete that clears list memberships and bumps ``updated_at`` (an assumption, so
``updated_after`` syncs see deletions), and a second DELETE answers 204 (switchable to 404); restoring
by PUT needs ``update_source: "Account"`` and a list, left-out core fields become null, and a PUT
without ``email_address`` is rejected (switchable to clear or keep); after a restore ``deleted_at`` is
absent, not null; ``status=active`` means ``explicit`` or ``implicit`` permission; date filters are
inclusive ``after``, exclusive ``before``; ``contacts_count`` only with ``include_count=true``
(switchable).  Activities move initialized -> processing -> completed on the emulator clock, applying
items evenly over the processing time; unknown ids become per-item ``activity_errors`` naming the id.
Limits are per access token: a 4-request token bucket refilled at 4/s (429 ``throttled``) and 10,000
requests per UTC day (429 ``quota_exceeded``), both as single error objects like 401s, while other
errors are arrays; no rate-limit headers.  The request log counts operations by Swagger
``operationId`` plus ``throttled``, ``quota_exceeded`` and ``unauthorized``.  Seeded data comes from
``emulators.seed`` (a fifth of the addresses are shared with the GetResponse emulator).

Modules, top to bottom: ``settings`` (knobs and UNCONFIRMED switches), ``model`` (records, vocabulary,
JSON), ``ids``, ``errors``, ``store`` (the account and its rules), ``seed_data``, ``params`` and
``bodies`` (reading queries and bodies), ``paging`` (cursors), ``listing`` (the two collections),
``contacts`` (contact writes), ``activities``, ``limits``, ``auth`` (tokens and the token endpoint),
``api`` (the request pipeline) and ``app``.
"""

from .app import create_app
from .settings import ConstantContactEmulatorSettings

__all__ = ["ConstantContactEmulatorSettings", "create_app"]
