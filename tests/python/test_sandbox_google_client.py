"""A Gmail client nobody here wrote, against the sandbox: google-api-python-client, built from
its own bundled discovery document with the root URL pointed at the sandbox, authenticated
through the sandbox's token endpoint with google-auth."""

import base64
import json
import os
import pathlib
from email.message import EmailMessage

import googleapiclient
import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document
from googleapiclient.http import BatchHttpRequest, MediaInMemoryUpload

SANDBOX = os.environ.get("GMAIL_SANDBOX_URL", "")
pytestmark = pytest.mark.skipif(not SANDBOX, reason="GMAIL_SANDBOX_URL not set")

CLIENT_ID = "sandbox-client-id.apps.googleusercontent.com"
CLIENT_SECRET = "sandbox-client-secret"
ACCOUNT = "demo@example.com"


@pytest.fixture(scope="module")
def gmail():
    doc_path = (
        pathlib.Path(googleapiclient.__file__).parent
        / "discovery_cache"
        / "documents"
        / "gmail.v1.json"
    )
    doc = json.loads(doc_path.read_text())
    # Media uploads are built from the document's rootUrl, not from api_endpoint.
    doc["rootUrl"] = SANDBOX
    doc["mtlsRootUrl"] = SANDBOX
    creds = Credentials(
        token=None,
        refresh_token=f"1//sandbox-refresh-{ACCOUNT}",
        token_uri=f"{SANDBOX}token",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )
    return build_from_document(doc, credentials=creds)


def raw_message(to, subject, body):
    msg = EmailMessage()
    msg["To"] = to
    msg["From"] = ACCOUNT
    msg["Subject"] = subject
    msg.set_content(body)
    return msg


def test_profile_after_refresh(gmail):
    profile = gmail.users().getProfile(userId="me").execute()
    assert profile["emailAddress"] == ACCOUNT
    assert profile["messagesTotal"] >= 200
    assert isinstance(profile["historyId"], str)


def test_list_and_search_with_paging(gmail):
    first = gmail.users().messages().list(userId="me", maxResults=10).execute()
    assert len(first["messages"]) == 10
    assert "nextPageToken" in first
    second = (
        gmail.users()
        .messages()
        .list(userId="me", maxResults=10, pageToken=first["nextPageToken"])
        .execute()
    )
    assert {m["id"] for m in first["messages"]}.isdisjoint(
        {m["id"] for m in second["messages"]}
    )
    found = gmail.users().messages().list(userId="me", q="has:attachment").execute()
    assert found["resultSizeEstimate"] > 0
    none = gmail.users().messages().list(userId="me", q="from:nobody@nowhere.invalid").execute()
    assert "messages" not in none and none["resultSizeEstimate"] == 0


def test_read_full_metadata_raw(gmail):
    mid = gmail.users().messages().list(userId="me", maxResults=1).execute()["messages"][0]["id"]
    full = gmail.users().messages().get(userId="me", id=mid).execute()
    assert full["payload"]["partId"] == ""
    assert isinstance(full["internalDate"], str)
    meta = (
        gmail.users()
        .messages()
        .get(userId="me", id=mid, format="metadata", metadataHeaders=["Subject", "From"])
        .execute()
    )
    names = {h["name"].lower() for h in meta["payload"]["headers"]}
    assert names <= {"subject", "from"} and "subject" in names
    raw = gmail.users().messages().get(userId="me", id=mid, format="raw").execute()
    assert b"Subject:" in base64.urlsafe_b64decode(raw["raw"])


def test_send_json_and_media_upload(gmail):
    msg = raw_message("someone@elsewhere.example", "From Python (json)", "hello")
    sent = (
        gmail.users()
        .messages()
        .send(userId="me", body={"raw": base64.urlsafe_b64encode(msg.as_bytes()).decode()})
        .execute()
    )
    assert "SENT" in sent["labelIds"]
    msg = raw_message("someone@elsewhere.example", "From Python (upload)", "hello again")
    msg.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="t.csv")
    media = MediaInMemoryUpload(msg.as_bytes(), mimetype="message/rfc822")
    sent = gmail.users().messages().send(userId="me", body={}, media_body=media).execute()
    got = gmail.users().messages().get(userId="me", id=sent["id"]).execute()
    names = [p.get("filename") for p in got["payload"].get("parts", [])]
    assert "t.csv" in names


def test_labels_and_batch_modify(gmail):
    label = (
        gmail.users()
        .labels()
        .create(userId="me", body={"name": "Python/Client"})
        .execute()
    )
    ids = [
        m["id"]
        for m in gmail.users().messages().list(userId="me", maxResults=5).execute()["messages"]
    ]
    gmail.users().messages().batchModify(
        userId="me", body={"ids": ids, "addLabelIds": [label["id"]]}
    ).execute()
    tagged = gmail.users().messages().list(userId="me", labelIds=[label["id"]]).execute()
    assert {m["id"] for m in tagged["messages"]} == set(ids)
    with pytest.raises(googleapiclient.errors.HttpError) as err:
        gmail.users().labels().create(userId="me", body={"name": "python/client"}).execute()
    assert err.value.resp.status == 409
    gmail.users().labels().delete(userId="me", id=label["id"]).execute()


def test_batch_endpoint(gmail):
    ids = [
        m["id"]
        for m in gmail.users().messages().list(userId="me", maxResults=5).execute()["messages"]
    ]
    results = {}

    def done(request_id, response, exception):
        results[request_id] = (response, exception)

    batch = BatchHttpRequest(callback=done, batch_uri=f"{SANDBOX}batch/gmail/v1")
    for i in ids:
        batch.add(gmail.users().messages().get(userId="me", id=i, format="minimal"))
    batch.add(gmail.users().messages().get(userId="me", id="ffffffffffffffff"))
    batch.execute()
    assert len(results) == 6
    ok = [r for r, e in results.values() if e is None]
    failed = [e for r, e in results.values() if e is not None]
    assert {m["id"] for m in ok} == set(ids)
    assert len(failed) == 1 and failed[0].resp.status == 404
