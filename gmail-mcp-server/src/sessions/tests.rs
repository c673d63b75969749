use super::*;

#[test]
fn counts_list_every_transport() {
    let sessions = Sessions::new(CancellationToken::new());
    sessions.register("a", TransportKind::Sse);
    sessions.register("b", TransportKind::Sse);
    sessions.register("c", TransportKind::StreamableHttp);
    let counts = sessions.counts();
    assert_eq!(counts["sse"], 2);
    assert_eq!(counts["streamable-http"], 1);
    assert_eq!(counts["stdio"], 0);
}

#[test]
fn close_cancels_and_forgets() {
    let sessions = Sessions::new(CancellationToken::new());
    let s = sessions.register("a", TransportKind::Sse);
    assert!(sessions.close("a"));
    assert!(s.closer().is_cancelled());
    assert!(!sessions.close("a"));
    assert!(sessions.is_empty());
}

#[test]
fn reaping_spares_active_and_stdio_sessions() {
    let sessions = Sessions::new(CancellationToken::new());
    let idle = sessions.register("idle", TransportKind::StreamableHttp);
    sessions.register("stdio", TransportKind::Stdio);
    std::thread::sleep(Duration::from_millis(30));
    let busy = sessions.register("busy", TransportKind::Sse);
    busy.touch(Activity::Request);
    assert_eq!(
        sessions.reap(Duration::from_millis(20), Duration::from_secs(60)),
        1
    );
    assert!(idle.closer().is_cancelled());
    assert!(sessions.get("busy").is_some() && sessions.get("stdio").is_some());
    assert_eq!(busy.requests(), 1);
}

#[test]
fn sessions_that_never_initialize_are_reaped_early() {
    let sessions = Sessions::new(CancellationToken::new());
    let lurker = sessions.register("lurker", TransportKind::StreamableHttp);
    lurker.touch(Activity::Initialize);
    let ready = sessions.register("ready", TransportKind::Sse);
    ready.touch(Activity::Initialize);
    ready.touch(Activity::Other);
    std::thread::sleep(Duration::from_millis(30));
    lurker.touch(Activity::Initialize);
    assert_eq!(
        sessions.reap(Duration::from_secs(60), Duration::from_millis(20)),
        1
    );
    assert!(lurker.closer().is_cancelled());
    assert!(sessions.get("ready").is_some());
}

#[test]
fn caps_refuse_beyond_the_total_and_per_caller() {
    let caps = SessionCaps {
        total: 3,
        per_caller: 1,
    };
    let sessions = Sessions::with_caps(CancellationToken::new(), caps);
    let owner = |u: &str| Owner {
        user_id: u.into(),
        key_id: format!("key-{u}"),
    };
    let admitted = sessions.admit(Some("alice")).unwrap();
    // Admitted, not registered yet: it counts already.
    assert_eq!(
        sessions.admit(Some("alice")).err(),
        Some(Refusal::CallerFull { cap: 1 })
    );
    sessions
        .register("a1", TransportKind::Sse)
        .set_owner(owner("alice"));
    drop(admitted);
    assert_eq!(
        sessions.admit(Some("alice")).err(),
        Some(Refusal::CallerFull { cap: 1 })
    );
    assert!(sessions.admit(Some("bob")).is_ok());
    sessions
        .register("b1", TransportKind::Sse)
        .set_owner(owner("bob"));
    sessions.register("x", TransportKind::Sse);
    assert_eq!(sessions.admit(None).err(), Some(Refusal::Full { cap: 3 }));
    assert_eq!(sessions.owner_keys(), ["key-alice", "key-bob"]);
    assert_eq!(
        sessions.close_where(|s| s.owner_key() == Some("key-bob")),
        1
    );
    assert!(sessions.admit(None).is_ok());
}

#[test]
fn root_cancellation_closes_all() {
    let root = CancellationToken::new();
    let sessions = Sessions::new(root.clone());
    let s = sessions.register("a", TransportKind::Sse);
    sessions.close_all();
    assert!(s.closer().is_cancelled());
}
