"""Every tool through the official Python MCP client, over legacy SSE and Streamable HTTP,
against the sandbox — and each effect checked in the mailbox itself through the sandbox's
Gmail API, not through the tool's own answer."""

import base64
import json
import os
import urllib.parse
import urllib.request
import uuid

import pytest
from conftest import dump

from mcp_compat import MCPError

pytestmark = pytest.mark.anyio

CALLED = {"sse": set(), "streamable-http": set()}
ACCOUNT = "demo@example.com"


class Gmail:
    """The sandbox's Gmail API, read directly (what the mailbox really holds)."""

    def __init__(self, root):
        self.root = root
        form = urllib.parse.urlencode(
            {
                "grant_type": "refresh_token",
                "refresh_token": f"1//sandbox-refresh-{ACCOUNT}",
                "client_id": "sandbox-client-id.apps.googleusercontent.com",
                "client_secret": "sandbox-client-secret",
            }
        ).encode()
        with urllib.request.urlopen(f"{root}token", data=form) as r:
            self.token = json.load(r)["access_token"]

    def call(self, method, path, body=None):
        req = urllib.request.Request(
            f"{self.root}gmail/v1/users/me/{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req) as r:
                raw = r.read()
                return r.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as e:
            return e.code, None

    def get(self, path):
        return self.call("GET", path)

    def labels_of(self, mid):
        status, m = self.get(f"messages/{mid}?format=minimal")
        assert status == 200, (mid, status)
        return m.get("labelIds", [])

    def header(self, mid, name):
        _, m = self.get(f"messages/{mid}?format=metadata")
        for h in m["payload"]["headers"]:
            if h["name"].lower() == name.lower():
                return h["value"]
        return ""

    def insert(self, raw, labels=("INBOX", "UNREAD")):
        data = base64.urlsafe_b64encode(raw.replace("\n", "\r\n").encode()).decode()
        status, m = self.call("POST", "messages", {"raw": data, "labelIds": list(labels)})
        assert status == 200, status
        return m["id"], m["threadId"]


@pytest.fixture(scope="module")
def gmail(sandbox_url):
    return Gmail(sandbox_url)


def original(tag, attachment=False):
    base = (
        f"From: Carol <carol@client.example>\nTo: Demo User <{ACCOUNT}>, Dave <dave@partner.example>\n"
        f"Subject: Contract {tag}\nDate: Tue, 10 Nov 2026 09:00:00 +0000\n"
        f"Message-ID: <{tag}@client.example>\nMIME-Version: 1.0\n"
    )
    if not attachment:
        return base + "Content-Type: text/plain; charset=utf-8\n\nPlease review by Friday.\n"
    return base + (
        'Content-Type: multipart/mixed; boundary="b1"\n\n--b1\nContent-Type: text/plain\n\nSee attached.\n'
        '--b1\nContent-Type: text/csv; name="q3.csv"\nContent-Disposition: attachment; filename="q3.csv"\n'
        "Content-Transfer-Encoding: base64\n\nYSxiCjEsMgo=\n--b1--\n"
    )


async def call(session, transport, name, args, ok=True):
    CALLED[transport].add(name)
    result = dump(await session.call_tool(name, args))
    if ok:
        assert not result.get("isError"), (name, result)
    return result


def text_of(result):
    return "".join(c.get("text", "") for c in result["content"] if c["type"] == "text")


async def test_search_read_and_profile(connect, transport, gmail):
    async with connect(transport) as (s, _):
        r = await call(s, transport, "search_emails", {"query": "in:inbox", "maxResults": 3})
        msgs = r["structuredContent"]["messages"]
        assert len(msgs) == 3 and r["structuredContent"]["nextPageToken"]
        first = msgs[0]["id"]
        r = await call(s, transport, "read_email", {"messageId": first})
        assert "Message-ID:" in text_of(r)
        assert r["structuredContent"]["message"]["id"] == first
        r = await call(s, transport, "get_profile", {})
        assert r["structuredContent"]["emailAddress"] == ACCOUNT


async def test_send_reply_forward(connect, transport, gmail):
    tag = f"c{uuid.uuid4().hex[:8]}"
    orig, thread = gmail.insert(original(tag, attachment=True))
    async with connect(transport) as (s, _):
        r = await call(s, transport, "send_email", {"to": ["zoe@elsewhere.example"], "subject": f"Hello {tag}", "body": "Hi", "htmlBody": "<p>Hi</p>"})
        sent = r["structuredContent"]["id"]
        assert "SENT" in gmail.labels_of(sent)
        assert gmail.header(sent, "Subject") == f"Hello {tag}"

        r = await call(s, transport, "reply_email", {"messageId": orig, "body": "Reviewed.", "replyAll": True})
        reply = r["structuredContent"]
        assert reply["threadId"] == thread
        assert gmail.header(reply["id"], "In-Reply-To") == f"<{tag}@client.example>"
        assert "dave@partner.example" in gmail.header(reply["id"], "To") + gmail.header(reply["id"], "Cc")

        r = await call(s, transport, "forward_email", {"messageId": orig, "to": ["acct@corp.example"], "body": "FYI"})
        fwd = r["structuredContent"]["id"]
        assert gmail.header(fwd, "Subject") == f"Fwd: Contract {tag}"
        _, full = gmail.get(f"messages/{fwd}")
        names = [p.get("filename") for p in full["payload"].get("parts", [])]
        assert "q3.csv" in names, names


async def test_a_send_retried_with_its_idempotency_key_goes_out_once(connect, transport, gmail):
    tag = f"k{uuid.uuid4().hex[:8]}"
    args = {"to": ["zoe@elsewhere.example"], "subject": f"Once {tag}", "body": "Hi", "idempotencyKey": f"key-{tag}"}
    async with connect(transport) as (s, _):
        first = (await call(s, transport, "send_email", args))["structuredContent"]
    # The retry comes on a new session, as after a client timeout and reconnect.
    async with connect(transport) as (s, _):
        again = await call(s, transport, "send_email", args)
        assert again["structuredContent"]["id"] == first["id"]
        assert again["structuredContent"]["replayed"] is True
        assert "nothing was sent again" in text_of(again)
        changed = await call(s, transport, "send_email", {**args, "body": "Other"}, ok=False)
        assert changed["isError"] and "different request" in text_of(changed)
    assert "replayed" not in first
    _, found = gmail.get(f"messages?q=subject:{tag}")
    assert len(found.get("messages", [])) == 1, found


async def test_labels(connect, transport, gmail):
    name = f"Agent/{uuid.uuid4().hex[:6]}"
    mid, _ = gmail.insert(original(f"l{uuid.uuid4().hex[:8]}"))
    async with connect(transport) as (s, _):
        r = await call(s, transport, "create_label", {"name": name})
        lid = r["structuredContent"]["id"]
        r = await call(s, transport, "get_or_create_label", {"name": name.lower()})
        assert r["structuredContent"]["id"] == lid
        await call(s, transport, "update_label", {"id": lid, "name": name + "-x"})
        _, label = gmail.get(f"labels/{lid}")
        assert label["name"] == name + "-x"
        await call(s, transport, "modify_email", {"messageId": mid, "addLabelIds": [lid]})
        assert lid in gmail.labels_of(mid)
        r = await call(s, transport, "list_email_labels", {})
        assert name + "-x" in text_of(r)
        await call(s, transport, "delete_label", {"id": lid})
        assert gmail.get(f"labels/{lid}")[0] == 404


async def test_read_state_trash_and_deletes(connect, transport, gmail):
    ids = [gmail.insert(original(f"d{uuid.uuid4().hex[:8]}"))[0] for _ in range(4)]
    async with connect(transport) as (s, _):
        await call(s, transport, "mark_as_read", {"messageIds": ids[:2]})
        assert "UNREAD" not in gmail.labels_of(ids[0])
        await call(s, transport, "mark_as_unread", {"messageIds": [ids[0]]})
        assert "UNREAD" in gmail.labels_of(ids[0])
        await call(s, transport, "trash_email", {"messageId": ids[0]})
        assert "TRASH" in gmail.labels_of(ids[0])
        await call(s, transport, "untrash_email", {"messageId": ids[0]})
        assert "TRASH" not in gmail.labels_of(ids[0])
        r = await call(s, transport, "batch_modify_emails", {"messageIds": ids, "addLabelIds": ["STARRED"]})
        assert len(r["structuredContent"]["succeeded"]) == 4
        assert all("STARRED" in gmail.labels_of(i) for i in ids)
        await call(s, transport, "delete_email", {"messageId": ids[0]})
        assert gmail.get(f"messages/{ids[0]}?format=minimal")[0] == 404
        await call(s, transport, "batch_delete_emails", {"messageIds": ids[1:]})
        assert all(gmail.get(f"messages/{i}?format=minimal")[0] == 404 for i in ids[1:])


async def test_threads(connect, transport, gmail):
    tag = f"t{uuid.uuid4().hex[:8]}"
    mid, thread = gmail.insert(original(tag))
    async with connect(transport) as (s, _):
        await call(s, transport, "reply_email", {"messageId": mid, "body": "noted"})
        r = await call(s, transport, "list_threads", {"query": f"subject:{tag}"})
        assert [t["id"] for t in r["structuredContent"]["threads"]] == [thread]
        r = await call(s, transport, "get_thread", {"threadId": thread})
        assert r["structuredContent"]["messageCount"] == 2
        await call(s, transport, "modify_thread", {"threadId": thread, "addLabelIds": ["IMPORTANT"]})
        _, t = gmail.get(f"threads/{thread}?format=minimal")
        assert all("IMPORTANT" in m["labelIds"] for m in t["messages"])
        await call(s, transport, "trash_thread", {"threadId": thread})
        _, t = gmail.get(f"threads/{thread}?format=minimal")
        assert all("TRASH" in m["labelIds"] for m in t["messages"])
        await call(s, transport, "untrash_thread", {"threadId": thread})
        _, t = gmail.get(f"threads/{thread}?format=minimal")
        assert all("TRASH" not in m.get("labelIds", []) for m in t["messages"])


async def test_drafts(connect, transport, gmail):
    tag = uuid.uuid4().hex[:8]
    async with connect(transport) as (s, _):
        r = await call(s, transport, "draft_email", {"to": ["zoe@elsewhere.example"], "subject": f"Draft {tag}", "body": "v1"})
        did = r["structuredContent"]["id"]
        assert gmail.get(f"drafts/{did}")[0] == 200
        r = await call(s, transport, "list_drafts", {"query": f"subject:{tag}"})
        assert [d["id"] for d in r["structuredContent"]["drafts"]] == [did]
        await call(s, transport, "update_draft", {"draftId": did, "to": ["zoe@elsewhere.example"], "subject": f"Draft {tag} v2", "body": "v2"})
        r = await call(s, transport, "get_draft", {"draftId": did})
        assert f"Draft {tag} v2" in text_of(r)
        r = await call(s, transport, "send_draft", {"draftId": did})
        assert "SENT" in gmail.labels_of(r["structuredContent"]["id"])
        assert gmail.get(f"drafts/{did}")[0] == 404
        r = await call(s, transport, "draft_email", {"to": ["zoe@elsewhere.example"], "subject": "scrap", "body": "x"})
        gone = r["structuredContent"]["id"]
        await call(s, transport, "delete_draft", {"draftId": gone})
        assert gmail.get(f"drafts/{gone}")[0] == 404


async def test_filters(connect, transport, gmail):
    sender = f"{uuid.uuid4().hex[:8]}@news.example"
    async with connect(transport) as (s, _):
        r = await call(s, transport, "create_filter", {"criteria": {"from": sender}, "action": {"addLabelIds": ["STARRED"]}})
        fid = r["structuredContent"]["id"]
        assert gmail.get(f"settings/filters/{fid}")[1]["criteria"]["from"] == sender
        r = await call(s, transport, "get_filter", {"filterId": fid})
        assert r["structuredContent"]["criteria"]["from"] == sender
        r = await call(s, transport, "create_filter_from_template", {"template": "withAttachments", "parameters": {"markImportant": True}})
        tid = r["structuredContent"]["id"]
        r = await call(s, transport, "list_filters", {})
        ids = [f["id"] for f in r["structuredContent"]["filters"]]
        assert fid in ids and tid in ids
        for f in (fid, tid):
            await call(s, transport, "delete_filter", {"filterId": f})
            assert gmail.get(f"settings/filters/{f}")[0] == 404


async def test_changes_vacation_send_as(connect, transport, gmail):
    async with connect(transport) as (s, _):
        start = (await call(s, transport, "get_profile", {}))["structuredContent"]["historyId"]
        tag = f"h{uuid.uuid4().hex[:8]}"
        mid, _ = gmail.insert(original(tag))
        r = await call(s, transport, "list_changes", {"startHistoryId": start})
        assert any(c["messageId"] == mid and c["kind"] == "messageAdded" for c in r["structuredContent"]["changes"])
        # It came just before the wait: lookbackSecs takes it (test_events.py waits for real).
        r = await call(s, transport, "wait_for_email", {"query": tag, "lookbackSecs": 120, "timeoutSecs": 5})
        assert r["structuredContent"]["found"] and r["structuredContent"]["message"]["id"] == mid, r
        await call(s, transport, "set_vacation", {"enableAutoReply": True, "responseSubject": "Away", "responseBodyPlainText": "Back Monday"})
        assert gmail.get("settings/vacation")[1]["enableAutoReply"] is True
        r = await call(s, transport, "get_vacation", {})
        assert r["structuredContent"]["responseSubject"] == "Away"
        await call(s, transport, "set_vacation", {"enableAutoReply": False})
        r = await call(s, transport, "list_send_as", {})
        assert r["structuredContent"]["identities"][0]["sendAsEmail"] == ACCOUNT


async def test_download_attachment(connect, transport, gmail):
    mid, _ = gmail.insert(original(f"a{uuid.uuid4().hex[:8]}", attachment=True))
    async with connect(transport) as (s, _):
        r = await call(s, transport, "read_email", {"messageId": mid})
        att = r["structuredContent"]["message"]["attachments"][0]
        r = await call(s, transport, "download_attachment", {"messageId": mid, "attachmentId": att["attachmentId"], "savePath": f"py-{transport}"})
        path = r["structuredContent"]["path"]
        with open(path, "rb") as f:
            assert f.read() == b"a,b\n1,2\n"
        r = await call(s, transport, "download_attachment", {"messageId": mid, "attachmentId": att["attachmentId"], "savePath": "../../../tmp"}, ok=False)
        assert r["isError"] and "savePath" in text_of(r)


async def test_connection_tools_explain_single_user_mode(connect, transport):
    async with connect(transport) as (s, _):
        for name, args in [
            ("gmail_get_auth_url", {}),
            ("gmail_handle_oauth_callback", {"code": "x", "state": "y"}),
            ("gmail_list_connections", {}),
            ("gmail_check_connection", {}),
            ("gmail_disconnect", {"account": ACCOUNT}),
        ]:
            r = await call(s, transport, name, args, ok=False)
            assert r["isError"] and "multi-user" in text_of(r), (name, r)


async def test_bad_input_is_a_clear_tool_error(connect, transport):
    async with connect(transport) as (s, _):
        cases = [
            ("send_email", {"to": ["a@b.example"], "subject": "Hi\r\nBcc: x@y.example", "body": "x"}, "subject"),
            ("send_email", {"to": ["not-an-address"], "subject": "Hi", "body": "x"}, "not-an-address"),
            ("send_email", {"to": ["a@b.example"], "subject": "Hi"}, "body"),
            ("send_email", {"to": ["a@b.example"], "subject": "Hi", "body": "x", "bogus": 1}, "bogus"),
            ("read_email", {"messageId": "ffffffffffffffff"}, "not found"),
            ("search_emails", {"query": "x", "maxResults": "ten"}, "maxResults"),
        ]
        for name, args, expect in cases:
            r = await call(s, transport, name, args, ok=False)
            assert r["isError"] and expect in text_of(r), (name, args, r)
        with pytest.raises(MCPError):
            await s.call_tool("no_such_tool", {})
        # The session still serves.
        assert not dump(await s.call_tool("get_profile", {}))["isError"]


async def test_zz_every_listed_tool_was_exercised(connect, transport):
    async with connect(transport) as (s, _):
        listed = {t.name for t in (await s.list_tools()).tools}
    missing = listed - CALLED[transport]
    assert not missing, f"tools with no effect test over {transport}: {sorted(missing)}"
