//! The `list` binary run as Lambda runs it (through the Runtime API) against DynamoDB Local,
//! fed the fixtures in `events/`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::time::Duration;

use notes_devkit::runtime_api::LambdaSandbox;
use notes_devkit::testing::{TestTables, call, fresh_tables};
use notes_domain::{Expectation, NoteId, NoteText, NoteWrite, NoteWriter, Timestamp, UserId};
use notes_dynamodb::DynamoNotes;
use notes_http::fixtures::{as_user, fixture_json, following, with_query};
use serde_json::Value;

async fn start() -> (TestTables, LambdaSandbox) {
    let tables = fresh_tables().await.unwrap();
    let sandbox = LambdaSandbox::start(
        Path::new(env!("CARGO_BIN_EXE_list")),
        &tables.function_env(),
    )
    .await
    .unwrap();
    (tables, sandbox)
}

async fn seed(tables: &TestTables, user: &str, notes: &[(&str, &str)]) {
    let store = DynamoNotes::new(tables.client.clone(), tables.notes_table.clone());
    for (id, text) in notes {
        store
            .put_note(NoteWrite {
                user_id: UserId::parse(&notes_http::fixtures::sub_of(user)).unwrap(),
                note_id: NoteId::parse(id).unwrap(),
                text: NoteText::parse((*text).to_owned()).unwrap(),
                expectation: Expectation::Anything,
                now: Timestamp::now(),
            })
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
}

/// The ids of a page: the body must be a bare array, as the labs' client reads it.
fn note_ids(body: &Value) -> Vec<&str> {
    body.as_array()
        .unwrap_or_else(|| panic!("a page is a bare array: {body}"))
        .iter()
        .map(|n| n["NoteId"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn every_identity_source_sees_only_its_own_notes() {
    let (tables, sandbox) = start().await;
    seed(&tables, "alice", &[("1", "Buy milk"), ("2", "Call mum")]).await;
    seed(&tables, "bob", &[("1", "Bob's secret")]).await;
    seed(&tables, "carol", &[("7", "Carol's note")]).await;

    let cases = [
        (
            "list-notes.json",
            vec!["2", "1"],
            "TOKEN authorizer context (alice)",
        ),
        (
            "list-notes-cognito-authorizer.json",
            vec!["1"],
            "Cognito authorizer claims (bob)",
        ),
        (
            "list-notes-http-api-jwt.json",
            vec!["7"],
            "HTTP API JWT claims (carol)",
        ),
    ];
    for (fixture, expected, why) in cases {
        let response = call(&sandbox, &fixture_json(fixture).unwrap()).await;
        assert_eq!(response.status, 200, "{why}: {:?}", response.body);
        assert_eq!(note_ids(&response.body), expected, "{why}");
        assert_eq!(response.header("content-type"), Some("application/json"));
    }
    let alice = call(&sandbox, &fixture_json("list-notes.json").unwrap()).await;
    let first = &alice.body[0];
    assert_eq!(first["Note"], "Call mum");
    assert_eq!(first["Version"], 1);
    assert!(first["CreatedAt"].is_string() && first["UpdatedAt"].is_string());
    assert!(first.get("UserId").is_none());
}

/// Follows `Link: <…>; rel="next"` from `event` to the last page: the ids of every page, and
/// the links followed.
async fn every_page(sandbox: &LambdaSandbox, event: Value) -> (Vec<Vec<String>>, Vec<String>) {
    let (mut pages, mut links) = (Vec::new(), Vec::new());
    let mut event = event;
    loop {
        let page = call(sandbox, &event).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        pages.push(
            note_ids(&page.body)
                .into_iter()
                .map(str::to_owned)
                .collect(),
        );
        let Some(link) = page.next_link() else {
            assert!(
                page.header("link").is_none(),
                "no other Link on the last page"
            );
            break;
        };
        links.push(link.to_owned());
        event = following(event, link);
        assert!(pages.len() < 10, "pagination does not end: {links:?}");
    }
    (pages, links)
}

#[tokio::test]
async fn pages_follow_the_link_header_and_the_cursor_is_bound_to_its_user() {
    let (tables, sandbox) = start().await;
    seed(&tables, "alice", &[("a", "1"), ("b", "2"), ("c", "3")]).await;

    let one_by_one = with_query(fixture_json("list-notes.json").unwrap(), "limit", "1");
    let (pages, links) = every_page(&sandbox, one_by_one).await;
    assert_eq!(pages, [["c"], ["b"], ["a"]], "each note once, newest first");
    let base = "https://1234567890.execute-api.us-east-1.amazonaws.com/Prod/notes?limit=1&next=";
    assert_eq!(links.len(), 2, "no link from the last page: {links:?}");
    for link in &links {
        assert!(link.starts_with(base), "{link} is the request's own URL");
    }

    let first = call(&sandbox, &fixture_json("list-notes-limit.json").unwrap()).await;
    assert_eq!(note_ids(&first.body), ["c", "b"]);
    let link = first.next_link().unwrap().to_owned();
    let event = following(fixture_json("list-notes.json").unwrap(), &link);
    let second = call(&sandbox, &event).await;
    assert_eq!(note_ids(&second.body), ["a"]);
    assert!(second.next_link().is_none(), "last page has no Link");

    // The labs' cleared search box lists every note, in the same pages.
    let cleared = with_query(
        fixture_json("search-notes-empty-text.json").unwrap(),
        "limit",
        "1",
    );
    let (pages, links) = every_page(&sandbox, cleared).await;
    assert_eq!(pages, [["c"], ["b"], ["a"]]);
    assert!(
        links
            .iter()
            .all(|link| link.contains("/Prod/notes/search?limit=1&text=&next=")),
        "{links:?}"
    );
    let all = call(
        &sandbox,
        &fixture_json("search-notes-empty-text.json").unwrap(),
    )
    .await;
    assert_eq!(note_ids(&all.body), ["c", "b", "a"]);

    let stolen = call(&sandbox, &as_user(event, "mallory")).await;
    assert_eq!(
        stolen.status, 400,
        "another user's cursor is refused: {:?}",
        stolen.body
    );
}

#[tokio::test]
async fn search_get_and_rejections() {
    let (tables, sandbox) = start().await;
    seed(
        &tables,
        "alice",
        &[("1", "Buy milk"), ("2", "Call mum"), ("3", "Oat MILK")],
    )
    .await;
    seed(&tables, "bob", &[("4", "milk for bob")]).await;

    let search = call(&sandbox, &fixture_json("search-notes.json").unwrap()).await;
    assert_eq!(search.status, 200);
    assert_eq!(note_ids(&search.body), ["3", "1"]);
    // One match per page: the Link keeps the search text.
    let (pages, links) = every_page(
        &sandbox,
        with_query(fixture_json("search-notes.json").unwrap(), "limit", "1"),
    )
    .await;
    assert_eq!(pages, [["3"], ["1"]]);
    assert!(
        links.iter().all(|l| l.contains("?limit=1&text=MILK&next=")),
        "{links:?}"
    );

    let get = call(&sandbox, &fixture_json("get-note.json").unwrap()).await;
    assert_eq!(get.status, 200, "{:?}", get.body);
    assert_eq!(get.body["Note"], "Buy milk");
    assert_eq!(get.header("etag"), Some("\"1\""));

    let cases = [
        ("get-note-missing.json", 404),
        ("list-notes-no-identity.json", 401),
        ("list-notes-bad-limit.json", 400),
        ("list-notes-forged-cursor.json", 400),
        ("search-notes-no-text.json", 400),
        ("list-notes-wrong-method.json", 405),
        ("not-an-http-event.json", 400),
    ];
    for (fixture, status) in cases {
        let response = call(&sandbox, &fixture_json(fixture).unwrap()).await;
        assert_eq!(response.status, status, "{fixture}: {:?}", response.body);
        assert!(
            response.body["message"].is_string(),
            "{fixture}: JSON error body"
        );
    }
    // A Host header lambda_http cannot parse (it would panic converting the event): a 400.
    let mut bad_host = fixture_json("list-notes.json").unwrap();
    bad_host["headers"]["Host"] = "ex%cute-api.us-east-1.amazonaws.com".into();
    bad_host["multiValueHeaders"]["Host"] =
        serde_json::json!(["ex%cute-api.us-east-1.amazonaws.com"]);
    let response = call(&sandbox, &bad_host).await;
    assert_eq!(response.status, 400, "{:?}", response.body);

    // Bob's note 4 is not alice's to read.
    let mut event = fixture_json("get-note.json").unwrap();
    event["pathParameters"]["id"] = "4".into();
    assert_eq!(call(&sandbox, &event).await.status, 404);

    let logs = sandbox.logs();
    assert!(
        logs.contains("c6af9ac6-7b61-11e6-9a41-93e8deadbeef") || logs.contains("requestId"),
        "logs carry the request id:\n{logs}"
    );
    for secret in ["Buy milk", "Oat MILK", "milk for bob"] {
        assert!(!logs.contains(secret), "note text in the logs:\n{logs}");
    }
}

#[tokio::test]
async fn a_missing_table_variable_stops_the_function_at_init() {
    let env: Vec<(String, String)> = vec![("AWS_REGION".into(), "us-east-1".into())];
    let sandbox = LambdaSandbox::start(Path::new(env!("CARGO_BIN_EXE_list")), &env)
        .await
        .unwrap();
    let error = sandbox
        .invoke(&fixture_json("list-notes.json").unwrap())
        .await
        .expect_err("the function cannot serve without NOTES_TABLE");
    assert!(error.to_string().contains("NOTES_TABLE"), "{error}");
}
