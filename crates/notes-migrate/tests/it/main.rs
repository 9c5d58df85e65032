//! The migration through its binary, on DynamoDB Local, over a seeded table of a few thousand
//! items: a dry run writes nothing; applied in two steps (`--limit`, as if interrupted) and then
//! again, it moves every username-keyed note of a pool user to the user's sub exactly once,
//! loses and duplicates nothing, leaves conflicts and unknown owners in place, and links posts.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, HashMap};
use std::process::Command;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use notes_testkit::testing::{TestTables, fresh_tables};
use serde_json::{Value, json};

const POOL_USERS: usize = 24;
const DELETED_USERS: usize = 4;
const MIGRATED_USERS: usize = 2;
const NOTES_PER_USER: usize = 100;
const POSTS: usize = 200;

fn sub_of(user: usize) -> String {
    format!("0000{user:04}-aaaa-4bbb-8ccc-{user:012}")
}

fn name_of(user: usize) -> String {
    format!("user{user:02}")
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn note(owner: &str, id: usize, text: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("UserId".to_owned(), s(owner)),
        ("NoteId".to_owned(), s(&id.to_string())),
        ("Note".to_owned(), s(text)),
        ("CreatedAt".to_owned(), s("2026-01-01T00:00:00.000Z")),
        ("UpdatedAt".to_owned(), s("2026-01-01T00:00:00.000Z")),
        ("Version".to_owned(), AttributeValue::N("1".into())),
    ])
}

async fn put_all(client: &Client, table: &str, items: Vec<HashMap<String, AttributeValue>>) {
    for chunk in items.chunks(25) {
        let mut requests: Vec<WriteRequest> = chunk
            .iter()
            .map(|item| {
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(item.clone()))
                            .build()
                            .unwrap(),
                    )
                    .build()
            })
            .collect();
        while !requests.is_empty() {
            let output = client
                .batch_write_item()
                .request_items(table, requests)
                .send()
                .await
                .unwrap();
            requests = output
                .unprocessed_items
                .and_then(|mut left| left.remove(table))
                .unwrap_or_default();
        }
    }
}

async fn scan_all(client: &Client, table: &str) -> Vec<HashMap<String, AttributeValue>> {
    let (mut items, mut start) = (Vec::new(), None);
    loop {
        let page = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        items.extend(page.items.unwrap_or_default());
        match page.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => return items,
        }
    }
}

fn text(item: &HashMap<String, AttributeValue>, name: &str) -> String {
    match item.get(name) {
        Some(AttributeValue::S(value)) => value.clone(),
        other => panic!("{name}: {other:?}"),
    }
}

/// (UserId, NoteId) -> Note, every note of the table.
async fn notes_by_key(tables: &TestTables) -> BTreeMap<(String, String), String> {
    let items = scan_all(&tables.client, &tables.notes_table).await;
    let count = items.len();
    let map: BTreeMap<_, _> = items
        .iter()
        .map(|item| {
            (
                (text(item, "UserId"), text(item, "NoteId")),
                text(item, "Note"),
            )
        })
        .collect();
    assert_eq!(map.len(), count, "a key twice");
    map
}

fn run(tables: &TestTables, users_file: &std::path::Path, extra: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_notes-migrate"))
        .envs(tables.function_env())
        .args(["--users".as_ref(), users_file.as_os_str()])
        .args(["--notes-table", &tables.notes_table])
        .args(["--posts-table", &tables.posts_table])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "notes-migrate {extra:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test]
async fn moves_a_seeded_table_to_subs_dry_run_first_in_steps_and_idempotently() {
    let tables = fresh_tables().await.unwrap();
    let client = &tables.client;

    // Pool users 0..24 have notes under their username; users 24..26 were migrated already (their
    // notes are under their sub); users 26..30 were deleted from the pool.
    let mut notes = Vec::new();
    for user in 0..POOL_USERS + MIGRATED_USERS + DELETED_USERS {
        let owner = if (POOL_USERS..POOL_USERS + MIGRATED_USERS).contains(&user) {
            sub_of(user)
        } else {
            name_of(user)
        };
        for id in 0..NOTES_PER_USER {
            notes.push(note(&owner, id, &format!("note {id} of {}", name_of(user))));
        }
    }
    // user00 wrote note 7 again after the deploy: the old one must not replace it.
    notes.push(note(&sub_of(0), 7, "written after the deploy"));
    put_all(client, &tables.notes_table, notes).await;
    let mut posts = Vec::new();
    for id in 1..=POSTS {
        let author = id % (POOL_USERS + DELETED_USERS);
        let author = if author < POOL_USERS {
            author
        } else {
            author + MIGRATED_USERS
        };
        posts.push(HashMap::from([
            ("shard".to_owned(), AttributeValue::N("0".into())),
            ("id".to_owned(), AttributeValue::N(id.to_string())),
            ("title".to_owned(), s("t")),
            ("contents".to_owned(), s("c")),
            ("author".to_owned(), s(&name_of(author))),
            ("createdAt".to_owned(), s("2026-01-01T00:00:00.000Z")),
        ]));
    }
    put_all(client, &tables.posts_table, posts).await;
    let before = notes_by_key(&tables).await;
    assert_eq!(before.len(), 3_001);

    let pool: Vec<Value> = (0..POOL_USERS + MIGRATED_USERS)
        .map(|user| {
            json!({"Username": name_of(user), "Enabled": true, "Attributes": [
                {"Name": "sub", "Value": sub_of(user)},
                {"Name": "email", "Value": format!("{}@example.com", name_of(user))}
            ]})
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("notes-migrate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let users_file = dir.join("users.json");
    std::fs::write(&users_file, json!({"Users": pool}).to_string()).unwrap();

    let to_move = (POOL_USERS * NOTES_PER_USER) as u64;
    let dry = run(&tables, &users_file, &[]);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["notes"]["moved"], to_move, "{dry}");
    assert_eq!(
        dry["notes"]["unknown_owner"],
        (DELETED_USERS * NOTES_PER_USER) as u64
    );
    assert_eq!(
        notes_by_key(&tables).await,
        before,
        "a dry run writes nothing"
    );

    let first = run(&tables, &users_file, &["--apply", "--limit", "1000"]);
    assert_eq!(
        (
            first["notes"]["moved"].as_u64(),
            first["stopped_at_limit"].as_bool()
        ),
        (Some(1000), Some(true))
    );
    let second = run(&tables, &users_file, &["--apply"]);
    assert_eq!(
        second["notes"]["moved"].as_u64(),
        Some(to_move - 1000 - 1),
        "{second}"
    );
    assert_eq!(second["notes"]["conflicts"], 1);
    assert_eq!(second["notes"]["conflict_keys"], json!([["user00", "7"]]));
    let third = run(&tables, &users_file, &["--apply"]);
    assert_eq!(third["notes"]["moved"], 0, "idempotent: {third}");
    assert_eq!(third["posts"]["linked"], 0, "idempotent: {third}");

    let after = notes_by_key(&tables).await;
    assert_eq!(
        after.len(),
        before.len(),
        "nothing lost, nothing duplicated"
    );
    for ((owner, id), note) in &before {
        let user = (0..POOL_USERS).find(|user| &name_of(*user) == owner);
        let expected_key = match user {
            Some(user) if !(user == 0 && id == "7") => (sub_of(user), id.clone()),
            _ => (owner.clone(), id.clone()),
        };
        assert_eq!(after.get(&expected_key), Some(note), "{owner}/{id}");
    }
    assert_eq!(
        after.get(&(sub_of(0), "7".to_owned())).map(String::as_str),
        Some("written after the deploy")
    );

    let posts = scan_all(client, &tables.posts_table).await;
    for post in posts.iter().filter(|post| post.contains_key("author")) {
        let author = text(post, "author");
        match (0..POOL_USERS).find(|user| name_of(*user) == author) {
            Some(user) => assert_eq!(text(post, "authorId"), sub_of(user)),
            None => {
                assert_eq!(author, "deleted user");
                assert!(!post.contains_key("authorId"));
            }
        }
    }
    let linked = second["posts"]["linked"].as_u64().unwrap();
    assert_eq!(
        linked + second["posts"]["author_deleted"].as_u64().unwrap(),
        POSTS as u64
    );
    assert_eq!(first["posts"]["linked"], 0, "the limit was spent on notes");
    std::fs::remove_dir_all(&dir).ok();
}
