//! `make dev`'s purge on its pool's deletions: an `AdminDeleteUser` against the local moto (what
//! `aws cognito-idp admin-delete-user` sends) reaches the real `purge` binary through the
//! deletion feed, and the deleted user's data is gone; another user's stays.

use std::time::{Duration, Instant};

use local_aws::{CognitoClient, CognitoLocal, UserPoolTemplate, s3_local, template_path};
use local_lambda::binaries::function_binary;
use local_lambda::runtime_api::LambdaSandbox;
use notes_dev::deletion_feed::DeletionFeed;
use notes_testkit::account_data::AccountStores;
use notes_testkit::fresh_tables;
use serde_json::json;

#[tokio::test]
async fn an_admin_deletion_in_the_local_pool_purges_that_users_data() {
    let tables = fresh_tables().await.unwrap();
    let moto = tokio::task::spawn_blocking(|| CognitoLocal::start(None))
        .await
        .unwrap()
        .unwrap();
    let endpoint = moto.endpoint().to_owned();
    let bucket = format!("feed-{}", std::process::id());
    let (s3, name) = (endpoint.clone(), bucket.clone());
    let (pool, alice, bob) = tokio::task::spawn_blocking(move || {
        s3_local::ensure_bucket(&s3, &name).unwrap();
        let template = UserPoolTemplate::from_template(&template_path()).unwrap();
        let pool = CognitoClient::new(&s3).ensure_pool(&template).unwrap();
        let mut subs = Vec::new();
        for user in ["alice", "bob"] {
            pool.ensure_user(user, &format!("{user}@example.com"), "Passw0rd!Passw0rd")
                .unwrap();
            let found = CognitoClient::new(&s3)
                .call(
                    "AdminGetUser",
                    &json!({"UserPoolId": pool.pool_id(), "Username": user}),
                )
                .unwrap();
            let sub = found["UserAttributes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|attribute| attribute["Name"] == "sub")
                .unwrap()["Value"]
                .as_str()
                .unwrap()
                .to_owned();
            subs.push(sub);
        }
        let bob = subs.pop().unwrap();
        let alice = subs.pop().unwrap();
        (pool, alice, bob)
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
        s3_endpoint: endpoint.clone(),
        bucket: bucket.clone(),
    };
    stores
        .seed(&alice, "alice", 2, "Alice's note.")
        .await
        .unwrap();
    stores.seed(&bob, "bob", 1, "Bob's note.").await.unwrap();
    let bobs = stores.footprint(&bob).await.unwrap();

    // The purge function as make dev runs it: the same environment as the API's functions.
    let mut env = tables.function_env();
    env.extend(s3_local::audio_env(&endpoint, &bucket));
    env.extend(pool.user_admin_env());
    let binary = tokio::task::spawn_blocking(|| function_binary("purge"))
        .await
        .unwrap()
        .unwrap();
    let purge = LambdaSandbox::start(&binary, &env).await.unwrap();
    let feed = DeletionFeed::start(moto.deletions_file(), purge);

    let (s3, pool_id) = (endpoint.clone(), pool.pool_id().to_owned());
    tokio::task::spawn_blocking(move || {
        CognitoClient::new(&s3)
            .call(
                "AdminDeleteUser",
                &json!({"UserPoolId": pool_id, "Username": "alice"}),
            )
            .unwrap()
    })
    .await
    .unwrap();

    let started = Instant::now();
    while !stores.footprint(&alice).await.unwrap().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "alice's data is still there ({} deletions delivered)\n{}",
            feed.delivered(),
            moto.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(feed.delivered(), 1);
    assert_eq!(stores.posts_shown_as("deleted user").await.unwrap(), 2);
    assert_eq!(stores.footprint(&bob).await.unwrap(), bobs, "bob keeps his");
}
