"""Fixtures for the official Python MCP client against a running gmail-mcp-server.

scripts/test-python starts a sandbox and the server and passes their URLs in GMAIL_MCP_URL and
GMAIL_SANDBOX_URL, plus a multi-user server (GMAIL_MU_MCP_URL) and its API keys (GMAIL_MU_*KEY).
`connect(transport)` opens an initialized ClientSession over "sse" (legacy HTTP+SSE, what
Claude Code uses) or "streamable-http" (/mcp); `headers`, `path` and `base` change what it sends
and where.
"""

import os
from contextlib import asynccontextmanager

import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client

from mcp_compat import streamable

TRANSPORTS = ["sse", "streamable-http"]
ENDPOINTS = {"sse": "/sse", "streamable-http": "/mcp"}


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


def server_url(variable, what):
    """A server's base URL from the environment scripts/test-python sets; skip without it."""
    url = os.environ.get(variable)
    if not url:
        pytest.skip(f"no {what} (scripts/test-python starts one)")
    return url.rstrip("/")


@pytest.fixture(scope="session")
def mu_url():
    return server_url("GMAIL_MU_MCP_URL", "multi-user server")


@pytest.fixture(scope="session")
def api_url():
    return server_url("GMAIL_MU_API_URL", "authorization server")


@pytest.fixture(scope="session")
def mu_auth(mu_url):
    """The Authorization header of one of the multi-user server's API keys: "plain", "readonly"
    (created --read-only) or "read" (--toolsets read)."""
    env = {"plain": "GMAIL_MU_KEY", "readonly": "GMAIL_MU_READONLY_KEY", "read": "GMAIL_MU_READ_KEY"}
    return lambda kind: {"Authorization": f"Bearer {os.environ[env[kind]]}"}


@pytest.fixture
def connect(mcp_url):
    @asynccontextmanager
    async def _connect(transport, headers=None, path=None, base=None, message_handler=None):
        """`headers` go on every HTTP request (on SSE the GET /sse is what counts); `path`
        replaces the transport's endpoint (e.g. /sse/readonly); `base` the server."""
        url = f"{base or mcp_url}{path or ENDPOINTS[transport]}"
        if transport == "sse":
            cm = sse_client(url, headers=headers)
        else:
            cm = streamable(url, headers=headers)
        async with cm as streams:
            # (read, write) or (read, write, get_session_id) depending on the SDK version.
            read, write = streams[0], streams[1]
            async with ClientSession(read, write, message_handler=message_handler) as session:
                init = await session.initialize()
                yield session, init

    return _connect


@pytest.fixture(params=TRANSPORTS)
def transport(request):
    return request.param
