"""The gateway's HTTP edge: GraphQL over HTTP (``GraphQLEndpoint``) and an offline GraphiQL."""

from .endpoint import ContextGetter, GraphQLEndpoint
from .graphiql import GraphiQL, default_graphiql, graphiql_routes
from .negotiation import MediaType
from .request_id import REQUEST_ID_HEADER

__all__ = [
    "REQUEST_ID_HEADER",
    "ContextGetter",
    "GraphQLEndpoint",
    "GraphiQL",
    "MediaType",
    "default_graphiql",
    "graphiql_routes",
]
