// The peer's supergraph (issue 16): what a team would compose with GraphQL Mesh instead of this gateway.
//
// - ConstantContact: Constant Contact's official Swagger 2.0 file, unchanged (tests/fixtures), through
//   @omnigraph/openapi. Every operation of the v3 API becomes a field; the benchmark uses getContacts.
// - ConstantContactPages: the official file has no `cursor` parameter on GET /contacts (the API's
//   `_links.next.href` carries one), so a later page needs one hand-described GET.
// - GetResponse: JSON-RPC 1.5 is one POST URL with the API key inside the body, so each call the benchmark
//   needs is a hand-described POST (@omnigraph/json-schema) whose body is built by requestBaseBody.
//
// Endpoints and credentials are read by Hive Gateway from its environment at request time ({env.*}), so
// one composition serves every emulator pair and no secret is written into the supergraph.
import { defineConfig } from '@graphql-mesh/compose-cli';
import { loadJSONSchemaSubgraph } from '@omnigraph/json-schema';
import { loadOpenAPISubgraph } from '@omnigraph/openapi';

const swagger = process.env.PEER_CC_SWAGGER;
if (!swagger) throw new Error('PEER_CC_SWAGGER (the path of the official Swagger file) is not set');

const CC_HEADERS = { Authorization: 'Bearer {env.PEER_CC_ACCESS_TOKEN}' };

// One deleted-contact record of get_contacts_deleted (GetResponse 1.5 documentation), keyed by id.
const GR_DELETED = {
  type: 'object',
  title: 'GetResponseDeletedRecord',
  properties: {
    campaign: { type: 'string' },
    message: { type: 'string' },
    name: { type: 'string' },
    email: { type: 'string' },
    origin: { type: 'string' },
    ip: { type: 'string' },
    cycle_day: { type: 'integer' },
    reason: { type: 'string' },
    created_on: { type: 'string' },
    deleted_on: { type: 'string' },
  },
};

const GR_REPLY = {
  type: 'object',
  title: 'GetResponseDeletedReply',
  properties: {
    jsonrpc: { type: 'string' },
    id: { type: 'integer' },
    // An unordered map id -> record: GraphQL has no map type, so the peer serves it as JSON.
    result: { type: 'object', additionalProperties: GR_DELETED },
    error: {
      type: 'object',
      title: 'GetResponseRpcError',
      properties: { code: { type: 'integer' }, message: { type: 'string' } },
    },
  },
};

function grDeleted(field: string, conditions: Record<string, string>, args: string[]) {
  return {
    type: 'Query' as const,
    field,
    path: '/',
    method: 'POST' as const,
    // json-schema makes arguments only from {args.*} in a path or a header, never from requestBaseBody:
    // a header that names each argument declares it (the JSON-RPC server ignores the header).
    headers: Object.fromEntries(args.map(name => [`X-Argument-${name}`, `{args.${name}}`])),
    requiredArgs: args,
    requestBaseBody: {
      jsonrpc: '2.0',
      id: 1,
      method: 'get_contacts_deleted',
      'params.0': '{env.PEER_GR_API_KEY}',
      ...conditions,
    },
    responseSchema: GR_REPLY,
  };
}

export const composeConfig = defineConfig({
  subgraphs: [
    {
      sourceHandler: loadOpenAPISubgraph('ConstantContact', {
        source: swagger,
        endpoint: '{env.PEER_CC_URL}/v3',
        operationHeaders: CC_HEADERS,
      }),
    },
    {
      sourceHandler: loadJSONSchemaSubgraph('ConstantContactPages', {
        endpoint: '{env.PEER_CC_URL}/v3',
        operationHeaders: CC_HEADERS,
        operations: [
          {
            type: 'Query',
            field: 'contactsPage',
            description: 'The page a getContacts answer links to (its _links.next.href cursor).',
            path: '/contacts?cursor={args.cursor}',
            method: 'GET',
            argTypeMap: { cursor: { type: 'string' } },
            requiredArgs: ['cursor'],
            responseSchema: {
              type: 'object',
              title: 'ContactsPage',
              properties: {
                contacts: {
                  type: 'array',
                  items: {
                    type: 'object',
                    title: 'ContactsPageContact',
                    properties: {
                      contact_id: { type: 'string' },
                      email_address: {
                        type: 'object',
                        title: 'ContactsPageEmail',
                        properties: { address: { type: 'string' } },
                      },
                      first_name: { type: 'string' },
                      last_name: { type: 'string' },
                      created_at: { type: 'string' },
                      updated_at: { type: 'string' },
                      deleted_at: { type: 'string' },
                    },
                  },
                },
                _links: { type: 'object', additionalProperties: true },
              },
            },
          },
        ],
      }),
    },
    {
      sourceHandler: loadJSONSchemaSubgraph('GetResponse', {
        endpoint: '{env.PEER_GR_URL}',
        operations: [
          grDeleted('getResponseDeletedContacts', { 'params.1.deleted_on.FROM': '1970-01-01' }, []),
          grDeleted('getResponseDeletedByReason', { 'params.1.reason': '{args.reason}' }, ['reason']),
          grDeleted('getResponseDeletedByEmail', { 'params.1.email.EQUALS': '{args.email}' }, ['email']),
        ],
      }),
    },
  ],
});
