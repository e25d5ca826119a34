"""Root query fields. Each is a thin translation: GraphQL arguments -> core call -> GraphQL objects.

Fields that read contacts need the ``contacts:read`` scope (:mod:`.permissions`).  They are nullable,
so that a field refused (FORBIDDEN) or failed as a whole leaves the other fields of the answer intact.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated

import strawberry
from graphql import GraphQLError

from gateway.core import model
from gateway.core.consent import address_suppression
from gateway.core.deleted_pages import deleted_contacts_page
from gateway.core.gathering import gather_settled
from gateway.core.index import Consistency
from gateway.core.indexed_listing import IndexedPage, PageRequest
from gateway.core.listing import ListingPage, SourceStatus
from gateway.core.ordering import merge_order
from gateway.core.principals import Scope
from gateway.errors import InvalidId, ProviderNotConfigured, UserInputError, shown

from .audit import audit_events_field
from .context import GatewayContext, Info
from .errors import partial_error
from .ids import PROVIDER_BY_CONTACT_TYPE, decode_global_id
from .inputs import DeletedContactFilterInput, contact_key_from_global_id
from .permissions import requires
from .types import (
    BulkOperation,
    ConstantContactList,
    DeletedContact,
    GetResponseCampaign,
    Node,
    ProviderStatus,
    contact_type,
)

__all__ = ["Query"]


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


CountsOf = Callable[[], Awaitable[dict[model.Provider, int]]]


@strawberry.type(description="One provider's part in an answer.")
class SourceInfo:
    provider: model.Provider
    ok: bool
    status: str = strawberry.field(description="OK, or the error code of the provider's failure.")
    message: str | None
    fetched_at: datetime = strawberry.field(
        description="When the provider was read for this answer (from the index: when it was last synced)."
    )
    age_seconds: float = strawberry.field(description="How old the data is now (later pages reuse it).")
    retry_after: float | None
    synced_at: datetime | None = strawberry.field(
        description="When the index that answered was last synced with the provider; null for a live answer."
    )
    lag_seconds: float | None = strawberry.field(
        description="How far the index that answered is behind the provider now; null for a live answer."
    )
    _counts: strawberry.Private[CountsOf]

    @strawberry.field(description="Matching contacts this provider contributed (counted when asked).")
    async def count(self) -> int:
        return (await self._counts()).get(self.provider, 0)

    @classmethod
    def from_status(cls, status: SourceStatus, now: float, counts: CountsOf) -> SourceInfo:
        synced = status.synced_at
        return cls(
            provider=status.provider,
            ok=status.ok,
            status="OK" if status.ok else (status.error_code or "ERROR"),
            message=status.message,
            fetched_at=datetime.fromtimestamp(status.fetched_at, UTC),
            age_seconds=round(max(0.0, now - status.fetched_at), 3),
            retry_after=status.retry_after,
            synced_at=datetime.fromtimestamp(synced, UTC) if synced is not None else None,
            lag_seconds=round(max(0.0, now - synced), 3) if synced is not None else None,
            _counts=counts,
        )


@strawberry.type
class DeletedContactEdge:
    cursor: str
    node: DeletedContact


AnyPage = ListingPage[DeletedContact] | IndexedPage[DeletedContact]


@strawberry.type(description="Deleted contacts from every provider asked, most recent deletion first.")
class DeletedContactConnection:
    edges: list[DeletedContactEdge]
    nodes: list[DeletedContact] = strawberry.field(description="The page's contacts, without cursors.")
    page_info: PageInfo
    sources: list[SourceInfo]
    warnings: list[str] = strawberry.field(
        description="What to know beyond the sources, e.g. that later pages are kept by one replica only."
    )
    _page: strawberry.Private[AnyPage]

    @strawberry.field(description="Matching contacts in the whole result (counted when asked).")
    async def total_count(self) -> int:
        return await self._page.count_total()

    @classmethod
    def from_page(cls, page: AnyPage) -> DeletedContactConnection:
        edges = [DeletedContactEdge(cursor=page.cursor_at(i), node=node) for i, node in enumerate(page.items)]
        now = time.time()
        return cls(
            edges=edges,
            nodes=page.items,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            sources=[SourceInfo.from_status(s, now, page.counts) for s in page.sources],
            warnings=page.warnings,
            _page=page,
        )


@strawberry.type(description="What the providers know about one email address.")
class EmailDeletions:
    email: str
    deleted_contacts: list[DeletedContact] = strawberry.field(
        description="Every deleted record of the address, most recent deletion first."
    )
    suppressed_by: str | None = strawberry.field(
        description="Why the address must not be mailed from any provider (a complaint or blacklisting "
        "anywhere); null when nothing suppresses it."
    )


def _report_source_errors(context: GatewayContext, info: Info, sources: list[SourceStatus]) -> None:
    path = info.path.as_list()
    for status in sources:
        if not status.ok:
            context.partial_errors.append(
                GraphQLError(
                    f"{status.provider.value}: {status.message}",
                    path=path,
                    extensions={
                        "code": status.error_code,
                        "provider": status.provider.name,
                        **({"retryAfter": status.retry_after} if status.retry_after is not None else {}),
                    },
                )
            )


async def _load_node(info: Info, global_id: str) -> Node | None:
    """``global_id`` has been checked against the input limits."""
    type_name, local_id = decode_global_id(global_id)
    if type_name in PROVIDER_BY_CONTACT_TYPE:
        found = await info.context.loaders.contacts.load(contact_key_from_global_id(global_id))
        return contact_type(found) if found is not None else None
    if type_name == "BulkOperation":
        provider_name, _, operation_id = local_id.partition(":")
        try:
            provider = model.Provider(provider_name)
        except ValueError:
            raise InvalidId(f"{shown(global_id)} is not a valid id") from None
        port = info.context.services.ports.get(provider)
        if port is None:
            raise ProviderNotConfigured(f"{provider.name} is not configured on this gateway")
        return BulkOperation.from_progress(await port.bulk_progress(operation_id))
    raise InvalidId(f"{shown(global_id)} is not a valid id")


def _page_request(
    default_size: int,
    max_size: int,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> PageRequest:
    """Relay's paging arguments, one direction at a time: ``first``/``after`` or ``last``/``before``."""
    if first is not None and last is not None:
        raise UserInputError("give `first` or `last`, not both")
    if after is not None and before is not None:
        raise UserInputError("give `after` or `before`, not both")
    backward = last is not None or (before is not None and first is None)
    if backward and after is not None:
        raise UserInputError("`after` pages forward: use it with `first`")
    if not backward and before is not None:
        raise UserInputError("`before` pages backward: use it with `last`")
    size = default_size if (last if backward else first) is None else (last if backward else first)
    assert size is not None
    argument = "last" if backward else "first"
    if not 1 <= size <= max_size:
        raise UserInputError(f"`{argument}` must be between 1 and {max_size}")
    return PageRequest(size, after=after, before=before, backward=backward)


@strawberry.type
class Query:
    audit_events = audit_events_field

    @strawberry.field(
        description="Deleted contacts across providers, merged most-recent-deletion first.",
        extensions=requires(Scope.CONTACTS_READ),
    )
    async def deleted_contacts(
        self,
        info: Info,
        filter: DeletedContactFilterInput | None = None,
        first: Annotated[
            int | None, strawberry.argument(description="Page size: default 50, at most 500 (settable).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(description="An endCursor of the same query: the page after it."),
        ] = None,
        last: Annotated[
            int | None,
            strawberry.argument(
                description="Backward paging: the last contacts before `before` (or of all)."
            ),
        ] = None,
        before: Annotated[
            str | None,
            strawberry.argument(description="A startCursor of the same query: the page before it."),
        ] = None,
        consistency: Annotated[
            Consistency | None,
            strawberry.argument(
                description="INDEXED: the synced index; LIVE: the providers now. Default: the index once it "
                "is built, the providers until then. Later pages follow their cursor."
            ),
        ] = None,
    ) -> DeletedContactConnection | None:
        services = info.context.services
        request = _page_request(
            services.default_page_size, services.max_page_size, first, after, last, before
        )
        limits = services.limits
        for name, cursor in (("after", after), ("before", before)):
            if cursor is not None:
                limits.cursor(cursor, name)
        query = (filter or DeletedContactFilterInput()).to_core(limits)
        page = await deleted_contacts_page(
            services.ports,
            services.snapshots,
            services.listings,
            services.index,
            query,
            request,
            consistency,
            present=contact_type,
        )
        if not isinstance(page, IndexedPage):
            info.context.answered_live = True
        _report_source_errors(info.context, info, page.sources)
        return DeletedContactConnection.from_page(page)

    @strawberry.field(
        description="One deleted contact by its global id; null if it is not deleted (anymore).",
        extensions=requires(Scope.CONTACTS_READ),
    )
    async def deleted_contact(self, info: Info, id: strawberry.ID) -> DeletedContact | None:
        key = contact_key_from_global_id(info.context.services.limits.global_id(id, "id"))
        found = await info.context.loaders.contacts.load(key)
        return contact_type(found) if found is not None else None

    @strawberry.field(extensions=requires(Scope.CONTACTS_READ))
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await _load_node(info, info.context.services.limits.global_id(id, "id"))

    @strawberry.field(
        description="Nodes in the order asked (at most 200 ids by default, settable); null where not found.",
        extensions=requires(Scope.CONTACTS_READ),
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        limits = info.context.services.limits
        limits.check_count(ids, limits.max_nodes_per_lookup, "ids", "ids")
        for index, global_id in enumerate(ids):
            limits.global_id(global_id, f"ids[{index}]")
            decode_global_id(global_id)  # reject malformed ids before any upstream call
        return await gather_settled(_load_node(info, global_id) for global_id in ids)

    @strawberry.field(
        description="Everything the providers record as deleted for these addresses (case-insensitive; "
        "at most 100 addresses by default, settable).",
        extensions=requires(Scope.CONTACTS_READ),
    )
    async def deleted_contacts_by_email(self, info: Info, emails: list[str]) -> list[EmailDeletions] | None:
        limits = info.context.services.limits
        limits.check_count(emails, limits.max_emails_per_lookup, "emails", "addresses")
        for index, email in enumerate(emails):
            limits.email(email, f"emails[{index}]")
        loaders = info.context.loaders
        found = await loaders.load_by_email(emails)
        for error in loaders.email_errors.values():
            info.context.partial_errors.append(partial_error(error, info.path.as_list()))
        return [
            EmailDeletions(
                email=email,
                deleted_contacts=[contact_type(c) for c in merge_order(contacts)],
                suppressed_by=address_suppression(contacts),
            )
            for email, contacts in zip(emails, found, strict=True)
        ]

    @strawberry.field(description="Every provider the gateway knows, configured or not, with its health.")
    def providers(self, info: Info) -> list[ProviderStatus]:
        ports = info.context.services.ports
        return [
            ProviderStatus.from_health(ports[p].health())
            if p in ports
            else ProviderStatus(
                provider=p, configured=False, healthy=False, circuit_state="closed", rate_budget=None
            )
            for p in model.Provider
        ]

    @strawberry.field(
        description="Constant Contact lists (targets for restoring Constant Contact contacts).",
        extensions=requires(Scope.CONTACTS_READ),
    )
    async def constant_contact_lists(self, info: Info) -> list[ConstantContactList] | None:
        adapter = info.context.services.constant_contact
        if adapter is None:
            raise ProviderNotConfigured("CONSTANT_CONTACT is not configured on this gateway")
        return [
            ConstantContactList(
                id=strawberry.ID(item.list_id),
                name=item.name,
                description=item.description,
                membership_count=item.membership_count,
                created_at=item.created_at,
            )
            for item in await adapter.contact_lists()
        ]

    @strawberry.field(description="GetResponse campaigns.", extensions=requires(Scope.CONTACTS_READ))
    async def get_response_campaigns(self, info: Info) -> list[GetResponseCampaign] | None:
        adapter = info.context.services.getresponse
        if adapter is None:
            raise ProviderNotConfigured("GETRESPONSE is not configured on this gateway")
        return [GetResponseCampaign.from_record(c) for c in await adapter.campaigns()]

    @strawberry.field(
        description="A bulk operation (Constant Contact activity) and its progress.",
        extensions=requires(Scope.CONTACTS_READ),
    )
    async def bulk_operation(self, info: Info, id: strawberry.ID) -> BulkOperation | None:
        type_name, _ = decode_global_id(info.context.services.limits.global_id(id, "id"))
        if type_name != "BulkOperation":
            raise InvalidId(f"{shown(id)} is not the id of a bulk operation")
        node = await _load_node(info, id)
        return node if isinstance(node, BulkOperation) else None
