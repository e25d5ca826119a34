// Runs graphql-http's GraphQL-over-HTTP server audit against a running endpoint; prints JSON results.
//
//   node tests/http/graphql_http_audit.cjs <endpoint url> <dir holding node_modules/graphql-http>
//
// Output: [{"id", "name", "status": "ok" | "warn" | "error", "reason"?, "httpStatus"?}, ...]. An audit's
// name starts with its requirement level (MUST, SHOULD, MAY); judging the results is the caller's job.
'use strict';

const path = require('node:path');
const { createRequire } = require('node:module');

async function main() {
  const [url, toolsDir] = process.argv.slice(2);
  if (!url || !toolsDir) throw new Error('usage: graphql_http_audit.cjs <url> <tools dir>');
  const { auditServer } = createRequire(path.join(path.resolve(toolsDir), 'noop.js'))('graphql-http');
  const results = await auditServer({ url });
  const report = results.map((result) => {
    const entry = { id: result.id, name: result.name, status: result.status };
    if (result.status !== 'ok') {
      entry.reason = result.reason;
      if (result.response) entry.httpStatus = result.response.status;
    }
    return entry;
  });
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((error) => {
  process.stderr.write(String((error && error.stack) || error) + '\n');
  process.exit(2);
});
