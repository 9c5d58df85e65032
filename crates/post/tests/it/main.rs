//! The `post` binary run as Lambda runs it (through the Runtime API) against DynamoDB Local,
//! fed the fixtures in `events/`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::Path;

use notes_devkit::runtime_api::{LambdaSandbox, Outcome};
use notes_devkit::testing::fresh_tables;
use notes_http::fixtures::{ProxyResponse, as_user, fixture_json, with_query};
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
async fn posts_get_sequential_ids_and_list_newest_first() {
    let tables = fresh_tables().await.unwrap();
    let sandbox = LambdaSandbox::start(
        Path::new(env!("CARGO_BIN_EXE_post")),
        &tables.function_env(),
    )
    .await
    .unwrap();

    let first = call(&sandbox, &fixture_json("create-post.json").unwrap()).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(first.body["id"], 1);
    assert_eq!(first.body["author"], "alice");
    assert_eq!(first.body["title"], "Hello board");
    assert!(first.body["createdAt"].is_string());
    let second = call(
        &sandbox,
        &as_user(fixture_json("create-post.json").unwrap(), "bob"),
    )
    .await;
    assert_eq!(second.body["id"], 2);
    assert_eq!(second.body["author"], "bob");

    for (fixture, status) in [
        ("create-post-missing-title.json", 400),
        ("create-post-author-smuggled.json", 400),
        ("list-posts-no-identity.json", 401),
        ("delete-note.json", 405),
        ("not-an-http-event.json", 400),
    ] {
        let response = call(&sandbox, &fixture_json(fixture).unwrap()).await;
        assert_eq!(response.status, status, "{fixture}: {:?}", response.body);
        assert!(response.body["message"].is_string());
    }

    let listed = call(&sandbox, &fixture_json("list-posts.json").unwrap()).await;
    assert_eq!(listed.status, 200);
    let ids: Vec<u64> = listed.body["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [2, 1], "rejected posts were not stored; newest first");

    // Pagination: one post per page, following `next`.
    let mut seen = BTreeSet::new();
    let mut event = with_query(fixture_json("list-posts.json").unwrap(), "limit", "1");
    for _ in 0..5 {
        let page = call(&sandbox, &event).await;
        for post in page.body["posts"].as_array().unwrap() {
            assert!(
                seen.insert(post["id"].as_u64().unwrap()),
                "a post listed twice"
            );
        }
        match page.body["next"].as_str() {
            Some(next) => event = with_query(event, "next", next),
            None => break,
        }
    }
    assert_eq!(seen, BTreeSet::from([1, 2]));
}
