//! The `purge` binary run as Lambda runs it (through the Runtime API) against DynamoDB Local and
//! moto (Cognito and S3), fed `events/purge-admin-delete-user.json`: an administrator's deletion
//! erases the deleted user's data, and never the data of a user the pool still has, a new
//! sign-up under the deleted user's name included.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

use local_aws::tables::template_path;
use local_aws::{CognitoClient, LocalPool, UserPoolTemplate, s3_local};
use local_lambda::runtime_api::{LambdaSandbox, Outcome};
use notes_testkit::account_data::{AccountStores, Footprint};
use notes_testkit::testing::{TestAudio, TestTables, fresh_tables};
use serde_json::{Value, json};

const PASSWORD: &str = "Passw0rd!Passw0rd";

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

/// The purge function with the stack's tables, bucket and the pool `pool_id`.
async fn sandbox(stack: &Stack, pool_id: &str) -> LambdaSandbox {
    let mut env = stack.tables.function_env();
    env.extend(s3_local::audio_env(
        stack.audio.endpoint(),
        &stack.stores.bucket,
    ));
    env.push((
        "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER".into(),
        stack.audio.endpoint().to_owned(),
    ));
    env.push(("USER_POOL_ID".into(), pool_id.to_owned()));
    LambdaSandbox::start(Path::new(env!("CARGO_BIN_EXE_purge")), &env)
        .await
        .unwrap()
}

/// Runs `operation` of moto's Cognito with `input`.
async fn cognito(stack: &Stack, operation: &'static str, input: Value) -> Value {
    let endpoint = stack.audio.endpoint().to_owned();
    tokio::task::spawn_blocking(move || CognitoClient::new(&endpoint).call(operation, &input))
        .await
        .unwrap()
        .unwrap()
}

/// Signs `username` up (confirmed) and returns its `sub`.
async fn sign_up(stack: &Stack, username: &str) -> String {
    let pool = stack.pool.clone();
    let name = username.to_owned();
    tokio::task::spawn_blocking(move || {
        pool.ensure_user(&name, &format!("{name}@example.com"), PASSWORD)
            .unwrap();
    })
    .await
    .unwrap();
    let user = cognito(
        stack,
        "AdminGetUser",
        json!({"UserPoolId": stack.pool.pool_id(), "Username": username}),
    )
    .await;
    user["UserAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|attribute| attribute["Name"] == "sub")
        .map(|attribute| attribute["Value"].as_str().unwrap().to_owned())
        .unwrap()
}

async fn admin_delete(stack: &Stack, username: &str) {
    cognito(
        stack,
        "AdminDeleteUser",
        json!({"UserPoolId": stack.pool.pool_id(), "Username": username}),
    )
    .await;
}

/// The fixture, naming `pool_id` as the pool the user was deleted from.
fn event(pool_id: &str) -> Value {
    let path = local_aws::workspace_root().join("events/purge-admin-delete-user.json");
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["detail"]["requestParameters"]["userPoolId"] = pool_id.into();
    event
}

async fn run(sandbox: &LambdaSandbox, event: &Value) -> Outcome {
    sandbox.invoke(event).await.unwrap().outcome
}

async fn report(sandbox: &LambdaSandbox, event: &Value) -> Value {
    match run(sandbox, event).await {
        Outcome::Response(value) => value,
        Outcome::Error {
            error_type,
            error_message,
        } => panic!(
            "invocation failed: {error_type}: {error_message}\n{}",
            sandbox.logs()
        ),
    }
}

#[tokio::test]
async fn an_admin_deletion_purges_the_deleted_users_data_and_never_a_live_users() {
    let stack = stack().await;
    let pool_id = stack.pool.pool_id().to_owned();
    let sandbox = sandbox(&stack, &pool_id).await;
    let old_alice = sign_up(&stack, "alice").await;
    let bob = sign_up(&stack, "bob").await;
    stack
        .stores
        .seed(&old_alice, "alice", 3, "My bank PIN is 4 4 1 9.")
        .await
        .unwrap();
    stack
        .stores
        .seed(&bob, "bob", 2, "Bob's note.")
        .await
        .unwrap();
    // Notes still keyed by a username (before notes-migrate): no sub, so not the purge's.
    stack
        .stores
        .seed("legacy-name", "legacy-name", 1, "Old note.")
        .await
        .unwrap();

    // The administrator deletes alice; before the event arrives, someone signs up as alice again.
    admin_delete(&stack, "alice").await;
    let new_alice = sign_up(&stack, "alice").await;
    assert_ne!(new_alice, old_alice);
    stack
        .stores
        .seed(&new_alice, "alice", 1, "New alice's note.")
        .await
        .unwrap();
    let kept = [
        (bob.clone(), stack.stores.footprint(&bob).await.unwrap()),
        (
            new_alice.clone(),
            stack.stores.footprint(&new_alice).await.unwrap(),
        ),
        (
            "legacy-name".to_owned(),
            stack.stores.footprint("legacy-name").await.unwrap(),
        ),
    ];

    // A deletion in another pool starts nothing, though old alice's data is there to purge.
    let elsewhere = report(&sandbox, &event("us-east-1_SomeOtherPool")).await;
    assert!(elsewhere["ignored"].is_string(), "{elsewhere}");
    assert!(!stack.stores.footprint(&old_alice).await.unwrap().is_empty());

    let purged = report(&sandbox, &event(&pool_id)).await;
    assert_eq!(purged["accountsPurged"], 1, "{purged}");
    assert_eq!(
        purged["ownersChecked"], 3,
        "old alice, new alice, bob: {purged}"
    );
    assert_eq!(
        purged["ownersSkipped"], 1,
        "the username-keyed notes: {purged}"
    );
    assert_eq!(purged["notes"], 4, "three notes and the counter: {purged}");
    assert_eq!(purged["postsAnonymized"], 3, "{purged}");
    assert_eq!(purged["audioObjects"], 3, "{purged}");
    assert_eq!(
        stack.stores.footprint(&old_alice).await.unwrap(),
        Footprint::default(),
        "nothing of the deleted alice is left"
    );
    assert_eq!(
        stack.stores.posts_shown_as("deleted user").await.unwrap(),
        3
    );
    for (user, footprint) in &kept {
        assert_eq!(
            &stack.stores.footprint(user).await.unwrap(),
            footprint,
            "{user} still exists (or is no sub) and keeps everything"
        );
    }
    assert_eq!(
        stack.stores.posts_shown_as("alice").await.unwrap(),
        1,
        "only the new alice's post is shown as hers"
    );
    assert!(!sandbox.logs().contains("PIN"), "no note text in the log");

    // Another deletion's run finds nothing more to do.
    let again = report(&sandbox, &event(&pool_id)).await;
    assert_eq!(again["accountsPurged"], 0, "{again}");
}

/// When the pool cannot be asked (here: the function names a pool that does not exist), the run
/// fails, so Lambda retries it, and nothing is erased: an unanswered question is never "gone".
#[tokio::test]
async fn a_pool_that_cannot_be_asked_stops_the_run_before_anything_is_erased() {
    let stack = stack().await;
    let carol = sign_up(&stack, "carol").await;
    stack
        .stores
        .seed(&carol, "carol", 2, "Carol's note.")
        .await
        .unwrap();
    let before = stack.stores.footprint(&carol).await.unwrap();
    let missing_pool = "us-east-1_NoSuchPool";
    let sandbox = sandbox(&stack, missing_pool).await;

    match run(&sandbox, &event(missing_pool)).await {
        Outcome::Error { error_message, .. } => {
            assert_eq!(error_message, "the tables or the user pool failed");
        }
        Outcome::Response(value) => panic!("the run went on: {value}"),
    }
    assert_eq!(stack.stores.footprint(&carol).await.unwrap(), before);
    assert!(
        sandbox.logs().contains("the purge stopped"),
        "{}",
        sandbox.logs()
    );
}
