// Drives a running gateway with the real persisted-query clients: Apollo Client's PersistedQueryLink
// and urql's persistedExchange.  Each client runs its query twice; every HTTP exchange is recorded.
//
//   node tests/e2e/persisted_query_clients.cjs <endpoint url> <credential> <dir holding node_modules>
//
// Output: {"apollo": {"exchanges": [...], "results": [...]}, "urql": {...}}; an exchange is
// {"method", "sentQuery", "sentHash", "status", "codes"}.  Judging them is the caller's job.
'use strict';

const crypto = require('node:crypto');
const path = require('node:path');
const { createRequire } = require('node:module');

const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex');

function recordingFetch(exchanges) {
  return async (input, init = {}) => {
    const url = new URL(typeof input === 'string' ? input : input.url);
    const method = (init.method || 'GET').toUpperCase();
    let sent = {};
    if (method === 'POST') sent = JSON.parse(init.body);
    else {
      sent = { query: url.searchParams.get('query') };
      const extensions = url.searchParams.get('extensions');
      if (extensions) sent.extensions = JSON.parse(extensions);
    }
    const response = await fetch(input, init);
    const body = await response.clone().json();
    exchanges.push({
      method,
      sentQuery: Boolean(sent.query),
      sentHash: Boolean(sent.extensions && sent.extensions.persistedQuery),
      status: response.status,
      codes: (body.errors || []).map((error) => (error.extensions || {}).code),
    });
    return response;
  };
}

async function apollo(load, url, credential) {
  const { ApolloClient, HttpLink, InMemoryCache, gql } = load('@apollo/client');
  const { createPersistedQueryLink } = load('@apollo/client/link/persisted-queries');
  const exchanges = [];
  const client = new ApolloClient({
    cache: new InMemoryCache(),
    link: createPersistedQueryLink({ sha256 }).concat(
      new HttpLink({ uri: url, headers: { authorization: `Bearer ${credential}` }, fetch: recordingFetch(exchanges) }),
    ),
  });
  const query = gql`query ApolloProbe { deletedContacts(first: 3) { totalCount } }`;
  const results = [];
  for (let i = 0; i < 2; i += 1) {
    const { data } = await client.query({ query, fetchPolicy: 'no-cache' });
    results.push(data);
  }
  return { exchanges, results };
}

async function urql(load, url, credential) {
  const { createClient, fetchExchange, gql } = load('@urql/core');
  const { persistedExchange } = load('@urql/exchange-persisted');
  const exchanges = [];
  const client = createClient({
    url,
    exchanges: [persistedExchange({ generateHash: async (text) => sha256(text) }), fetchExchange],
    fetch: recordingFetch(exchanges),
    fetchOptions: { headers: { authorization: `Bearer ${credential}` } },
    requestPolicy: 'network-only',
  });
  const query = gql`query UrqlProbe { deletedContacts(first: 2) { totalCount } }`;
  const results = [];
  for (let i = 0; i < 2; i += 1) {
    const result = await client.query(query, {}).toPromise();
    if (result.error) throw result.error;
    results.push(result.data);
  }
  return { exchanges, results };
}

async function main() {
  const [url, credential, toolsDir] = process.argv.slice(2);
  if (!url || !credential || !toolsDir) throw new Error('usage: persisted_query_clients.cjs <url> <credential> <tools dir>');
  const load = createRequire(path.join(path.resolve(toolsDir), 'noop.js'));
  const report = { apollo: await apollo(load, url, credential), urql: await urql(load, url, credential) };
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((error) => {
  process.stderr.write(String((error && error.stack) || error) + '\n');
  process.exit(2);
});
