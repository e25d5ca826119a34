/*
 * Mounts GraphiQL on this gateway's GraphQL endpoint. Loaded after React, ReactDOM and GraphiQL, all
 * served by the gateway itself (no CDN). The endpoint is derived from this script's own URL
 * (<endpoint>/assets/graphiql-app.js), so the page works below any path prefix.
 */
(function () {
  'use strict';

  var endpoint = document.currentScript.src.replace(/\/assets\/[^/]*$/, '');

  var defaultQuery = [
    '# Deleted contacts at both providers, newest first.',
    '# Run: the play button or Ctrl-Enter. Then try e.g.',
    '#   filter: {reasons: [UNSUBSCRIBE, COMPLAINT]}',
    '#   filter: {deletedOn: {from: "2024-01-01"}}',
    '#   filter: {providers: [GETRESPONSE]}',
    '# Next page: pass pageInfo.endCursor as $after.',
    'query RecentlyDeleted($first: Int = 10, $after: String) {',
    '  deletedContacts(first: $first, after: $after) {',
    '    totalCount',
    '    pageInfo { hasNextPage endCursor }',
    '    sources { provider status count }',
    '    edges {',
    '      node {',
    '        id',
    '        provider',
    '        email',
    '        name',
    '        deletedOn',
    '        deletedAt',
    '        reason',
    '        restorable',
    '        restoreBlockedBy',
    '        ... on GetResponseDeletedContact { campaign { name } message { subject } }',
    '        ... on ConstantContactDeletedContact { permissionToSend updatedAt }',
    '      }',
    '    }',
    '  }',
    '}',
    ''
  ].join('\n');

  // Headers the server pre-fills (gateway demo: its service key). The fetcher sends them with every
  // request, the schema's introspection included; the header editor shows them, replacing whatever
  // the browser kept from an earlier visit, and does not keep them: a demo key dies with its demo.
  var preset = document.querySelector('meta[name="gateway-default-headers"]');
  var fetcherOptions = { url: endpoint, enableIncrementalDelivery: false };
  if (preset) {
    fetcherOptions.headers = JSON.parse(preset.content);
  }
  var props = {
    fetcher: GraphiQL.createFetcher(fetcherOptions),
    defaultQuery: defaultQuery,
    defaultEditorToolsVisibility: 'variables'
  };
  if (preset) {
    props.initialHeaders = preset.content;
    props.defaultHeaders = preset.content;
    props.shouldPersistHeaders = false;
    props.defaultEditorToolsVisibility = 'headers';
  }
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, props));
})();
