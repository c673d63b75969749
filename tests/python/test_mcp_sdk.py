"""The official Python MCP client over legacy SSE and Streamable HTTP: handshake, the tool
listing (every tool, whatever the catalog holds), a structured tool call, and errors."""

import json
import urllib.request

import pytest
from conftest import dump

from mcp_compat import MCPError

pytestmark = pytest.mark.anyio


def text_of(result):
    return "".join(c.get("text", "") for c in result["content"] if c["type"] == "text")


async def test_initialize_names_the_server_and_its_capabilities(connect, transport):
    async with connect(transport) as (_, init):
        init = dump(init)
        assert init["serverInfo"]["name"] == "gmail-mcp-server"
        assert init["serverInfo"]["version"]
        assert init["capabilities"]["tools"] is not None
        assert init["capabilities"]["logging"] is not None
        assert init["instructions"] and "get_profile" in init["instructions"]


async def test_every_tool_has_title_annotations_and_schemas(connect, transport):
    async with connect(transport) as (session, _):
        tools = [dump(t) for t in (await session.list_tools()).tools]
        assert tools, "the catalog lists tools"
        names = [t["name"] for t in tools]
        assert len(names) == len(set(names)), "tool names are unique"
        assert "get_profile" in names
        for tool in tools:
            name = tool["name"]
            assert tool["title"], name
            assert tool["description"], name
            ann = tool["annotations"]
            assert ann is not None, name
            assert ann["title"] == tool["title"], name
            for hint in ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"):
                assert isinstance(ann[hint], bool), (name, hint)
            if ann["readOnlyHint"]:
                assert ann["destructiveHint"] is False, name
            assert tool["inputSchema"].get("type") == "object", name
            assert isinstance(tool["inputSchema"].get("properties", {}), dict), name
            if tool.get("outputSchema") is not None:
                assert tool["outputSchema"].get("type") == "object", name


async def test_get_profile_returns_structured_content(connect, transport):
    async with connect(transport) as (session, _):
        result = dump(await session.call_tool("get_profile", {}))
        assert not result["isError"], result
        profile = result["structuredContent"]
        assert profile["emailAddress"] == "demo@example.com"
        assert profile["messagesTotal"] > 0
        assert profile["historyId"]
        assert "demo@example.com" in text_of(result)


async def test_unknown_tool_is_a_protocol_error(connect, transport):
    async with connect(transport) as (session, _):
        with pytest.raises(MCPError) as err:
            await session.call_tool("no_such_tool", {})
        assert err.value.error.code == -32602
        assert "no_such_tool" in err.value.error.message


async def test_bad_arguments_are_a_tool_error_naming_the_field(connect, transport):
    async with connect(transport) as (session, _):
        result = dump(await session.call_tool("get_profile", {"no_such_field": 1}))
        assert result["isError"]
        assert "no_such_field" in text_of(result)


@pytest.mark.filterwarnings("ignore:The logging capability is deprecated")
async def test_ping_and_logging_level(connect, transport):
    async with connect(transport) as (session, _):
        await session.send_ping()
        await session.set_logging_level("warning")
        result = dump(await session.call_tool("get_profile", {}))
        assert not result["isError"]


async def test_open_sessions_show_in_the_registry(connect, mcp_url, transport):
    def registry():
        with urllib.request.urlopen(f"{mcp_url}/sessions") as resp:
            return json.load(resp)["sessions"]

    # This session is the one that was not there before (the tests run one at a time).
    before = {r["id"] for r in registry()}
    async with connect(transport) as (session, _):
        await session.list_tools()
        rows = registry()
        mine = [r for r in rows if r["id"] not in before]
        assert len(mine) == 1, rows
        assert mine[0]["transport"] == transport, mine
        assert mine[0]["requests"] >= 2, mine
