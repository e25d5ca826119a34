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

  var fetcher = GraphiQL.createFetcher({ url: endpoint, enableIncrementalDelivery: false });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultEditorToolsVisibility: 'variables'
    })
  );
})();
