"""Fixtures for the official Python MCP client against a running gmail-mcp-server.

scripts/test-python starts a sandbox and the server and passes their URLs in GMAIL_MCP_URL and
GMAIL_SANDBOX_URL. `connect(transport)` opens an initialized ClientSession over "sse" (legacy
HTTP+SSE, what Claude Code uses) or "streamable-http" (/mcp).
"""

import os
from contextlib import asynccontextmanager

import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client

try:  # mcp >= 1.20 / 2.x
    from mcp.client.streamable_http import streamable_http_client as _streamable_client
except ImportError:  # older 1.x
    from mcp.client.streamable_http import streamablehttp_client as _streamable_client

TRANSPORTS = ["sse", "streamable-http"]


def dump(model):
    """A result as plain JSON-shaped data with the wire's camelCase keys (the 1.x SDK names
    attributes in camelCase, 2.x in snake_case; both dump to the wire names)."""
    return model.model_dump(mode="json", by_alias=True)


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="session")
def mcp_url():
    return os.environ.get("GMAIL_MCP_URL", "http://127.0.0.1:8001").rstrip("/")


@pytest.fixture(scope="session")
def sandbox_url():
    return os.environ.get("GMAIL_SANDBOX_URL", "http://127.0.0.1:8002/")


@pytest.fixture
def connect(mcp_url):
    @asynccontextmanager
    async def _connect(transport):
        if transport == "sse":
            cm = sse_client(f"{mcp_url}/sse")
        elif transport == "streamable-http":
            cm = _streamable_client(f"{mcp_url}/mcp")
        else:
            raise ValueError(transport)
        async with cm as streams:
            # (read, write) or (read, write, get_session_id) depending on the SDK version.
            read, write = streams[0], streams[1]
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                yield session, init

    return _connect


@pytest.fixture(params=TRANSPORTS)
def transport(request):
    return request.param
