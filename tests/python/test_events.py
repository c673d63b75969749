"""New mail as events, judged by outside clients:

- wait_for_email through the official MCP SDK, over legacy SSE and Streamable HTTP: a message
  delivered into the sandbox while the call waits is returned with its text, progress
  notifications arrive while it waits, and a quiet mailbox times out with `found: false`;
- webhooks verified with the `standardwebhooks` reference package (PyPI) against a real
  gmail-api-server binary: a receiver down for a minute gets every delivery afterwards, each
  exactly once by webhook-id; and `kill -9` of the server between storing and delivering
  loses nothing (the outbox is in the database).
"""

import asyncio
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook

from conftest import TRANSPORTS, dump

pytestmark = pytest.mark.anyio


def deliver(sandbox_url, subject, to="demo@example.com"):
    body = json.dumps({"to": to, "from": "Verify <noreply@service.example>", "subject": subject,
                       "text": f"Your code is 424242. ({subject})"}).encode()
    req = urllib.request.Request(f"{sandbox_url}__sandbox/deliver", data=body,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)["id"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_wait_for_email_returns_the_message_that_arrives(connect, sandbox_url, transport):
    subject = f"Verify your account {uuid.uuid4().hex[:8]}"
    progress = []

    async def on_progress(value, total, message):
        progress.append((value, total, message))

    async with connect(transport) as (session, _):
        async def later():
            await asyncio.sleep(6)
            return await asyncio.to_thread(deliver, sandbox_url, subject)

        sent = asyncio.create_task(later())
        started = time.monotonic()
        result = await session.call_tool(
            "wait_for_email",
            {"query": f'subject:"{subject}"', "timeoutSecs": 40},
            progress_callback=on_progress,
        )
        took = time.monotonic() - started
        data = dump(result)
        assert not data["isError"], data
        message_id = await sent
        found = data["structuredContent"]
        assert found["found"] is True
        assert found["message"]["id"] == message_id
        assert found["message"]["subject"] == subject
        text = data["content"][0]["text"]
        assert "424242" in text, text
        assert 6 <= took < 15, took
        assert progress, "progress notifications while waiting"
        assert all(total == 40 for _, total, _ in progress)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_wait_for_email_times_out_and_ignores_other_mail(connect, sandbox_url, transport):
    async with connect(transport) as (session, _):
        async def noise():
            await asyncio.sleep(1)
            await asyncio.to_thread(deliver, sandbox_url, "Something else entirely")

        task = asyncio.create_task(noise())
        result = await session.call_tool(
            "wait_for_email", {"query": f"subject:nothing-{uuid.uuid4().hex}", "timeoutSecs": 4})
        await task
        data = dump(result)
        assert not data["isError"], data
        assert data["structuredContent"]["found"] is False
        assert "within 4 s" in data["content"][0]["text"]
        bad = dump(await session.call_tool("wait_for_email", {"timeoutSecs": 100000}))
        assert bad["isError"] and "timeoutSecs" in bad["content"][0]["text"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_inbox_resource_lists_reads_and_notifies_when_mail_arrives(connect, sandbox_url, transport):
    inbox = "gmail://demo@example.com/inbox"
    notified = asyncio.Queue()

    async def on_message(message):
        # resources/subscribe (protocols before 2026-07-28) notifies the session itself.
        params = getattr(getattr(message, "root", message), "params", None)
        if params is not None and str(getattr(params, "uri", "")) == inbox:
            notified.put_nowait(params)

    async with connect(transport, message_handler=on_message) as (session, _):
        listed = [str(r.uri) for r in (await session.list_resources()).resources]
        assert inbox in listed, listed
        templates = [t.uri_template if hasattr(t, "uri_template") else t.uriTemplate
                     for t in (await session.list_resource_templates()).resource_templates]
        assert "gmail://{account}/messages/{id}" in templates, templates

        subject = f"Resource ping {uuid.uuid4().hex[:8]}"
        if session.protocol_version in ("2026-07-28",):
            # The 2026-07-28 way: a subscriptions/listen stream.
            from mcp.client.subscriptions import listen

            async with listen(session, resource_subscriptions=[inbox]) as sub:
                assert inbox in (sub.honored.resource_subscriptions or [])
                message_id = await asyncio.to_thread(deliver, sandbox_url, subject)
                event = await asyncio.wait_for(sub.__anext__(), 15)
                assert inbox in json.dumps(dump(event)), dump(event)
        else:
            await session.subscribe_resource(inbox)
            message_id = await asyncio.to_thread(deliver, sandbox_url, subject)
            await asyncio.wait_for(notified.get(), 15)
        text = (await session.read_resource(inbox)).contents[0].text
        assert subject in text, text
        one = (await session.read_resource(f"gmail://demo@example.com/messages/{message_id}")).contents[0].text
        assert subject in one and "424242" in one, one
        with pytest.raises(Exception) as bad:
            await session.read_resource("gmail://demo@example.com/sent")
        assert "gmail://{account}/inbox" in str(bad.value)


# ------------------------------------------------------------------------- webhooks

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """A webhook receiver that verifies each delivery with the reference implementation."""

    def __init__(self, secret_holder):
        self.up = True
        self.accepted = []  # (webhook-id, payload)
        self.refused = 0
        self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                if not receiver.up:
                    receiver.refused += 1
                    self.send_response(503)
                    self.end_headers()
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    payload = Webhook(secret_holder[0]).verify(body, headers)
                except Exception:
                    receiver.bad_signatures += 1
                    self.send_response(400)
                    self.end_headers()
                    return
                receiver.accepted.append((headers["webhook-id"], payload))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def start_api(bin_dir, env, port, log):
    return subprocess.Popen([f"{bin_dir}/gmail-api-server", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_health(url, limit=30):
    deadline = time.time() + limit
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except Exception:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


def api(base, method, path, body=None):
    req = urllib.request.Request(f"{base}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r) if r.status != 204 else None


def wait_for(what, predicate, limit):
    deadline = time.time() + limit
    while not predicate():
        assert time.time() < deadline, f"{what}: not within {limit} s"
        time.sleep(0.1)


def test_webhooks_survive_a_receiver_down_for_a_minute_and_a_killed_server(sandbox_url):
    bin_dir = os.environ.get("GMAIL_TEST_BIN_DIR", "target/debug")
    tmp = tempfile.mkdtemp()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"PATH": os.environ["PATH"], "HOME": tmp, "GMAIL_CONFIG": "/dev/null",
           "GMAIL_BACKEND": "sandbox", "GMAIL_SANDBOX_URL": sandbox_url, "GMAIL_LOG_FORMAT": "json",
           "GMAIL_DATABASE_URL": f"sqlite://{tmp}/events.db", "GMAIL_EVENTS_POLL_SECS": "1",
           "GMAIL_ALLOW_PRIVATE_WEBHOOKS": "true", "GMAIL_EVENTS__WEBHOOK_BACKOFF_MAX_SECS": "5"}
    log = open(f"{tmp}/api.log", "w")
    server = start_api(bin_dir, env, port, log)
    try:
        wait_health(f"{base}/health")
        secret = [None]
        rx = Receiver(secret)
        hook = api(base, "POST", "/api/v1/webhooks", {"url": rx.url, "events": ["message.added"],
                                                      "query": "from:noreply@service.example"})
        secret[0] = hook["secret"]
        time.sleep(2.5)  # the first sync pins the cursor

        # Up: a delivered message is at the receiver within one poll interval (+ slack).
        first = deliver(sandbox_url, "Up and running")
        wait_for("first delivery", lambda: any(p["data"]["id"] == first for _, p in rx.accepted), 4)

        # Down for a minute while five messages arrive.
        rx.up = False
        down_ids = [deliver(sandbox_url, f"While down {i}") for i in range(5)]
        time.sleep(60)
        assert rx.refused >= 5
        rx.up = True
        wait_for("deliveries after the outage",
                 lambda: all(any(p["data"]["id"] == i for _, p in rx.accepted) for i in down_ids), 20)

        # Stored, not yet delivered: the receiver is down again, the server is killed (-9).
        rx.up = False
        killed_ids = [deliver(sandbox_url, f"Before the kill {i}") for i in range(3)]
        deliveries = lambda: api(base, "GET", f"/api/v1/webhooks/{hook['id']}/deliveries?limit=100")["deliveries"]
        wait_for("stored deliveries", lambda: len(deliveries()) >= 9, 10)
        server.send_signal(signal.SIGKILL)
        server.wait()
        rx.up = True
        server = start_api(bin_dir, env, port, log)
        wait_health(f"{base}/health")
        wait_for("deliveries after the restart",
                 lambda: all(any(p["data"]["id"] == i for _, p in rx.accepted) for i in killed_ids), 20)
        time.sleep(2)

        ids = [i for i, _ in rx.accepted]
        assert len(ids) == len(set(ids)) == 9, ids
        assert rx.bad_signatures == 0
        log_now = deliveries()
        assert all(d["status"] == "delivered" for d in log_now), log_now
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
        log.close()
