//! The `dictate` binary run as Lambda runs it (through the Runtime API) against DynamoDB Local,
//! moto's S3 and the local Polly (espeak-ng + lame), fed the fixtures in `events/`: real audio,
//! reuse, new audio after an edit, long notes in several pieces, and a Polly outage.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::time::Duration;

use notes_devkit::DevkitError;
use notes_devkit::mp3;
use notes_devkit::polly_local::PollyLocal;
use notes_devkit::runtime_api::LambdaSandbox;
use notes_devkit::testing::{TestAudio, TestTables, call, fresh_tables};
use notes_domain::{Expectation, NoteId, NoteText, NoteWrite, NoteWriter, Timestamp, UserId};
use notes_dynamodb::DynamoNotes;
use notes_http::fixtures::{ProxyResponse, fixture_json};
use serde_json::Value;

/// Everything a dictation needs, on loopback.
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

async fn sandbox(stack: &Stack, polly_endpoint: &str) -> Result<LambdaSandbox, DevkitError> {
    let mut env = stack.tables.function_env();
    env.extend(stack.audio.env_for(stack.audio.bucket()));
    env.push(("AWS_ENDPOINT_URL_POLLY".into(), polly_endpoint.to_owned()));
    LambdaSandbox::start(Path::new(env!("CARGO_BIN_EXE_dictate")), &env).await
}

async fn write_note(stack: &Stack, user: &str, id: &str, text: &str) {
    let store = DynamoNotes::new(
        stack.tables.client.clone(),
        stack.tables.notes_table.clone(),
    );
    store
        .put_note(NoteWrite {
            user_id: UserId::parse(&notes_http::fixtures::sub_of(user)).unwrap(),
            note_id: NoteId::parse(id).unwrap(),
            text: NoteText::parse(text.into()).unwrap(),
            expectation: Expectation::Anything,
            now: Timestamp::now(),
        })
        .await
        .unwrap();
}

/// The 200's JSON string: a URL that downloads a complete mp3. Returns its playing time.
async fn fetch_audio(response: &ProxyResponse) -> Duration {
    assert_eq!(response.status, 200, "{:?}", response.body);
    assert_eq!(
        response.header("content-type"),
        Some("application/json"),
        "the labs' client reads a JSON string"
    );
    let url = response.body.as_str().expect("a JSON string").to_owned();
    assert!(url.contains("X-Amz-Expires=900"), "default TTL: {url}");
    let bytes = tokio::task::spawn_blocking(move || {
        let mut reply = ureq::get(&url).call().unwrap();
        assert_eq!(
            reply.headers().get("content-type").unwrap(),
            "audio/mpeg",
            "stored as audio/mpeg, so a browser plays it"
        );
        reply
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .unwrap()
    })
    .await
    .unwrap();
    mp3::inspect(&bytes).unwrap().duration
}

#[tokio::test]
async fn dictates_real_audio_reuses_it_and_renews_it_after_an_edit() {
    let stack = stack().await;
    let polly = PollyLocal::start(None).await.unwrap();
    let sandbox = sandbox(&stack, &polly.endpoint()).await.unwrap();
    let secret = "Remember to water the ficus on Tuesday.";
    write_note(&stack, "alice", "1", secret).await;

    let first =
        fetch_audio(&call(&sandbox, &fixture_json("dictate-note.json").unwrap()).await).await;
    assert!(first > Duration::from_millis(500), "{first:?}");
    assert_eq!(polly.synthesis_count(), 1);

    // Asked again: the stored audio is presigned, Polly is not called (it bills per character).
    let again =
        fetch_audio(&call(&sandbox, &fixture_json("dictate-note.json").unwrap()).await).await;
    assert_eq!(again, first);
    assert_eq!(polly.synthesis_count(), 1, "the audio was reused");

    // Another voice is other audio; "" is the default voice (Joanna: reused).
    let mut joey = fixture_json("dictate-note.json").unwrap();
    joey["body"] = Value::from(r#"{"VoiceId": "Joey"}"#);
    fetch_audio(&call(&sandbox, &joey).await).await;
    assert_eq!(polly.synthesis_count(), 2);
    fetch_audio(
        &call(
            &sandbox,
            &fixture_json("dictate-note-default-voice.json").unwrap(),
        )
        .await,
    )
    .await;
    assert_eq!(
        polly.synthesis_count(),
        2,
        "the default voice is Joanna's audio"
    );

    // An edit is a new version: new audio, longer for a longer text.
    let longer = format!(
        "{secret} {}",
        "Then feed the cat and call the plumber. ".repeat(5)
    );
    write_note(&stack, "alice", "1", &longer).await;
    let edited =
        fetch_audio(&call(&sandbox, &fixture_json("dictate-note.json").unwrap()).await).await;
    assert_eq!(polly.synthesis_count(), 3);
    assert!(edited > first * 3, "{edited:?} vs {first:?}");

    // Another user's note id, an unknown voice, a bad id: refused, no synthesis.
    let refused = [
        ("dictate-note-other-user.json", 404),
        ("dictate-note-unknown-voice.json", 400),
        ("dictate-note-bad-id.json", 400),
        ("list-notes-no-identity.json", 401),
    ];
    for (fixture, status) in refused {
        let response = call(&sandbox, &fixture_json(fixture).unwrap()).await;
        assert_eq!(response.status, status, "{fixture}: {:?}", response.body);
        assert!(response.body["message"].is_string(), "{fixture}");
    }
    let unknown = call(
        &sandbox,
        &fixture_json("dictate-note-unknown-voice.json").unwrap(),
    )
    .await;
    assert!(
        unknown.body["message"]
            .as_str()
            .unwrap()
            .contains(notes_domain::VOICES_URL)
    );
    let mut null_voice = fixture_json("dictate-note.json").unwrap();
    null_voice["body"] = Value::from(r#"{"VoiceId": null}"#);
    assert_eq!(call(&sandbox, &null_voice).await.status, 400);
    assert_eq!(polly.synthesis_count(), 3);

    // A maximal note: several Polly calls, one complete mp3.
    let sentence = "The quick brown fox jumps over the lazy dog near the river bank. ";
    let long: String = sentence.repeat(160).chars().take(10_000).collect();
    write_note(&stack, "alice", "1", &long).await;
    let before = polly.synthesis_count();
    let whole =
        fetch_audio(&call(&sandbox, &fixture_json("dictate-note.json").unwrap()).await).await;
    let pieces = polly.synthesis_count() - before;
    assert!(pieces >= 4, "10,000 characters in {pieces} pieces");
    assert!(polly.characters() >= 9_900);
    assert!(whole > edited * 5, "{whole:?}");

    // The logs tell what happened, never the text or the URL's signature.
    let logs = sandbox.logs();
    assert!(logs.contains("\"reused\":true"), "{logs}");
    for leak in [secret, "quick brown fox", "X-Amz-Signature", "ficus"] {
        assert!(!logs.contains(leak), "the log leaks {leak:?}");
    }
}

#[tokio::test]
async fn polly_down_is_a_503_with_retry_after_and_the_function_recovers() {
    let stack = stack().await;
    let polly = PollyLocal::start(None).await.unwrap();
    let port = polly.port();
    let endpoint = polly.endpoint();
    let sandbox = sandbox(&stack, &endpoint).await.unwrap();
    write_note(&stack, "alice", "1", "Pick up the dry cleaning.").await;
    polly.stop().await;

    let down = call(&sandbox, &fixture_json("dictate-note.json").unwrap()).await;
    assert_eq!(down.status, 503, "{:?}", down.body);
    assert_eq!(down.header("retry-after"), Some("1"));
    let message = down.body["message"].as_str().unwrap();
    assert!(
        !message.contains("127.0.0.1") && !message.contains("polly"),
        "{message}"
    );

    // Nothing partial was stored: once Polly is back, the same request synthesizes and works.
    let polly = PollyLocal::start(Some(port)).await.unwrap();
    let back = call(&sandbox, &fixture_json("dictate-note.json").unwrap()).await;
    assert!(fetch_audio(&back).await > Duration::ZERO);
    assert_eq!(polly.synthesis_count(), 1);
}

/// Issue 22, finding 3: note 1 dictated, deleted and re-created under the same id with other text
/// (version 1 again, as the labs' client's highest + 1 ids make the normal path) gets its own
/// audio, never the old one; saving the same text again as a new version reuses the audio.
#[tokio::test]
async fn a_re_created_note_never_plays_the_old_audio_and_the_same_text_reuses_it() {
    use notes_domain::NoteDeleter;
    let stack = stack().await;
    let polly = PollyLocal::start(None).await.unwrap();
    let sandbox = sandbox(&stack, &polly.endpoint()).await.unwrap();
    let dictate = || async {
        fetch_audio(&call(&sandbox, &fixture_json("dictate-note.json").unwrap()).await).await
    };
    write_note(&stack, "alice", "1", "My bank PIN is 4 4 1 9.").await;
    let pin = dictate().await;
    assert_eq!(polly.synthesis_count(), 1);

    DynamoNotes::new(
        stack.tables.client.clone(),
        stack.tables.notes_table.clone(),
    )
    .delete_note(
        &UserId::parse(&notes_http::fixtures::sub_of("alice")).unwrap(),
        &NoteId::parse("1").unwrap(),
        None,
    )
    .await
    .unwrap();
    let shopping = "Shopping: apples, pears, a loaf of bread, two lemons and some rice.";
    write_note(&stack, "alice", "1", shopping).await;
    let new = dictate().await;
    assert_eq!(polly.synthesis_count(), 2, "the old audio was handed out");
    assert_ne!(new, pin);

    write_note(&stack, "alice", "1", shopping).await;
    assert_eq!(dictate().await, new);
    assert_eq!(
        polly.synthesis_count(),
        2,
        "the same text as a new version reuses its audio"
    );
}

/// Issue 22, finding 3: each user has a daily budget of synthesized characters, taken before
/// Polly is called; over it, a 429 with `Retry-After` (seconds until the UTC day ends) and a
/// message a person understands, and Polly is not called. Reused audio costs nothing; another
/// user has a budget of their own.
#[tokio::test]
async fn over_the_daily_character_budget_is_a_429_until_the_utc_day_ends() {
    let stack = stack().await;
    let polly = PollyLocal::start(None).await.unwrap();
    let mut env = stack.tables.function_env();
    env.extend(stack.audio.env_for(stack.audio.bucket()));
    env.push(("AWS_ENDPOINT_URL_POLLY".into(), polly.endpoint()));
    env.push(("DAILY_SPEECH_CHARACTERS_PER_USER".into(), "50".into()));
    let sandbox = LambdaSandbox::start(Path::new(env!("CARGO_BIN_EXE_dictate")), &env)
        .await
        .unwrap();
    let dictate = fixture_json("dictate-note.json").unwrap();

    write_note(&stack, "alice", "1", "Thirty characters, more or so.").await;
    fetch_audio(&call(&sandbox, &dictate).await).await;
    assert_eq!(polly.synthesis_count(), 1);
    for _ in 0..3 {
        fetch_audio(&call(&sandbox, &dictate).await).await;
    }
    assert_eq!(polly.synthesis_count(), 1, "reused audio is free");

    write_note(&stack, "alice", "1", "Another thirty characters, too.").await;
    let refused = call(&sandbox, &dictate).await;
    assert_eq!(refused.status, 429, "{:?}", refused.body);
    assert_eq!(polly.synthesis_count(), 1, "Polly was not called");
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&retry_after), "{retry_after}");
    assert_eq!(
        refused.body["message"],
        "you have used your 50 characters of dictation for today (UTC); more are available when \
         the next UTC day begins"
    );

    write_note(&stack, "bob", "1", "Bob's own budget.").await;
    let bobs = notes_http::fixtures::as_user(dictate.clone(), "bob");
    fetch_audio(&call(&sandbox, &bobs).await).await;
    assert_eq!(polly.synthesis_count(), 2, "bob has a budget of his own");
}
