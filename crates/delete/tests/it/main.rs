//! The `delete` binary run as Lambda runs it (through the Runtime API) against DynamoDB Local,
//! fed the fixtures in `events/`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

use notes_devkit::runtime_api::{LambdaSandbox, Outcome};
use notes_devkit::testing::fresh_tables;
use notes_domain::{
    Expectation, NoteId, NoteReader, NoteText, NoteWrite, NoteWriter, StoreError, Timestamp, UserId,
};
use notes_dynamodb::DynamoNotes;
use notes_http::fixtures::{ProxyResponse, as_user, fixture_json, with_header};
use serde_json::Value;

async fn call(sandbox: &LambdaSandbox, event: &Value) -> ProxyResponse {
    match sandbox.invoke(event).await.unwrap().outcome {
        Outcome::Response(value) => ProxyResponse::parse(&value).unwrap(),
        Outcome::Error {
            error_type,
            error_message,
        } => {
            panic!(
                "invocation failed: {error_type}: {error_message}\n{}",
                sandbox.logs()
            )
        }
    }
}

#[tokio::test]
async fn deletes_only_the_callers_note_and_never_silently() {
    let tables = fresh_tables().await.unwrap();
    let sandbox = LambdaSandbox::start(
        Path::new(env!("CARGO_BIN_EXE_delete")),
        &tables.function_env(),
    )
    .await
    .unwrap();
    let store = DynamoNotes::new(tables.client.clone(), tables.notes_table.clone());
    let alice = UserId::parse(&notes_http::fixtures::sub_of("alice")).unwrap();
    let id = NoteId::parse("1").unwrap();
    store
        .put_note(NoteWrite {
            user_id: alice.clone(),
            note_id: id.clone(),
            text: NoteText::parse("Buy milk".into()).unwrap(),
            expectation: Expectation::Anything,
            now: Timestamp::now(),
        })
        .await
        .unwrap();

    let by_bob = call(
        &sandbox,
        &as_user(fixture_json("delete-note.json").unwrap(), "bob"),
    )
    .await;
    assert_eq!(
        by_bob.status, 404,
        "bob cannot delete alice's note: {:?}",
        by_bob.body
    );
    let wrong_version = call(
        &sandbox,
        &with_header(
            fixture_json("delete-note.json").unwrap(),
            "If-Match",
            "\"5\"",
        ),
    )
    .await;
    assert_eq!(wrong_version.status, 409, "{:?}", wrong_version.body);
    for (fixture, status) in [
        ("delete-note-bad-id.json", 400),
        ("list-notes-no-identity.json", 401),
        ("not-an-http-event.json", 400),
    ] {
        let response = call(&sandbox, &fixture_json(fixture).unwrap()).await;
        assert_eq!(response.status, status, "{fixture}: {:?}", response.body);
        assert!(response.body["message"].is_string());
    }
    assert!(
        store.get_note(&alice, &id).await.is_ok(),
        "nothing was deleted so far"
    );

    let deleted = call(&sandbox, &fixture_json("delete-note.json").unwrap()).await;
    assert_eq!(deleted.status, 204, "{:?}", deleted.body);
    assert!(matches!(
        store.get_note(&alice, &id).await,
        Err(StoreError::NotFound)
    ));
    let again = call(&sandbox, &fixture_json("delete-note.json").unwrap()).await;
    assert_eq!(again.status, 404);
    assert!(again.body["message"].is_string());
}
