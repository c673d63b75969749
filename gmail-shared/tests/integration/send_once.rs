//! The send tools' `idempotencyKey` against the sandbox: a retry with the same key and
//! message answers the first send and sends nothing; the key is bound to its message; a
//! server that forgot the key still finds the first attempt in Gmail.

use std::sync::Arc;

use serde_json::json;

use crate::common::{call, call_err, structured, Harness};

#[tokio::test]
async fn a_keyed_send_goes_out_once_and_a_retry_gets_its_answer() {
    let h = Harness::start().await;
    let msg = json!({"to": ["carol@client.example"], "subject": "Once only", "body": "Hello",
        "idempotencyKey": "order-1"});
    h.reset_stats().await;
    let first = structured(&h, "send_email", msg.clone()).await;
    let id = first["id"].as_str().unwrap().to_string();
    assert!(first.get("replayed").is_none(), "{first}");
    let again = call(&h, "send_email", msg.clone()).await;
    assert!(
        again.text.contains("nothing was sent again"),
        "{}",
        again.text
    );
    let again = again.structured.unwrap();
    assert_eq!(
        (&again["id"], &again["replayed"]),
        (&first["id"], &json!(true))
    );
    assert_eq!(h.stat("users.messages.send").await, 1);
    // The sent mail carries the key's Message-ID, which is how a forgetful retry finds it.
    assert!(h.header(&id, "Message-ID").await.starts_with("<once."));

    // The key is bound to its message: another message under it is refused, not sent.
    let changed = json!({"to": ["carol@client.example"], "subject": "Once only",
        "body": "Changed", "idempotencyKey": "order-1"});
    let err = call_err(&h, "send_email", changed).await;
    assert!(err.contains("different request"), "{err}");

    // A server that lost its keys (a restart in single-user mode) asks Gmail first.
    let mut env = (*h.ctx.env).clone();
    env.once = Arc::default();
    let forgetful = gmail_shared::tools::ToolContext {
        env: Arc::new(env),
        ..h.ctx.clone()
    };
    let out = h.registry.call(forgetful, "send_email", msg).await.unwrap();
    let out = out.structured.unwrap();
    assert_eq!((&out["id"], &out["replayed"]), (&first["id"], &json!(true)));
    assert_eq!(h.stat("users.messages.send").await, 1);

    // Replies and forwards take a key too.
    for (tool, args) in [
        ("reply_email", json!({"messageId": id, "body": "Follow-up"})),
        (
            "forward_email",
            json!({"messageId": id, "to": ["dave@partner.example"]}),
        ),
    ] {
        let mut args = args;
        args["idempotencyKey"] = json!(format!("{tool}-1"));
        let one = structured(&h, tool, args.clone()).await;
        let two = structured(&h, tool, args).await;
        assert_eq!((&two["id"], &two["replayed"]), (&one["id"], &json!(true)));
    }
    assert_eq!(h.stat("users.messages.send").await, 3);
}

#[tokio::test]
async fn a_key_is_checked_and_belongs_to_sends_only() {
    let h = Harness::start().await;
    let bad = json!({"to": ["carol@client.example"], "subject": "x", "body": "x",
        "idempotencyKey": "a\r\nb"});
    let err = call_err(&h, "send_email", bad).await;
    assert!(err.contains("idempotencyKey"), "{err}");
    let draft = json!({"to": ["carol@client.example"], "subject": "x", "body": "x",
        "idempotencyKey": "d-1"});
    let err = call_err(&h, "draft_email", draft).await;
    assert!(
        err.contains("idempotencyKey") && err.contains("send_draft"),
        "{err}"
    );
    // A dry run sends nothing and claims no key: the real send under it then runs.
    let dry = json!({"to": ["carol@client.example"], "subject": "Dry", "body": "x",
        "idempotencyKey": "k-dry", "dryRun": true});
    assert_eq!(
        structured(&h, "send_email", dry.clone()).await["dryRun"],
        true
    );
    let mut real = dry;
    real["dryRun"] = json!(false);
    let sent = structured(&h, "send_email", real).await;
    assert!(sent.get("replayed").is_none(), "{sent}");
    assert_eq!(h.stat("users.messages.send").await, 1);
}
