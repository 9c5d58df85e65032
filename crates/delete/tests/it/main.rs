//! The `delete` binary run as Lambda runs it (through the Runtime API) against DynamoDB Local
//! and moto's S3, fed the fixtures in `events/`: only the caller's note goes, never silently, and
//! its dictated audio goes with it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

use notes_devkit::runtime_api::LambdaSandbox;
use notes_devkit::testing::{TestAudio, TestTables, call, fresh_tables};
use notes_domain::{
    AudioKey, Engine, Expectation, NoteId, NoteReader, NoteText, NoteWrite, NoteWriter, StoreError,
    Timestamp, UserId, Voice,
};
use notes_dynamodb::DynamoNotes;
use notes_http::fixtures::{as_user, fixture_json, with_header};

/// DynamoDB Local tables and an audio bucket in moto's S3, both the test's own.
struct Stack {
    tables: TestTables,
    audio: TestAudio,
}

async fn stack() -> Stack {
    let tables = fresh_tables().await.unwrap();
    let audio = TestAudio::start(&format!("audio-{}", std::process::id()))
        .await
        .unwrap();
    Stack { tables, audio }
}

/// The delete function with the stack's tables and `bucket` in its S3.
async fn sandbox(stack: &Stack, bucket: &str) -> LambdaSandbox {
    let mut env = stack.tables.function_env();
    env.extend(stack.audio.env_for(bucket));
    LambdaSandbox::start(Path::new(env!("CARGO_BIN_EXE_delete")), &env)
        .await
        .unwrap()
}

fn user(name: &str) -> UserId {
    UserId::parse(&notes_http::fixtures::sub_of(name)).unwrap()
}

async fn write_note(stack: &Stack, user: &UserId, id: &str, text: &str) {
    DynamoNotes::new(
        stack.tables.client.clone(),
        stack.tables.notes_table.clone(),
    )
    .put_note(NoteWrite {
        user_id: user.clone(),
        note_id: NoteId::parse(id).unwrap(),
        text: NoteText::parse(text.into()).unwrap(),
        expectation: Expectation::Anything,
        now: Timestamp::now(),
    })
    .await
    .unwrap();
}

/// Stores audio under the key the dictate function uses for (user, note, text, voice, engine).
async fn put_audio(stack: &Stack, user: &UserId, note: &str, text: &str, voice: &str) -> String {
    let key = AudioKey::new(
        user,
        &NoteId::parse(note).unwrap(),
        text,
        Voice::parse(voice).unwrap(),
        Engine::Neural,
    )
    .to_string();
    let url = format!("{}/{}/{key}", stack.audio.endpoint(), stack.audio.bucket());
    tokio::task::spawn_blocking(move || {
        ureq::put(&url)
            .header("Content-Type", "audio/mpeg")
            .send(&b"ID3 not really an mp3"[..])
            .unwrap();
    })
    .await
    .unwrap();
    key
}

/// Every key in the stack's bucket (one listing page is plenty here).
async fn stored_keys(stack: &Stack) -> Vec<String> {
    let url = format!(
        "{}/{}?list-type=2",
        stack.audio.endpoint(),
        stack.audio.bucket()
    );
    let xml = tokio::task::spawn_blocking(move || {
        ureq::get(&url)
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap()
    })
    .await
    .unwrap();
    xml.split("<Key>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</Key>"))
        .map(|(key, _)| key.to_owned())
        .collect()
}

#[tokio::test]
async fn deletes_only_the_callers_note_and_never_silently() {
    let stack = stack().await;
    let tables = &stack.tables;
    let sandbox = sandbox(&stack, stack.audio.bucket()).await;
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

/// Issue 22, finding 2: deleting a note deletes every audio of it (each text and voice ever
/// dictated), and nothing else: not another note's, not another user's under the same note id.
#[tokio::test]
async fn deleting_a_note_deletes_all_its_audio_and_only_its() {
    let stack = stack().await;
    let sandbox = sandbox(&stack, stack.audio.bucket()).await;
    let (alice, bob) = (user("alice"), user("bob"));
    write_note(&stack, &alice, "1", "My bank PIN is 4 4 1 9.").await;
    let mut doomed = vec![
        put_audio(&stack, &alice, "1", "My bank PIN is 4 4 1 9.", "Joanna").await,
        put_audio(&stack, &alice, "1", "My bank PIN is 4 4 1 9.", "Matthew").await,
        put_audio(&stack, &alice, "1", "An older text of note 1.", "Joanna").await,
    ];
    let mut kept = vec![
        put_audio(&stack, &alice, "12", "Note 12 shares a prefix.", "Joanna").await,
        put_audio(&stack, &bob, "1", "Bob's note 1.", "Joanna").await,
    ];
    let mut all = [doomed.clone(), kept.clone()].concat();
    all.sort();
    assert_eq!(stored_keys(&stack).await, all, "the audio was stored");

    let deleted = call(&sandbox, &fixture_json("delete-note.json").unwrap()).await;
    assert_eq!(deleted.status, 204, "{:?}", deleted.body);

    kept.sort();
    let left = stored_keys(&stack).await;
    doomed.retain(|key| left.contains(key));
    assert_eq!(
        doomed,
        Vec::<String>::new(),
        "the deleted note's audio is left"
    );
    assert_eq!(left, kept, "only note 1 of alice's audio goes");
    assert!(
        !sandbox.logs().contains("PIN"),
        "the function logs no note text"
    );
}

/// When the audio cannot be deleted (here: the bucket is missing), the note is still deleted and
/// the caller still gets the 204; the failure is in the log, for the lifecycle rule to clean up.
#[tokio::test]
async fn an_audio_failure_after_the_delete_still_answers_204_and_logs_it() {
    let stack = stack().await;
    let sandbox = sandbox(&stack, "no-such-bucket").await;
    let alice = user("alice");
    write_note(&stack, &alice, "1", "Water the ficus.").await;

    let deleted = call(&sandbox, &fixture_json("delete-note.json").unwrap()).await;
    assert_eq!(deleted.status, 204, "{:?}", deleted.body);
    let store = DynamoNotes::new(
        stack.tables.client.clone(),
        stack.tables.notes_table.clone(),
    );
    assert!(matches!(
        store.get_note(&alice, &NoteId::parse("1").unwrap()).await,
        Err(StoreError::NotFound)
    ));
    let logs = sandbox.logs();
    assert!(
        logs.contains("the note is deleted but its audio is not"),
        "{logs}"
    );
    let again = call(&sandbox, &fixture_json("delete-note.json").unwrap()).await;
    assert_eq!(
        again.status, 404,
        "the note stays deleted: {:?}",
        again.body
    );
}

/// Issue 22, finding 6: the binary's delete frees room under the per-user note cap at once (the
/// note and the counter change in one transaction); a 404 delete frees nothing.
#[tokio::test]
async fn a_delete_frees_room_under_the_note_cap() {
    let stack = stack().await;
    let sandbox = sandbox(&stack, stack.audio.bucket()).await;
    let store = DynamoNotes::new(
        stack.tables.client.clone(),
        stack.tables.notes_table.clone(),
    )
    .with_max_notes(1);
    let alice = user("alice");
    let note = |id: &str| NoteWrite {
        user_id: alice.clone(),
        note_id: NoteId::parse(id).unwrap(),
        text: NoteText::parse("Water the ficus.".into()).unwrap(),
        expectation: Expectation::Absent,
        now: Timestamp::now(),
    };
    store.put_note(note("1")).await.unwrap();
    assert!(matches!(
        store.put_note(note("2")).await,
        Err(StoreError::LimitReached { limit: 1, .. })
    ));
    let mut other_id = fixture_json("delete-note.json").unwrap();
    other_id["pathParameters"]["id"] = "2".into();
    other_id["path"] = "/notes/2".into();
    let elsewhere = call(&sandbox, &other_id).await;
    assert_eq!(elsewhere.status, 404);
    assert!(matches!(
        store.put_note(note("2")).await,
        Err(StoreError::LimitReached { .. })
    ));

    let deleted = call(&sandbox, &fixture_json("delete-note.json").unwrap()).await;
    assert_eq!(deleted.status, 204, "{:?}", deleted.body);
    store.put_note(note("2")).await.unwrap();
}
