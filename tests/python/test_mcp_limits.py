"""The official Python MCP client against the server's one body limit: a call over the limit
comes back as an error for that call, promptly, on both transports (over legacy SSE it once
left the SDK waiting until its own timeout), and the session goes on working."""

import time

import pytest

from mcp_compat import MCPError

pytestmark = pytest.mark.anyio

# Just over the default limits.max_body_bytes (36 MiB) once wrapped in JSON-RPC.
OVER_LIMIT_BASE64 = "A" * (37 * 1024 * 1024)


async def test_an_over_limit_call_fails_fast_and_the_session_survives(connect, transport):
    async with connect(transport) as (session, _):
        started = time.monotonic()
        with pytest.raises(MCPError) as error:
            await session.call_tool(
                "draft_email",
                {
                    "to": ["a@example.com"],
                    "subject": "too big",
                    "body": "x",
                    "attachmentContents": [{"filename": "big.bin", "contentBase64": OVER_LIMIT_BASE64}],
                },
                read_timeout_seconds=120,
            )
        elapsed = time.monotonic() - started
        assert elapsed < 30, f"the error took {elapsed:.1f} s"
        assert "limit" in str(error.value), str(error.value)
        result = await session.call_tool("get_profile", {})
        assert not result.isError if hasattr(result, "isError") else not result.is_error
