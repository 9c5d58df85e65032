//! The `post` binary run as Lambda runs it (through the Runtime API) against DynamoDB Local,
//! fed the fixtures in `events/`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

use notes_devkit::runtime_api::LambdaSandbox;
use notes_devkit::testing::{call, fresh_tables};
use notes_http::fixtures::{as_user, fixture_json, following, with_body, with_query};

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
    let ids: Vec<u64> = listed
        .body
        .as_array()
        .unwrap_or_else(|| panic!("a page is a bare array: {:?}", listed.body))
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [2, 1], "rejected posts were not stored; newest first");

    // Pagination: one post per page, following the Link header as the notes do.
    let mut seen = Vec::new();
    let mut links = Vec::new();
    let mut event = with_query(fixture_json("list-posts.json").unwrap(), "limit", "1");
    for _ in 0..5 {
        let page = call(&sandbox, &event).await;
        for post in page.body.as_array().unwrap() {
            seen.push(post["id"].as_u64().unwrap());
        }
        match page.next_link() {
            Some(link) => {
                links.push(link.to_owned());
                event = following(event, link);
            }
            None => break,
        }
    }
    assert_eq!(seen, [2, 1], "each post once, newest first");
    assert_eq!(links.len(), 1, "no Link from the last page: {links:?}");
    assert!(
        links[0].starts_with(
            "https://1234567890.execute-api.us-east-1.amazonaws.com/Prod/post?limit=1&next="
        ),
        "{links:?}"
    );
}

#[tokio::test]
async fn retried_and_concurrent_posts_with_one_idempotency_key_store_one_post() {
    let tables = fresh_tables().await.unwrap();
    let sandboxes = [
        LambdaSandbox::start(
            Path::new(env!("CARGO_BIN_EXE_post")),
            &tables.function_env(),
        )
        .await
        .unwrap(),
        LambdaSandbox::start(
            Path::new(env!("CARGO_BIN_EXE_post")),
            &tables.function_env(),
        )
        .await
        .unwrap(),
    ];
    let event = fixture_json("create-post-idempotent.json").unwrap();

    // Two warm processes receive the same request at once, as after a client's hasty retry:
    // one runs, the other answers 409 (still in progress) or, if it came second, the replay.
    let (a, b) = tokio::join!(call(&sandboxes[0], &event), call(&sandboxes[1], &event));
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert!(
        statuses == [201, 201] || statuses == [201, 409],
        "{statuses:?}: {:?} {:?}",
        a.body,
        b.body
    );
    let winner = if a.status == 201 && a.header("idempotent-replayed").is_none() {
        &a
    } else {
        &b
    };
    assert_eq!(winner.body["id"], 1);

    // Every later retry replays post 1.
    for sandbox in &sandboxes {
        let retry = call(sandbox, &event).await;
        assert_eq!(retry.status, 201);
        assert_eq!(retry.body, winner.body);
        assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    }
    let other_body = with_body(
        event.clone(),
        r#"{"title": "Other", "contents": "Other text"}"#,
    );
    assert_eq!(call(&sandboxes[0], &other_body).await.status, 422);

    let listed = call(&sandboxes[0], &fixture_json("list-posts.json").unwrap()).await;
    let posts = listed.body.as_array().unwrap();
    assert_eq!(posts.len(), 1, "one post, whatever the retries: {posts:?}");
}

/// Issue 22, finding 6: the binary lets one user write at most `MAX_POSTS_PER_USER` posts: the
/// next is a 409 with a message that says so; another user still posts.
#[tokio::test]
async fn a_post_beyond_the_per_user_cap_is_a_409() {
    let tables = fresh_tables().await.unwrap();
    let mut env = tables.function_env();
    env.push(("MAX_POSTS_PER_USER".into(), "2".into()));
    let sandbox = LambdaSandbox::start(Path::new(env!("CARGO_BIN_EXE_post")), &env)
        .await
        .unwrap();
    let post = fixture_json("create-post.json").unwrap();
    for _ in 0..2 {
        let written = call(&sandbox, &post).await;
        assert_eq!(written.status, 201, "{:?}", written.body);
    }
    let refused = call(&sandbox, &post).await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert_eq!(
        refused.body["message"],
        "you already have 2 posts, the most one account may keep: nothing was saved"
    );
    let bobs = call(&sandbox, &as_user(post.clone(), "bob")).await;
    assert_eq!(bobs.status, 201, "{:?}", bobs.body);
    assert_eq!(bobs.body["id"], 3, "the refused post used no id");
}
