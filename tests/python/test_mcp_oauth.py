"""The official Python MCP SDK's OAuth client as the judge of the authorization server.

scripts/test-python runs a multi-user gmail-mcp-server (GMAIL_MU_MCP_URL, the protected
resource) and a gmail-api-server on the same database (GMAIL_MU_API_URL, the authorization
server) against the sandbox's Google. The SDK discovers everything from the 401, registers
itself, and sends a "browser" to the authorization URL. The browser here is headless: a cookie
jar that signs in with Google at the sandbox, then clicks Allow on the consent page, and
hands the code back. Nothing of the flow is known to the test beyond those two pages.
"""

import http.cookiejar
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import asynccontextmanager

import anyio
import pytest
from mcp import ClientSession
from mcp.client.auth import OAuthClientProvider, TokenStorage
from mcp.client.sse import sse_client
from mcp.shared.auth import OAuthClientMetadata

from conftest import dump

from mcp_compat import authorization_code, streamable


REDIRECT = "http://127.0.0.1:9/callback"  # never listened on: the browser stops at it
ACCOUNT = "demo@example.com"


class Memory(TokenStorage):
    def __init__(self):
        self.tokens = None
        self.client = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client

    async def set_client_info(self, client_info):
        self.client = client_info


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A user at a browser: signs in when asked, allows, and remembers where the client was
    sent back to. Stays signed in across flows, like a real browser."""

    def __init__(self, api_url):
        self.api = api_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )
        self.returned = None
        self.pages = []

    def _open(self, url, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(url, data=data)
        if form is not None:
            req.add_header("Origin", self.api)
        try:
            with self.opener.open(req) as r:
                return r.status, r.headers, r.read().decode()
        except urllib.error.HTTPError as e:  # 3xx (not followed) and errors
            return e.code, e.headers, e.read().decode()

    def _follow(self, status, headers):
        assert status in (302, 303), status
        return urllib.parse.urljoin(self.api + "/", headers["Location"])

    def authorize(self, url):
        status, headers, body = self._open(url)
        consent = self._follow(status, headers)
        status, _, page = self._open(consent)
        assert status == 200, page
        self.pages.append(page)
        if "Sign in with Google" in page:
            status, headers, _ = self._open(
                f"{self.api}/signin", {"next": "/oauth2/consent", "login_hint": ACCOUNT}
            )
            google = self._follow(status, headers)
            status, headers, _ = self._open(f"{google}&authuser_email={ACCOUNT}")
            callback = self._follow(status, headers)  # the REST server's /oauth/callback
            status, headers, _ = self._open(callback)
            consent = self._follow(status, headers)
            status, _, page = self._open(consent)
            assert status == 200, page
            self.pages.append(page)
        # What the form's hidden fields carry, as a browser would send them.
        form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
        form["decision"] = "allow"
        status, headers, _ = self._open(f"{self.api}/oauth2/consent", form)
        self.returned = headers["Location"]
        assert self.returned.startswith(REDIRECT), self.returned

    async def redirect_handler(self, url):
        await anyio.to_thread.run_sync(self.authorize, url)

    async def callback_handler(self):
        return authorization_code(self.returned)


def public_client(server_url, name, redirect, redirect_handler, callback_handler, storage):
    """The SDK's OAuth provider as a public client (PKCE, no secret) called `name`; the
    browser suite (tests/browser) registers its client through this too."""
    return OAuthClientProvider(
        server_url=server_url,
        client_metadata=OAuthClientMetadata(
            client_name=name,
            redirect_uris=[redirect],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )


def provider(server_url, browser, storage=None):
    return public_client(server_url, "pytest MCP SDK client", REDIRECT,
                         browser.redirect_handler, browser.callback_handler, storage or Memory())


@asynccontextmanager
async def session_over(transport, url, auth):
    cm = sse_client(url, auth=auth) if transport == "sse" else streamable(url, auth=auth)
    async with cm as streams:
        async with ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            yield session


def tool_names(listed):
    return {t["name"] for t in dump(listed)["tools"]}


@pytest.mark.anyio
@pytest.mark.parametrize("transport", ["sse", "streamable-http"])
async def test_the_sdk_client_authorizes_through_consent_and_calls_tools(transport, mu_url, api_url):
    browser = Browser(api_url)
    path = "/sse" if transport == "sse" else "/mcp"
    storage = Memory()
    async with session_over(transport, f"{mu_url}{path}", provider(f"{mu_url}{path}", browser, storage)) as s:
        tools = tool_names(await s.list_tools())
        assert "send_email" in tools and "search_emails" in tools
        profile = dump(await s.call_tool("get_profile", {}))
        assert not profile.get("isError"), profile
        assert ACCOUNT in profile["content"][0]["text"]
    # The consent page named the client and where it is sent back to; the client got an
    # opaque token of ours, never Google's.
    assert any("pytest MCP SDK client" in p and REDIRECT in p for p in browser.pages)
    assert storage.tokens.access_token.startswith("gmo_")
    assert storage.tokens.refresh_token.startswith("gmr_")


@pytest.mark.anyio
async def test_a_readonly_endpoint_asks_for_and_gets_readonly_tools(mu_url, api_url):
    browser = Browser(api_url)
    storage = Memory()
    url = f"{mu_url}/mcp/readonly"
    async with session_over("streamable-http", url, provider(url, browser, storage)) as s:
        tools = tool_names(await s.list_tools())
    assert "search_emails" in tools
    assert "send_email" not in tools and "delete_email" not in tools
    assert storage.tokens.scope == "gmail.readonly"


@pytest.mark.anyio
async def test_an_expired_access_token_is_refreshed_by_the_sdk(mu_url, api_url):
    browser = Browser(api_url)
    storage = Memory()
    url = f"{mu_url}/mcp"
    auth = provider(url, browser, storage)
    async with session_over("streamable-http", url, auth):
        pass
    first = storage.tokens
    # The access token runs out (the SDK's own clock says so): the next session refreshes,
    # and the refresh token rotates, without sending the user back to the browser.
    auth.context.token_expiry_time = time.time() - 1
    pages = len(browser.pages)
    async with session_over("streamable-http", url, auth) as s:
        assert "send_email" in tool_names(await s.list_tools())
    assert len(browser.pages) == pages, "no second consent"
    assert storage.tokens.access_token != first.access_token
    assert storage.tokens.refresh_token != first.refresh_token
