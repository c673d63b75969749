"""What differs between the 1.x and 2.x MCP Python SDKs, in one place, so that the suites in
tests/python, tests/cluster and tests/browser run on whichever the environment has. The
latter two put this folder on sys.path to import it."""

from contextlib import asynccontextmanager
from urllib.parse import parse_qsl, urlparse

try:  # mcp 1.x
    from mcp.shared.exceptions import McpError as MCPError
except ImportError:  # mcp 2.x
    from mcp.shared.exceptions import MCPError

try:  # 2.x: the OAuth callback answers a result object, and may carry the issuer (RFC 9207)
    from mcp.client.auth import AuthorizationCodeResult
except ImportError:  # 1.x: a (code, state) tuple
    AuthorizationCodeResult = None

try:  # mcp >= 1.20 / 2.x: headers and auth go on an HTTP client of one's own, closed here
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    @asynccontextmanager
    async def streamable(url, headers=None, auth=None):
        async with create_mcp_http_client(headers=headers, auth=auth) as http:
            async with streamable_http_client(url, http_client=http) as streams:
                yield streams

except ImportError:  # older 1.x
    from mcp.client.streamable_http import streamablehttp_client

    def streamable(url, headers=None, auth=None):
        return streamablehttp_client(url, headers=headers, auth=auth)


def authorization_code(redirected_to):
    """What an OAuth callback handler answers for the URL the browser was sent back to."""
    q = dict(parse_qsl(urlparse(redirected_to).query))
    if AuthorizationCodeResult is not None:
        return AuthorizationCodeResult(code=q["code"], state=q.get("state"), iss=q.get("iss"))
    return q["code"], q.get("state")
