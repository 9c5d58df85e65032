//! The `account` binary run as Lambda runs it (through the Runtime API) against DynamoDB Local and
//! moto (Cognito and S3), fed the fixtures in `events/`: `DELETE /account` leaves nothing of the
//! caller behind but their posts, now by "deleted user", touches no one else, can be retried, and
//! never deletes a new account that took the deleted one's username.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

use local_aws::tables::template_path;
use local_aws::{CognitoClient, LocalPool, UserPoolTemplate, s3_local};
use local_lambda::runtime_api::LambdaSandbox;
use notes_http::fixtures::fixture_json;
use notes_testkit::account_data::{AccountStores, Footprint};
use notes_testkit::testing::{TestAudio, TestTables, call, fresh_tables};
use serde_json::{Value, json};

const SECRET: &str = "My bank PIN is 4 4 1 9.";
const PASSWORD: &str = "Passw0rd!Passw0rd";

/// DynamoDB Local tables, moto's Cognito pool and S3 bucket, all the test's own.
struct Stack {
    tables: TestTables,
    audio: TestAudio,
    pool: LocalPool,
    stores: AccountStores,
}

async fn stack() -> Stack {
    let tables = fresh_tables().await.unwrap();
    let bucket = format!("audio-{}", std::process::id());
    let audio = TestAudio::start(&bucket).await.unwrap();
    let endpoint = audio.endpoint().to_owned();
    let s3 = endpoint.clone();
    let pool = tokio::task::spawn_blocking(move || {
        let template = UserPoolTemplate::from_template(&template_path()).unwrap();
        CognitoClient::new(&s3).ensure_pool(&template).unwrap()
    })
    .await
    .unwrap();
    let table = |id: &str| tables.table(id).unwrap().to_owned();
    let stores = AccountStores {
        client: tables.client.clone(),
        notes_table: table("NotesTable"),
        posts_table: table("PostsTable"),
        usage_table: table("UsageTable"),
        idempotency_table: table("IdempotencyTable"),
        s3_endpoint: endpoint,
        bucket,
    };
    Stack {
        tables,
        audio,
        pool,
        stores,
    }
}

/// The account function with the stack's tables, pool and `bucket`.
async fn sandbox(stack: &Stack, bucket: &str) -> LambdaSandbox {
    let mut env = stack.tables.function_env();
    env.extend(s3_local::audio_env(stack.audio.endpoint(), bucket));
    env.push((
        "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER".into(),
        stack.audio.endpoint().to_owned(),
    ));
    env.push(("USER_POOL_ID".into(), stack.pool.pool_id().to_owned()));
    LambdaSandbox::start(Path::new(env!("CARGO_BIN_EXE_account")), &env)
        .await
        .unwrap()
}

/// Signs `username` up (confirmed) and returns its `sub`.
async fn sign_up(stack: &Stack, username: &str) -> String {
    let pool = stack.pool.clone();
    let username = username.to_owned();
    tokio::task::spawn_blocking(move || {
        pool.ensure_user(&username, &format!("{username}@example.com"), PASSWORD)
            .unwrap();
        sub_of(&pool, &username).unwrap()
    })
    .await
    .unwrap()
}

/// The `sub` of `username` in the pool, or `None` when there is no such user.
fn sub_of(pool: &LocalPool, username: &str) -> Option<String> {
    let answer = CognitoClient::new(pool.endpoint()).call(
        "AdminGetUser",
        &json!({"UserPoolId": pool.pool_id(), "Username": username}),
    );
    match answer {
        Ok(user) => user["UserAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|attribute| attribute["Name"] == "sub")
            .map(|attribute| attribute["Value"].as_str().unwrap().to_owned()),
        Err(error) if error.service_error_type() == Some("UserNotFoundException") => None,
        Err(error) => panic!("AdminGetUser: {error}"),
    }
}

async fn current_sub(stack: &Stack, username: &str) -> Option<String> {
    let pool = stack.pool.clone();
    let username = username.to_owned();
    tokio::task::spawn_blocking(move || sub_of(&pool, &username))
        .await
        .unwrap()
}

/// The REST fixture (or the HTTP API one) as sent for this caller.
fn as_caller(fixture: &str, sub: &str, username: &str) -> Value {
    let mut event = fixture_json(fixture).unwrap();
    if event.get("version").is_some_and(|v| v == "2.0") {
        event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = sub.into();
        event["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:username"] =
            username.into();
    } else {
        event["requestContext"]["authorizer"] =
            json!({"principalId": sub, "sub": sub, "username": username});
    }
    event
}

#[tokio::test]
async fn deletes_everything_of_the_caller_and_nothing_of_anyone_else() {
    let stack = stack().await;
    let sandbox = sandbox(&stack, &stack.stores.bucket).await;
    let alice = sign_up(&stack, "alice").await;
    let bob = sign_up(&stack, "bob").await;
    stack.stores.seed(&alice, "alice", 3, SECRET).await.unwrap();
    stack
        .stores
        .seed(&bob, "bob", 2, "Bob's note.")
        .await
        .unwrap();
    let bobs = stack.stores.footprint(&bob).await.unwrap();
    assert_eq!(
        stack.stores.footprint(&alice).await.unwrap(),
        Footprint {
            notes: 4,
            usage_rows: 2,
            idempotency_records: 1,
            posts: 3,
            audio_objects: 3
        },
        "the seed is what the test believes"
    );

    let deleted = call(&sandbox, &as_caller("delete-account.json", &alice, "alice")).await;
    assert_eq!(
        deleted.status,
        204,
        "{:?}\n{}",
        deleted.body,
        sandbox.logs()
    );

    assert_eq!(
        stack.stores.footprint(&alice).await.unwrap(),
        Footprint::default(),
        "nothing of alice is left"
    );
    assert_eq!(stack.stores.posts_shown_as("alice").await.unwrap(), 0);
    assert_eq!(
        stack.stores.posts_shown_as("deleted user").await.unwrap(),
        3,
        "alice's posts stay, by \"deleted user\""
    );
    assert_eq!(
        current_sub(&stack, "alice").await,
        None,
        "alice is gone from the pool"
    );
    assert_eq!(
        stack.stores.footprint(&bob).await.unwrap(),
        bobs,
        "bob keeps all of his"
    );
    assert_eq!(current_sub(&stack, "bob").await, Some(bob.clone()));
    let logs = sandbox.logs();
    assert!(
        !logs.contains("PIN"),
        "the function logs no note text: {logs}"
    );

    // A retry of a finished deletion (the same token, still within its life) changes nothing.
    let again = call(&sandbox, &as_caller("delete-account.json", &alice, "alice")).await;
    assert_eq!(again.status, 204, "{:?}", again.body);

    // The HTTP API's event works the same.
    let by_http = call(
        &sandbox,
        &as_caller("http-delete-account.json", &bob, "bob"),
    )
    .await;
    assert_eq!(by_http.status, 204, "{:?}", by_http.body);
    assert!(stack.stores.footprint(&bob).await.unwrap().is_empty());
    assert_eq!(current_sub(&stack, "bob").await, None);
}

/// A username is freed when its account is deleted and can be signed up again: a late retry with
/// the old account's token must delete neither the new account nor its data.
#[tokio::test]
async fn an_old_token_never_deletes_a_new_account_under_the_same_name() {
    let stack = stack().await;
    let sandbox = sandbox(&stack, &stack.stores.bucket).await;
    let old = sign_up(&stack, "carol").await;
    let deleted = call(&sandbox, &as_caller("delete-account.json", &old, "carol")).await;
    assert_eq!(deleted.status, 204, "{:?}", deleted.body);

    let new = sign_up(&stack, "carol").await;
    assert_ne!(new, old, "a new sign-up gets a new sub");
    stack
        .stores
        .seed(&new, "carol", 1, "New carol.")
        .await
        .unwrap();
    let kept = stack.stores.footprint(&new).await.unwrap();

    let late = call(&sandbox, &as_caller("delete-account.json", &old, "carol")).await;
    assert_eq!(late.status, 204, "{:?}", late.body);
    assert_eq!(current_sub(&stack, "carol").await, Some(new.clone()));
    assert_eq!(stack.stores.footprint(&new).await.unwrap(), kept);
    assert_eq!(stack.stores.posts_shown_as("carol").await.unwrap(), 1);
}

/// A dependency that fails mid-way (here the audio bucket is missing) is a 500 that names
/// nothing internal; the user stays, so a retry once the bucket is back finishes the deletion.
#[tokio::test]
async fn a_failure_half_way_is_an_opaque_error_and_a_retry_finishes_the_job() {
    let stack = stack().await;
    let bucket = format!("late-{}", std::process::id());
    let sandbox = sandbox(&stack, &bucket).await;
    let dave = sign_up(&stack, "dave").await;
    let stores = AccountStores {
        bucket: bucket.clone(),
        ..stack.stores.clone()
    };
    stack.stores.seed(&dave, "dave", 2, SECRET).await.unwrap();

    let failed = call(&sandbox, &as_caller("delete-account.json", &dave, "dave")).await;
    assert_eq!(failed.status, 500, "{:?}", failed.body);
    assert_eq!(failed.body, json!({"message": "internal error"}));
    assert_eq!(
        current_sub(&stack, "dave").await,
        Some(dave.clone()),
        "the user stays while data is left, so the caller can retry"
    );

    let (endpoint, name) = (stack.audio.endpoint().to_owned(), bucket.clone());
    tokio::task::spawn_blocking(move || s3_local::ensure_bucket(&endpoint, &name).unwrap())
        .await
        .unwrap();
    let retried = call(&sandbox, &as_caller("delete-account.json", &dave, "dave")).await;
    assert_eq!(retried.status, 204, "{:?}", retried.body);
    assert!(stores.footprint(&dave).await.unwrap().is_empty());
    assert_eq!(current_sub(&stack, "dave").await, None);
}

#[tokio::test]
async fn malformed_calls_are_clear_4xx_errors_that_change_nothing() {
    let stack = stack().await;
    let sandbox = sandbox(&stack, &stack.stores.bucket).await;
    let erin = sign_up(&stack, "erin").await;
    stack.stores.seed(&erin, "erin", 1, SECRET).await.unwrap();
    let before = stack.stores.footprint(&erin).await.unwrap();
    let mut wrong_method = as_caller("delete-account.json", &erin, "erin");
    wrong_method["httpMethod"] = "GET".into();
    wrong_method["requestContext"]["httpMethod"] = "GET".into();
    for (event, status) in [
        (
            fixture_json("delete-account-no-identity.json").unwrap(),
            401,
        ),
        (wrong_method, 405),
        (fixture_json("not-an-http-event.json").unwrap(), 400),
    ] {
        let response = call(&sandbox, &event).await;
        assert_eq!(response.status, status, "{:?}", response.body);
        assert!(response.body["message"].is_string());
    }
    assert_eq!(stack.stores.footprint(&erin).await.unwrap(), before);
    assert_eq!(current_sub(&stack, "erin").await, Some(erin));
}
