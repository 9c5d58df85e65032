//! The idempotency table: one winner per key, replayable records, expiry and release.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use notes_domain::{ClaimOutcome, IdempotencyClaim, IdempotencyStore, RecordedResponse, Timestamp};
use notes_dynamodb::DynamoIdempotency;

use crate::tables;

const TABLE: &str = "IdempotencyTable";

async fn store() -> (DynamoIdempotency, notes_testkit::testing::TestTables) {
    let tables = tables().await;
    let name = tables
        .table(TABLE)
        .expect("template.yaml defines IdempotencyTable")
        .to_owned();
    (DynamoIdempotency::new(tables.client.clone(), name), tables)
}

fn claim(id: &str, hash: &str, now: Timestamp) -> IdempotencyClaim {
    IdempotencyClaim {
        id: id.to_owned(),
        owner: notes_domain::UserId::parse("idempotency-test-owner").unwrap(),
        payload_hash: hash.to_owned(),
        now,
        expires_at: now.plus(Duration::from_secs(3_600)),
        in_progress_until: now.plus(Duration::from_secs(10)),
    }
}

fn response(body: &str) -> RecordedResponse {
    RecordedResponse {
        status: 201,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_owned(),
    }
}

#[tokio::test]
async fn a_key_is_taken_once_then_replays_its_response() {
    let (store, tables) = store().await;
    let now = Timestamp::now();
    let first = claim("post#k1", "h1", now);
    assert_eq!(store.claim(&first).await.unwrap(), ClaimOutcome::Acquired);
    assert_eq!(
        store.claim(&claim("post#k1", "h1", now)).await.unwrap(),
        ClaimOutcome::InProgress {
            payload_hash: "h1".into()
        },
        "a duplicate while the first runs"
    );
    store
        .complete(&first, &response("{\"id\":1}"))
        .await
        .unwrap();
    assert_eq!(
        store.claim(&claim("post#k1", "h2", now)).await.unwrap(),
        ClaimOutcome::Completed {
            payload_hash: "h1".into(),
            response: response("{\"id\":1}"),
        },
        "the record says which payload it answered, whatever the new claim's"
    );

    // The record as an operator sees it: Powertools' attribute names, TTL in epoch seconds.
    let item = tables
        .client
        .get_item()
        .table_name(tables.table(TABLE).unwrap())
        .key("id", AttributeValue::S("post#k1".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(item["status"].as_s().unwrap(), "COMPLETED");
    assert_eq!(item["validation"].as_s().unwrap(), "h1");
    assert_eq!(
        item["expiration"].as_n().unwrap(),
        &first.expires_at.unix_seconds().to_string()
    );
    assert!(!item.contains_key("in_progress_expiration"));
}

#[tokio::test]
async fn of_concurrent_claims_exactly_one_wins() {
    let (store, _tables) = store().await;
    let now = Timestamp::now();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.claim(&claim("createUpdate#race", "h", now)).await })
        })
        .collect();
    let mut acquired = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            ClaimOutcome::Acquired => acquired += 1,
            ClaimOutcome::InProgress { payload_hash } => assert_eq!(payload_hash, "h"),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(acquired, 1);
}

#[tokio::test]
async fn released_and_expired_keys_are_free_again() {
    let (store, _tables) = store().await;
    let now = Timestamp::now();

    // Released after a failure: the retry runs afresh.
    let failed = claim("post#released", "h", now);
    assert_eq!(store.claim(&failed).await.unwrap(), ClaimOutcome::Acquired);
    store.release(&failed).await.unwrap();
    let retry = claim("post#released", "h", now.plus(Duration::from_millis(5)));
    assert_eq!(store.claim(&retry).await.unwrap(), ClaimOutcome::Acquired);
    // The first attempt's late release or completion must not touch the retry's record.
    store.release(&failed).await.unwrap();
    assert!(matches!(
        store.complete(&failed, &response("late")).await,
        Err(notes_domain::StoreError::VersionConflict { .. })
    ));
    assert!(matches!(
        store
            .claim(&claim("post#released", "h", now))
            .await
            .unwrap(),
        ClaimOutcome::InProgress { .. }
    ));

    // An attempt that died (timed out) holds its key only until its in-progress expiry.
    let dead = claim("post#dead", "h", now);
    assert_eq!(store.claim(&dead).await.unwrap(), ClaimOutcome::Acquired);
    let after_deadline = now.plus(Duration::from_secs(11));
    assert_eq!(
        store
            .claim(&claim("post#dead", "h", after_deadline))
            .await
            .unwrap(),
        ClaimOutcome::Acquired
    );

    // A completed record answers until it expires; TTL deletion is lazy, the claim does not wait.
    let done = claim("post#done", "h", now);
    assert_eq!(store.claim(&done).await.unwrap(), ClaimOutcome::Acquired);
    store.complete(&done, &response("{}")).await.unwrap();
    let within = now.plus(Duration::from_secs(3_599));
    assert!(matches!(
        store
            .claim(&claim("post#done", "h2", within))
            .await
            .unwrap(),
        ClaimOutcome::Completed { .. }
    ));
    let after_expiry = now.plus(Duration::from_secs(3_602));
    assert_eq!(
        store
            .claim(&claim("post#done", "h2", after_expiry))
            .await
            .unwrap(),
        ClaimOutcome::Acquired
    );
}

#[tokio::test]
async fn a_missing_table_is_an_internal_error_not_a_panic() {
    let (_, tables) = store().await;
    let store = DynamoIdempotency::new(tables.client.clone(), "no-such-table");
    let error = store
        .claim(&claim("post#x", "h", Timestamp::now()))
        .await
        .unwrap_err();
    // A missing table is a configuration bug, not a transient fault.
    assert!(
        matches!(error, notes_domain::StoreError::Internal(_)),
        "{error:?}"
    );
}
