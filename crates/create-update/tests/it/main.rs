//! The `createUpdate` binary run as Lambda runs it (through the Runtime API) against DynamoDB
//! Local, fed the fixtures in `events/`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

use notes_devkit::runtime_api::LambdaSandbox;
use notes_devkit::testing::{TestTables, call, fresh_tables};
use notes_domain::{MAX_SAFE_INTEGER, NoteId, NoteReader, PageSize, UserId};
use notes_dynamodb::DynamoNotes;
use notes_http::fixtures::{as_user, fixture_json, with_body, with_header};

async fn start() -> (TestTables, LambdaSandbox, DynamoNotes) {
    let tables = fresh_tables().await.unwrap();
    let sandbox = LambdaSandbox::start(
        Path::new(env!("CARGO_BIN_EXE_createUpdate")),
        &tables.function_env(),
    )
    .await
    .unwrap();
    let store = DynamoNotes::new(tables.client.clone(), tables.notes_table.clone());
    (tables, sandbox, store)
}

async fn notes_of(store: &DynamoNotes, user: &str) -> Vec<(String, String, u64)> {
    let page = store
        .list_notes(
            &UserId::parse(&notes_http::fixtures::sub_of(user)).unwrap(),
            PageSize::new(100).unwrap(),
            None,
        )
        .await
        .unwrap();
    page.items
        .into_iter()
        .map(|n| {
            (
                n.note_id.as_str().to_owned(),
                n.text.into_string(),
                n.version.get(),
            )
        })
        .collect()
}

#[tokio::test]
async fn creates_with_a_generated_id_in_the_callers_partition_only() {
    let (_tables, sandbox, store) = start().await;
    let response = call(&sandbox, &fixture_json("create-note.json").unwrap()).await;
    assert_eq!(response.status, 201, "{:?}", response.body);
    // The id is a string (as stored) of an integer a JavaScript Number holds exactly, since the
    // labs' client edits a note by sending back `parseInt(NoteId)`.
    let id = response.body["NoteId"].as_str().unwrap().to_owned();
    assert!(NoteId::parse(&id).is_ok());
    let number: u64 = id
        .parse()
        .unwrap_or_else(|_| panic!("{id} is not an integer"));
    assert!(
        number <= MAX_SAFE_INTEGER && number.to_string() == id,
        "{id}"
    );
    assert_eq!(response.body["Note"], "Buy milk");
    assert_eq!(response.body["Version"], 1);
    assert_eq!(
        response.header("location"),
        Some(format!("/Prod/notes/{id}").as_str())
    );
    assert_eq!(response.header("etag"), Some("\"1\""));

    assert_eq!(
        notes_of(&store, "alice").await,
        [(id.clone(), "Buy milk".to_owned(), 1)]
    );
    assert!(
        notes_of(&store, "bob").await.is_empty(),
        "alice's write is invisible to bob"
    );

    let base64 = call(&sandbox, &fixture_json("create-note-base64.json").unwrap()).await;
    assert_eq!(base64.status, 201, "{:?}", base64.body);
    assert_eq!(notes_of(&store, "alice").await.len(), 2);

    // What the labs' client sends to edit it: the id as a JSON number.
    let edit = with_body(
        fixture_json("create-note.json").unwrap(),
        &serde_json::json!({"NoteId": number, "Note": "Buy oat milk"}).to_string(),
    );
    let edited = call(&sandbox, &edit).await;
    assert_eq!(edited.status, 200, "{:?}", edited.body);
    assert_eq!(
        (
            edited.body["NoteId"].as_str(),
            edited.body["Version"].as_u64()
        ),
        (Some(id.as_str()), Some(2)),
        "the number names the same note as the string"
    );
    assert_eq!(
        notes_of(&store, "alice").await.len(),
        2,
        "edited, not added"
    );

    // The labs' client's first note of an empty list: its max(ids) + 1 is null.
    let first = with_body(
        fixture_json("create-note.json").unwrap(),
        r#"{"NoteId": null, "Note": "My first note"}"#,
    );
    let created = call(&sandbox, &first).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let generated = created.body["NoteId"].as_str().unwrap_or_default();
    assert!(
        generated
            .parse::<u64>()
            .is_ok_and(|n| n <= MAX_SAFE_INTEGER),
        "null NoteId means a generated integer id: {generated:?}"
    );
    assert_eq!(notes_of(&store, "alice").await.len(), 3);
}

#[tokio::test]
async fn lab_style_updates_and_versions() {
    let (_tables, sandbox, store) = start().await;
    // The labs' clients send numeric ids and create-or-replace.
    let created = call(&sandbox, &fixture_json("update-note.json").unwrap()).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["NoteId"], "1");
    // `"NoteId": "1"` and `"NoteId": 1` are the same note.
    let replaced = with_body(
        fixture_json("update-note.json").unwrap(),
        r#"{"NoteId": "1", "Note": "Buy oat milk"}"#,
    );
    let replaced = call(&sandbox, &replaced).await;
    assert_eq!(replaced.status, 200);
    assert_eq!(replaced.body["Version"], 2);
    assert_eq!(replaced.body["CreatedAt"], created.body["CreatedAt"]);

    // If-Match "1" is stale now: 409, nothing changes.
    let stale = call(
        &sandbox,
        &fixture_json("update-note-if-match.json").unwrap(),
    )
    .await;
    assert_eq!(stale.status, 409, "{:?}", stale.body);
    let stale_body = call(
        &sandbox,
        &fixture_json("update-note-stale-version.json").unwrap(),
    )
    .await;
    assert_eq!(stale_body.status, 409);
    assert_eq!(
        notes_of(&store, "alice").await,
        [("1".to_owned(), "Buy oat milk".to_owned(), 2)]
    );

    // With the current version it applies.
    let event = with_header(
        fixture_json("update-note-if-match.json").unwrap(),
        "If-Match",
        "\"2\"",
    );
    let updated = call(&sandbox, &event).await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!(updated.body["Version"], 3);
    assert_eq!(updated.header("etag"), Some("\"3\""));

    // Bob writing "his" note 1 creates his own note and leaves alice's alone.
    let bobs = call(
        &sandbox,
        &as_user(fixture_json("update-note.json").unwrap(), "bob"),
    )
    .await;
    assert_eq!(bobs.status, 201);
    assert_eq!(notes_of(&store, "alice").await[0].2, 3);
    assert_eq!(notes_of(&store, "bob").await[0].2, 1);
}

#[tokio::test]
async fn rejected_requests_change_nothing() {
    let (_tables, sandbox, store) = start().await;
    let cases = [
        ("create-note-no-identity.json", 401),
        ("create-note-invalid-json.json", 400),
        ("create-note-wrong-type.json", 400),
        ("create-note-empty.json", 400),
        ("create-note-too-long.json", 400),
        ("create-note-wrong-content-type.json", 415),
        ("create-note-user-smuggled.json", 400),
        ("list-notes.json", 405),
        ("not-an-http-event.json", 400),
    ];
    for (fixture, status) in cases {
        let response = call(&sandbox, &fixture_json(fixture).unwrap()).await;
        assert_eq!(response.status, status, "{fixture}: {:?}", response.body);
        assert!(response.body["message"].is_string(), "{fixture}");
    }
    let huge = with_body(
        fixture_json("create-note.json").unwrap(),
        &format!(r#"{{"Note":"{}"}}"#, "x".repeat(70_000)),
    );
    assert_eq!(call(&sandbox, &huge).await.status, 413);
    assert!(notes_of(&store, "alice").await.is_empty());
    assert!(notes_of(&store, "bob").await.is_empty());

    let logs = sandbox.logs();
    assert!(!logs.contains("Buy milk"), "note text in the logs:\n{logs}");
}

/// Every item of the idempotency table, as (status, validation) pairs.
async fn idempotency_records(tables: &TestTables) -> Vec<(String, String)> {
    let output = tables
        .client
        .scan()
        .table_name(tables.table("IdempotencyTable").unwrap())
        .send()
        .await
        .unwrap();
    output
        .items()
        .iter()
        .map(|item| {
            (
                item["status"].as_s().unwrap().clone(),
                item["validation"].as_s().unwrap().clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_retried_create_with_an_idempotency_key_creates_one_note() {
    let (tables, sandbox, store) = start().await;
    let event = fixture_json("create-note-idempotent.json").unwrap();
    let first = call(&sandbox, &event).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(first.header("idempotent-replayed"), None);

    // The retry (a lost response, a client timeout) gets the same note, not a second one.
    let retry = call(&sandbox, &event).await;
    assert_eq!(retry.status, 201);
    assert_eq!(
        retry.body, first.body,
        "the original response, byte for byte"
    );
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(retry.header("etag"), first.header("etag"));
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(notes_of(&store, "alice").await.len(), 1);

    // The same key for a different note is a client bug: 422, nothing written.
    let different = with_body(event.clone(), r#"{"Note": "Buy bread"}"#);
    let refused = call(&sandbox, &different).await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("Idempotency-Key")
    );
    assert_eq!(notes_of(&store, "alice").await.len(), 1);

    // Keys are per caller: bob's identical request with alice's key is his own, new note.
    let bobs = call(&sandbox, &as_user(event.clone(), "bob")).await;
    assert_eq!(bobs.status, 201);
    assert_eq!(bobs.header("idempotent-replayed"), None);
    assert_ne!(bobs.body["NoteId"], first.body["NoteId"]);
    assert_eq!(notes_of(&store, "bob").await.len(), 1);

    // Without a key, the same request is a new note each time (the API's documented default).
    let plain = fixture_json("create-note.json").unwrap();
    assert_eq!(call(&sandbox, &plain).await.status, 201);
    assert_eq!(notes_of(&store, "alice").await.len(), 2);

    // A failed write is not recorded: after a 409 the key is free, so a corrected retry runs.
    let stale = with_header(
        with_body(
            event.clone(),
            r#"{"NoteId": "n1", "Note": "x", "Version": 7}"#,
        ),
        "Idempotency-Key",
        "conflicting-update",
    );
    assert_eq!(call(&sandbox, &stale).await.status, 409);
    assert_eq!(
        call(&sandbox, &stale).await.status,
        409,
        "ran again, not replayed"
    );

    let records = idempotency_records(&tables).await;
    assert_eq!(
        records.len(),
        2,
        "alice's and bob's completed keys only: {records:?}"
    );
    assert!(records.iter().all(|(status, _)| status == "COMPLETED"));

    let logs = sandbox.logs();
    assert!(!logs.contains("Buy milk"), "note text in the logs:\n{logs}");
}

#[tokio::test]
async fn bad_idempotency_keys_are_refused_before_anything_is_written() {
    let (tables, sandbox, store) = start().await;
    let event = fixture_json("create-note.json").unwrap();
    for key in ["", "has space", &"k".repeat(256), "caf\u{e9}"] {
        let response = call(
            &sandbox,
            &with_header(event.clone(), "Idempotency-Key", key),
        )
        .await;
        assert_eq!(response.status, 400, "{key:?}: {:?}", response.body);
        assert!(
            response.body["message"]
                .as_str()
                .unwrap()
                .contains("Idempotency-Key"),
            "{key:?}: {:?}",
            response.body
        );
    }
    assert!(notes_of(&store, "alice").await.is_empty());
    assert!(idempotency_records(&tables).await.is_empty());
}

/// Issue 22, finding 6: the binary keeps at most `MAX_NOTES_PER_USER` notes per user: a create
/// beyond it is a 409 with a message that says so, a replacement of an existing note still
/// works, and a deleted note frees room.
#[tokio::test]
async fn a_create_beyond_the_per_user_cap_is_a_409_and_a_delete_frees_room() {
    use notes_domain::NoteDeleter;
    let tables = fresh_tables().await.unwrap();
    let mut env = tables.function_env();
    env.push(("MAX_NOTES_PER_USER".into(), "3".into()));
    let sandbox = LambdaSandbox::start(Path::new(env!("CARGO_BIN_EXE_createUpdate")), &env)
        .await
        .unwrap();
    let store = DynamoNotes::new(tables.client.clone(), tables.notes_table.clone());
    let create = fixture_json("create-note.json").unwrap();
    for _ in 0..3 {
        let created = call(&sandbox, &create).await;
        assert_eq!(created.status, 201, "{:?}", created.body);
    }
    let refused = call(&sandbox, &create).await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert_eq!(
        refused.body["message"],
        "you already have 3 notes, the most one account may keep: nothing was saved"
    );
    let by_id = call(
        &sandbox,
        &with_body(
            create.clone(),
            r#"{"NoteId": "by-id", "Note": "a fourth, by id"}"#,
        ),
    )
    .await;
    assert_eq!(by_id.status, 409, "{:?}", by_id.body);
    let notes = notes_of(&store, "alice").await;
    assert_eq!(notes.len(), 3, "nothing was saved: {notes:?}");
    assert!(
        call(&sandbox, &fixture_json("create-note.json").unwrap())
            .await
            .status
            == 409
    );
    assert_eq!(
        call(&sandbox, &as_user(create.clone(), "bob")).await.status,
        201,
        "bob has a cap of his own"
    );

    let (first, _, _) = &notes[0];
    let replace = with_body(
        create.clone(),
        &format!(r#"{{"NoteId": "{first}", "Note": "replaced at the cap"}}"#),
    );
    assert_eq!(
        call(&sandbox, &replace).await.status,
        200,
        "a replacement is no create"
    );

    store
        .delete_note(
            &UserId::parse(&notes_http::fixtures::sub_of("alice")).unwrap(),
            &NoteId::parse(first).unwrap(),
            None,
        )
        .await
        .unwrap();
    let again = call(&sandbox, &create).await;
    assert_eq!(again.status, 201, "the delete freed room: {:?}", again.body);
}
