"""The GraphQL operations the benchmark sends (the shapes the README's examples use)."""

from __future__ import annotations

__all__ = [
    "BY_EMAIL",
    "CONTACT_FIELDS",
    "DELETE",
    "LISTS",
    "LIST_PAGE",
    "LIST_PAGE_NESTED",
    "NODES",
    "ONE_CONTACT",
    "PROVIDERS",
    "RESTORE",
    "page_query",
]

CONTACT_FIELDS = """
      id provider contactId email name deletedOn deletedAt reason restorable restoreBlockedBy
      ... on GetResponseDeletedContact { campaignId messageId origin cycleDay }
      ... on ConstantContactDeletedContact { permissionToSend updatedAt }
"""

LIST_PAGE = (
    """
query Page($first: Int!, $after: String) {
  deletedContacts(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    sources { provider status count }
    edges { node {"""
    + CONTACT_FIELDS
    + """    } }
  }
}
"""
)
"""A page of deleted contacts from both providers, common and provider-specific scalar fields."""

LIST_PAGE_NESTED = """
query PageNested($first: Int!) {
  deletedContacts(first: $first) {
    totalCount
    sources { provider status count }
    edges { node {
      id provider email reason restorable
      ... on GetResponseDeletedContact { campaign { name } message { subject } }
    } }
  }
}
"""
"""A page from both providers with GetResponse's nested campaign and message."""

BY_EMAIL = """
query ByEmail($emails: [String!]!) {
  deletedContactsByEmail(emails: $emails) {
    email suppressedBy deletedContacts { id provider contactId deletedOn reason restorable }
  }
}
"""

NODES = """
query Nodes($ids: [ID!]!) {
  nodes(ids: $ids) { id ... on DeletedContact { provider email deletedOn reason } }
}
"""

ONE_CONTACT = """
query One($id: ID!) { deletedContact(id: $id) { id provider email deletedOn } }
"""

PROVIDERS = "{ providers { provider healthy } }"

LISTS = "{ constantContactLists { id name } }"

_MUTATION_RESULT = """
    results { index provider contactId status code }
    userErrors { code message index }
    bulkOperations { operationId state }
"""

DELETE = (
    """
mutation Delete($contacts: [ContactRefInput!]!) {
  deleteContacts(input: {contacts: $contacts}) {"""
    + _MUTATION_RESULT
    + """  }
}
"""
)

RESTORE = (
    """
mutation Restore($contacts: [ContactRefInput!]!, $lists: [ID!]) {
  restoreContacts(input: {contacts: $contacts, constantContactListIds: $lists}) {"""
    + _MUTATION_RESULT
    + """  }
}
"""
)


def page_query(first: int) -> dict[str, object]:
    return {"query": LIST_PAGE, "variables": {"first": first}}
