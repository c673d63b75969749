"""The team site in headless Chromium (scripts/test-browser starts everything):
sign in with Google -> connect a second account -> create a key -> use it over MCP with the
official SDK -> revoke it on the page -> the next MCP request is refused (401). And a remote
MCP client connecting with OAuth: the SDK's OAuth client sends Chromium to the consent page,
which signs in with Google, names the client, and is allowed; the app is listed on the
member's page and disconnected there.
A screenshot of every page goes to $GMAIL_SCREENSHOTS/site-*.png."""

import os
import re
import sys

import anyio
import httpx
import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client
from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

# The token storage and SDK shims of the SDK suite (tests/python), not copies of them.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from mcp_compat import authorization_code  # noqa: E402
from test_mcp_oauth import Memory, public_client  # noqa: E402

SITE = os.environ.get("GMAIL_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
MCP = os.environ.get("GMAIL_MCP_URL", "http://127.0.0.1:8001").rstrip("/")
SHOTS = os.environ.get("GMAIL_SCREENSHOTS", "target")


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1100,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def shot(driver, name):
    os.makedirs(SHOTS, exist_ok=True)
    driver.save_screenshot(os.path.join(SHOTS, f"site-{name}.png"))


def click(driver, text):
    """Presses the button named `text` (see `press`)."""
    press(driver, WebDriverWait(driver, 15).until(
        ec.element_to_be_clickable((By.XPATH, f"//button[normalize-space()='{text}']"))
    ))


def press(driver, button):
    """Presses a button and returns once the page it leads to has replaced this one, so what
    is awaited next is read from the new page, never from the old one."""
    driver.execute_script("window.__pressed = true;")
    button.click()
    WebDriverWait(driver, 15).until(left_the_page)


def left_the_page(driver):
    """True once a new document (without the old window's mark) has loaded."""
    try:
        return driver.execute_script(
            "return window.__pressed === undefined && document.readyState === 'complete';"
        )
    except WebDriverException:
        return False  # between the two documents


def page_text(driver):
    """The page's text, or "" while a navigation swaps the document (a body element found
    just before the swap no longer belongs to the new one, and Chromium says so with an
    error that WebDriverWait does not ignore)."""
    try:
        return driver.execute_script("return document.body ? document.body.innerText : '';")
    except WebDriverException:
        return ""


def wait_text(driver, text):
    try:
        WebDriverWait(driver, 15).until(lambda d: text in page_text(d))
    except TimeoutException:
        raise AssertionError(f"{text!r} not on the page in 15 s: {page_text(driver)!r}") from None


def press_in_row(driver, name, button, heading):
    """Presses `button` in the table row named `name`; the page comes back without the row."""
    row = driver.find_element(By.XPATH, f"//tr[td[normalize-space()='{name}']]")
    press(driver, row.find_element(By.XPATH, f".//button[normalize-space()='{button}']"))
    wait_text(driver, heading)
    assert name not in page_text(driver)


def refused_over_mcp(token):
    """The MCP server refuses `token` with 401; its answer, for more checks."""
    r = httpx.get(f"{MCP}/sse", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 401, r.text
    return r


def consent_as(driver, email, screenshot):
    """Google's (the sandbox's) consent page: pick the account, allow."""
    wait_text(driver, "wants access to your account")
    Select(driver.find_element(By.NAME, "authuser_email")).select_by_value(email)
    shot(driver, screenshot)
    click(driver, "Allow")


async def mcp_profile(key):
    """get_profile over legacy SSE with the key, through the official SDK."""
    headers = {"Authorization": f"Bearer {key}"}
    async with sse_client(f"{MCP}/sse", headers=headers) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            result = await session.call_tool("get_profile", {})
            return result.content[0].text


def test_sign_in_connect_key_mcp_revoke(browser):
    d = browser
    d.get(f"{SITE}/")
    wait_text(d, "Sign in with Google")
    shot(d, "1-signed-out")
    click(d, "Sign in with Google")
    consent_as(d, "demo@example.com", "2-google-consent")
    wait_text(d, "Signed in as demo@example.com")
    shot(d, "3-member-page")

    # Connect another account: the start page, Google, and back.
    click(d, "Connect another account")
    wait_text(d, "Continue to Google")
    shot(d, "4-connect-start")
    click(d, "Continue to Google")
    consent_as(d, "bob@example.com", "5-google-consent-bob")
    wait_text(d, "bob@example.com")
    assert "demo@example.com (primary)" in page_text(d)
    shot(d, "6-two-connections")

    # A key, shown once with the claude line.
    name = d.find_element(By.NAME, "name")
    name.clear()
    name.send_keys("browser test")
    click(d, "Create a key")
    wait_text(d, "shown only this once")
    page = page_text(d)
    key = re.search(r"gms_[A-Za-z0-9_-]+", page).group(0)
    assert f"Authorization: Bearer {key}" in page
    shot(d, "7-new-key")

    # The key works over MCP, for the signed-in user's primary mailbox.
    text = anyio.run(mcp_profile, key)
    assert "demo@example.com" in text, text

    # Revoke it on the page; the next MCP request is refused.
    d.get(f"{SITE}/")
    wait_text(d, "browser test")
    shot(d, "8-keys")
    press_in_row(d, "browser test", "Revoke", "API keys")
    shot(d, "9-revoked")
    refused_over_mcp(key)

    # The admin page (this user is named in multi_user.admins).
    d.get(f"{SITE}/admin")
    wait_text(d, "demo@example.com")
    shot(d, "10-admin")


REDIRECT = "http://127.0.0.1:9/callback"  # nothing listens: the address bar keeps the code


def test_an_oauth_client_is_approved_listed_and_disconnected(browser):
    d = browser
    returned = {}

    def approve(url):
        d.get(url)
        wait_text(d, "asks to use your Gmail")
        shot(d, "11-oauth-consent-signed-out")
        click(d, "Sign in with Google")
        consent_as(d, "demo@example.com", "12-oauth-google-consent")
        wait_text(d, "Allow only if you started this")
        assert "Browser OAuth client" in d.page_source and REDIRECT in d.page_source
        shot(d, "13-oauth-consent")
        click(d, "Allow")
        WebDriverWait(d, 15).until(lambda drv: drv.current_url.startswith(REDIRECT))
        returned["url"] = d.current_url

    async def redirect_handler(url):
        await anyio.to_thread.run_sync(approve, url)

    async def callback_handler():
        return authorization_code(returned["url"])

    storage = Memory()
    provider = public_client(f"{MCP}/sse", "Browser OAuth client", REDIRECT,
                             redirect_handler, callback_handler, storage)

    async def profile():
        async with sse_client(f"{MCP}/sse", auth=provider) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                result = await session.call_tool("get_profile", {})
                return result.content[0].text

    assert "demo@example.com" in anyio.run(profile)
    access = storage.tokens.access_token

    # The member's page lists the app; disconnecting it stops its token.
    d.get(f"{SITE}/")
    wait_text(d, "Connected apps")
    assert "Browser OAuth client" in page_text(d)
    shot(d, "14-connected-apps")
    press_in_row(d, "Browser OAuth client", "Disconnect", "Connected apps")
    shot(d, "15-app-disconnected")
    r = refused_over_mcp(access)
    assert "resource_metadata=" in r.headers["www-authenticate"]
