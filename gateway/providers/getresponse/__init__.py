"""GetResponse 1.5 (JSON-RPC): the client, its typed records and conditions, and the adapter on top.

``client`` speaks JSON-RPC (batches, notifications, envelopes, resilience), ``records`` parses results
into typed records, ``conditions`` builds ``get_contacts_deleted`` conditions, ``mapping`` and
``adapter`` turn all of it into the provider-neutral ``DeletedContactsPort``.
"""

from .client import MAX_REQUEST_BYTES, GetResponseClient, RpcCall, rpc_error
from .conditions import DayRange, DeletedContactsQuery, TextCondition
from .records import AccountCallbacks, Campaign, Contact, DeletedContact, Message

__all__ = [
    "MAX_REQUEST_BYTES",
    "AccountCallbacks",
    "Campaign",
    "Contact",
    "DayRange",
    "DeletedContact",
    "DeletedContactsQuery",
    "GetResponseClient",
    "Message",
    "RpcCall",
    "TextCondition",
    "rpc_error",
]
