// The official TypeScript SDK through the balancer: 100 sessions (50 over legacy SSE, 50 over
// Streamable HTTP) that each list tools and call get_profile three times. This SDK keeps
// Mcp-Session-Id sessions (the protocol generation before the stateless 2026-07-28), so with
// round-robin most of its requests land on an instance that did not make the session and must
// restore it. scripts/test-cluster runs it; exits non-zero on any failure.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const base = process.env.GMAIL_LB_MCP_URL;
const key = process.env.GMAIL_CLUSTER_KEY;
const account = process.env.GMAIL_CLUSTER_ACCOUNT;
const requestInit = { headers: { Authorization: `Bearer ${key}` } };

async function session(i) {
  const sse = i % 2 === 0;
  const url = new URL(sse ? '/sse' : '/mcp', base);
  const transport = sse
    ? new SSEClientTransport(url, { requestInit })
    : new StreamableHTTPClientTransport(url, { requestInit });
  const client = new Client({ name: 'cluster-node', version: '1.0.0' });
  await new Promise((r) => setTimeout(r, i * 10));
  await client.connect(transport);
  try {
    if (!sse && !transport.sessionId) throw new Error('no Mcp-Session-Id: not a session-based protocol');
    const tools = (await client.listTools()).tools.map((t) => t.name);
    if (!tools.includes('get_profile')) throw new Error(`tools: ${tools}`);
    for (let n = 0; n < 3; n++) {
      const r = await client.callTool({ name: 'get_profile', arguments: {} });
      if (r.isError || r.structuredContent?.emailAddress !== account) {
        throw new Error(`get_profile: ${JSON.stringify(r).slice(0, 200)}`);
      }
    }
    return sse ? 'sse' : `mcp ${transport.protocolVersion ?? ''}`.trim();
  } finally {
    await client.close();
  }
}

const started = Date.now();
const results = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => session(i)));
const failed = results.filter((r) => r.status === 'rejected');
const kinds = {};
for (const r of results) if (r.status === 'fulfilled') kinds[r.value] = (kinds[r.value] ?? 0) + 1;
console.log(
  `node SDK through HAProxy: ${results.length - failed.length} of 100 sessions completed ` +
    `(${JSON.stringify(kinds)}), ${failed.length} failed, ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
for (const f of failed.slice(0, 5)) console.log(`  ${f.reason?.stack ?? f.reason}`);
process.exit(failed.length ? 1 : 0);
