"""Constant Contact v3: the async client, its typed records, OAuth refresh, and the gateway adapter.

    from gateway.providers.constant_contact import ConstantContactClient, OAuthRefresh
    client = ConstantContactClient(base_url="https://api.cc.email", access_token=token)
    async for page in client.iter_contact_pages(status=("deleted",), limit=500):
        ...
    await client.aclose()

Modules: ``records`` (typed, defensively parsed JSON), ``auth`` (bearer token and the one-at-a-time
OAuth refresh), ``client`` (endpoints, errors, rate limit, budget, retries), ``mapping`` and ``adapter``
(the provider-neutral port).  The adapter is not imported here, so the client stays usable without the
core model.
"""

from .auth import BearerCredentials, OAuthRefresh
from .client import ConstantContactClient, error_details, error_for_response
from .records import Activity, Contact, ContactList, ContactListsPage, ContactsPage, EmailAddress

__all__ = [
    "Activity",
    "BearerCredentials",
    "ConstantContactClient",
    "Contact",
    "ContactList",
    "ContactListsPage",
    "ContactsPage",
    "EmailAddress",
    "OAuthRefresh",
    "error_details",
    "error_for_response",
]
