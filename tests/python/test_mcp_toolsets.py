"""Toolsets, read-only mode and per-request narrowing as the official Python client sees them,
over legacy SSE and Streamable HTTP: the single-user server has every toolset on, so its full
list is what each narrowing is compared with; the multi-user server runs the default toolsets
with API keys that narrow (--read-only, --toolsets read). A hidden tool's call is refused
exactly like a misspelled tool's, and the sandbox confirms nothing was sent."""

import json
import re
import urllib.request

import pytest
from conftest import ENDPOINTS, dump

from mcp_compat import MCPError

pytestmark = pytest.mark.anyio

# The read toolset as the catalog declares it.
READ = {"search_emails", "list_threads", "read_email", "get_thread", "download_attachment", "get_profile"}
WRITES = {"send_email", "reply_email", "draft_email", "modify_email", "trash_email", "delete_email", "create_filter"}
ALL_TOOLSETS = {"read", "compose", "organize", "delete", "labels", "filters", "settings", "history", "connections"}
SEND = {"to": ["zoe@elsewhere.example"], "subject": "Should a narrowed session send this?", "body": "Hi"}


async def listing(session):
    return {t["name"]: t for t in map(dump, (await session.list_tools()).tools)}


def toolsets_on(init):
    """The toolsets the server's instructions say are on."""
    found = re.search(r"Toolsets on: ([^.(]*)", dump(init)["instructions"])
    return {t.strip() for t in found.group(1).split(",") if t.strip()}


def text_of(result):
    return "".join(c.get("text", "") for c in result["content"] if c["type"] == "text")


def sends(sandbox_url):
    """How many users.messages.send calls the sandbox has answered."""
    with urllib.request.urlopen(f"{sandbox_url}__sandbox/stats") as r:
        return json.load(r)["requests"].get("users.messages.send", 0)


async def assert_refused_like_a_typo(session, name):
    errors = []
    for tool in (name, name + "_typo"):
        with pytest.raises(MCPError) as err:
            await session.call_tool(tool, SEND)
        errors.append(dump(err.value.error))
    hidden, typo = errors
    assert typo["message"] == f"Unknown tool: {name}_typo"
    assert hidden == {**typo, "message": f"Unknown tool: {name}"}


async def test_toolsets_header_lists_only_that_toolset(connect, transport):
    async with connect(transport) as (s, init):
        full = await listing(s)
    assert toolsets_on(init) == ALL_TOOLSETS
    async with connect(transport, headers={"X-MCP-Toolsets": "read"}) as (s, init):
        tools = await listing(s)
    assert set(tools) == READ and READ < set(full)
    assert toolsets_on(init) == {"read"}


async def test_tools_header_lists_exactly_those_tools(connect, transport):
    async with connect(transport, headers={"X-MCP-Tools": "search_emails,read_email"}) as (s, init):
        assert set(await listing(s)) == {"search_emails", "read_email"}
    assert toolsets_on(init) == {"read"}


async def test_exclude_tools_header_takes_tools_out(connect, transport):
    headers = {"X-MCP-Toolsets": "read,compose", "X-MCP-Exclude-Tools": "send_email, read_email"}
    async with connect(transport, headers=headers) as (s, _):
        tools = set(await listing(s))
    assert "draft_email" in tools and "search_emails" in tools
    assert not tools & {"send_email", "read_email", "modify_email"}


@pytest.mark.parametrize("how", ["header", "path"])
async def test_read_only_lists_only_read_only_tools(connect, transport, how):
    async with connect(transport) as (s, _):
        full = await listing(s)
    ask = {"headers": {"X-MCP-Readonly": "true"}} if how == "header" else {"path": f"{ENDPOINTS[transport]}/readonly"}
    async with connect(transport, **ask) as (s, init):
        tools = await listing(s)
    assert set(tools) == {n for n, t in full.items() if t["annotations"]["readOnlyHint"]}
    assert all(t["annotations"]["readOnlyHint"] for t in tools.values())
    assert "search_emails" in tools and not tools.keys() & WRITES
    assert "Read-only." in dump(init)["instructions"]


async def test_hidden_tool_call_is_refused_like_a_misspelled_one(connect, transport, sandbox_url):
    before = sends(sandbox_url)
    async with connect(transport, headers={"X-MCP-Readonly": "true"}) as (s, _):
        await assert_refused_like_a_typo(s, "send_email")
    assert sends(sandbox_url) == before
    # Unnarrowed, the same call sends: the counter does see sends.
    async with connect(transport) as (s, _):
        assert not dump(await s.call_tool("send_email", SEND))["isError"]
    assert sends(sandbox_url) == before + 1


async def test_multi_user_default_toolsets(connect, transport, mu_url, mu_auth):
    async with connect(transport, headers=mu_auth("plain"), base=mu_url) as (s, init):
        tools = set(await listing(s))
    assert toolsets_on(init) == {"read", "compose", "organize", "connections"}
    assert READ | {"send_email", "draft_email", "modify_email", "trash_email", "gmail_get_auth_url"} <= tools
    off = {"delete_email", "batch_delete_emails", "list_email_labels", "create_filter", "set_vacation", "list_changes"}
    assert not tools & off


@pytest.mark.parametrize("ask, expected", [("all", READ), ("compose", set())])
async def test_headers_never_widen_a_keys_toolsets(connect, transport, mu_url, mu_auth, ask, expected):
    headers = {**mu_auth("read"), "X-MCP-Toolsets": ask}
    async with connect(transport, headers=headers, base=mu_url) as (s, _):
        assert set(await listing(s)) == expected


@pytest.mark.parametrize("key", ["readonly", "read"])
async def test_narrowed_key_hides_tools_and_refuses_their_calls(connect, transport, mu_url, mu_auth, sandbox_url, key):
    async with connect(transport, headers=mu_auth("plain"), base=mu_url) as (s, _):
        plain = await listing(s)
        # No Gmail account is connected: the plain key's call fails, but past the tool policy.
        allowed = dump(await s.call_tool("send_email", SEND))
    assert allowed["isError"] and "connected Gmail account" in text_of(allowed), allowed
    before = sends(sandbox_url)
    async with connect(transport, headers=mu_auth(key), base=mu_url) as (s, _):
        tools = set(await listing(s))
        await assert_refused_like_a_typo(s, "send_email")
    assert sends(sandbox_url) == before
    if key == "read":
        assert tools == READ
    else:
        assert tools == {n for n, t in plain.items() if t["annotations"]["readOnlyHint"]}
        assert "search_emails" in tools and not tools & WRITES
