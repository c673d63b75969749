// Which tools the official TypeScript SDK client sees over legacy SSE (/sse) and Streamable
// HTTP (/mcp): toolsets, single tools and read-only asked for by headers or path, and the API
// key's own rules. Each only narrows what the server allows, and a hidden tool's call is
// refused exactly like a tool that does not exist. scripts/test-node starts the servers.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const env = process.env;
const SINGLE = env.GMAIL_MCP_URL; // single-user, GMAIL_TOOLSETS=all
const MULTI = env.GMAIL_MU_MCP_URL; // multi-user, default toolsets
const KEYS = { plain: env.GMAIL_KEY_PLAIN, readOnly: env.GMAIL_KEY_READ_ONLY, read: env.GMAIL_KEY_READ };
const READ_TOOLS = ['download_attachment', 'get_profile', 'get_thread', 'list_threads', 'read_email', 'search_emails'];
const MAIL = { to: ['demo@example.com'], subject: 'toolsets node test', body: 'Hello.' };

/** Runs `fn` with a client connected to `base` over `transport` ('sse' or 'mcp'), then closes it. */
async function withClient(transport, base, { path = '', headers = {}, key } = {}, fn) {
  const url = new URL(`/${transport}${path}`, base);
  // On /sse the headers must reach the GET that opens the session; the SDK sends
  // requestInit's headers on it as well as on every POST.
  const requestInit = { headers: key ? { ...headers, Authorization: `Bearer ${key}` } : headers };
  const Transport = transport === 'sse' ? SSEClientTransport : StreamableHTTPClientTransport;
  const client = new Client({ name: 'gmail-servers-node-tests', version: '1.0.0' });
  await client.connect(new Transport(url, { requestInit }));
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

const listTools = (transport, base, opts) =>
  withClient(transport, base, opts, async (c) => (await c.listTools()).tools);
const names = (tools) => tools.map((t) => t.name).sort();
/** The toolsets the server's instructions say are on. */
const toolsetsOn = (client) => client.getInstructions().match(/Toolsets on: ([^.(]*)/)[1].trim().split(/,\s*/).sort();
/** Calling `name` fails exactly as calling a tool that does not exist does (names aside). */
async function assertRefusedAsUnknown(client, name, args) {
  const error = (tool) =>
    client.callTool({ name: tool, arguments: args }).then(
      (r) => assert.fail(`${tool} was not refused: ${JSON.stringify(r)}`),
      (e) => ({ code: e.code, message: e.message.replaceAll(tool, '<tool>') }),
    );
  const hidden = await error(name);
  assert.deepEqual(hidden, await error('no_such_tool'));
  assert.match(hidden.message, /Unknown tool: <tool>$/);
}

async function sandboxSends() {
  const stats = await (await fetch(new URL('__sandbox/stats', env.GMAIL_SANDBOX_URL))).json();
  return stats.requests['users.messages.send'] ?? 0;
}

// Alice's keys share one mailbox: connect it once, through the REST server's browser flow
// (the start page's button, the sandbox's consent, the code handed to gmail_handle_oauth_callback),
// so the plain key really can send and the read-only key's refusal means something.
before(async () => {
  await withClient('mcp', MULTI, { key: KEYS.plain }, async (c) => {
    const { authUrl, state } = (
      await c.callTool({ name: 'gmail_get_auth_url', arguments: { loginHint: 'demo@example.com' } })
    ).structuredContent;
    const start = await fetch(new URL('/oauth/start', authUrl), {
      method: 'POST',
      body: new URLSearchParams({ state }),
      redirect: 'manual',
    });
    assert.equal(start.status, 303, await start.text());
    const consent = await fetch(start.headers.get('location'), { redirect: 'manual' });
    const code = new URL(consent.headers.get('location')).searchParams.get('code');
    const done = await c.callTool({ name: 'gmail_handle_oauth_callback', arguments: { code, state } });
    assert.ok(!done.isError, JSON.stringify(done.content));
  });
});

for (const transport of ['sse', 'mcp']) {
  describe(transport, () => {
    it('X-MCP-Toolsets: read lists only the read tools, and the instructions say so', async () => {
      const all = await listTools(transport, SINGLE);
      await withClient(transport, SINGLE, { headers: { 'X-MCP-Toolsets': 'read' } }, async (c) => {
        const read = names((await c.listTools()).tools);
        assert.deepEqual(read, READ_TOOLS);
        assert.ok(all.length > read.length && read.every((n) => names(all).includes(n)));
        assert.deepEqual(toolsetsOn(c), ['read']);
      });
    });

    it('X-MCP-Tools lists exactly the tools named', async () => {
      const tools = await listTools(transport, SINGLE, { headers: { 'X-MCP-Tools': 'search_emails,read_email' } });
      assert.deepEqual(names(tools), ['read_email', 'search_emails']);
    });

    for (const [how, opts] of [
      ['X-MCP-Readonly: true', { headers: { 'X-MCP-Readonly': 'true' } }],
      [`/${transport}/readonly`, { path: '/readonly' }],
    ]) {
      it(`${how} lists only read-only tools and refuses the others`, async () => {
        await withClient(transport, SINGLE, opts, async (c) => {
          const tools = (await c.listTools()).tools;
          assert.deepEqual(tools.filter((t) => t.annotations?.readOnlyHint !== true).map((t) => t.name), []);
          assert.ok(names(tools).includes('search_emails'));
          assert.ok(!names(tools).includes('send_email'));
          // dryRun: were the refusal missing, nothing would be sent from the demo mailbox.
          await assertRefusedAsUnknown(c, 'send_email', { ...MAIL, dryRun: true });
        });
      });
    }

    it("headers never widen a key's toolsets", async () => {
      const widened = await listTools(transport, MULTI, { key: KEYS.read, headers: { 'X-MCP-Toolsets': 'all' } });
      assert.deepEqual(names(widened), READ_TOOLS);
      const named = await listTools(transport, MULTI, { key: KEYS.read, headers: { 'X-MCP-Tools': 'send_email' } });
      assert.deepEqual(names(named), []);
    });

    it('a read-only key lists only read-only tools; its send_email is refused like an unknown tool and sends nothing', async () => {
      const sent = await sandboxSends();
      await withClient(transport, MULTI, { key: KEYS.readOnly }, async (c) => {
        const tools = (await c.listTools()).tools;
        assert.deepEqual(tools.filter((t) => t.annotations?.readOnlyHint !== true).map((t) => t.name), []);
        assert.ok(names(tools).includes('search_emails'));
        assert.ok(!names(tools).includes('send_email'));
        await assertRefusedAsUnknown(c, 'send_email', MAIL);
      });
      assert.equal(await sandboxSends(), sent);
      // The same call with the user's plain key goes through: the refusal was the key's rules.
      await withClient(transport, MULTI, { key: KEYS.plain }, async (c) => {
        const result = await c.callTool({ name: 'send_email', arguments: MAIL });
        assert.ok(!result.isError, JSON.stringify(result.content));
      });
      assert.equal(await sandboxSends(), sent + 1);
    });

    it('a multi-user server by default lists read, compose, organize and connections tools', async () => {
      await withClient(transport, MULTI, { key: KEYS.plain }, async (c) => {
        const on = names((await c.listTools()).tools);
        for (const tool of ['search_emails', 'send_email', 'trash_email', 'gmail_get_auth_url']) {
          assert.ok(on.includes(tool), `${tool} missing`);
        }
        for (const tool of ['delete_email', 'batch_delete_emails', 'create_filter', 'list_filters']) {
          assert.ok(!on.includes(tool), `${tool} listed`);
        }
        assert.deepEqual(toolsetsOn(c), ['compose', 'connections', 'organize', 'read']);
      });
    });
  });
}
