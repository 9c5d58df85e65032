//! The usage table as the speech budget: atomic under concurrency, per user and UTC day.

use notes_domain::{SpeechBudget, SpeechError, Timestamp};
use notes_dynamodb::DynamoSpeechBudget;

use crate::{tables, user};

#[tokio::test]
async fn the_daily_budget_holds_under_concurrent_spends_and_refunds_give_room_back() {
    let tables = tables().await;
    let budget = DynamoSpeechBudget::new(
        tables.client.clone(),
        tables.table("UsageTable").unwrap(),
        100,
    );
    let now = Timestamp::parse("2026-12-07T23:00:00.000Z").unwrap();
    let spends = (0..8).map(|_| {
        let budget = budget.clone();
        tokio::spawn(async move { budget.spend(&user("alice"), 30, now).await })
    });
    let mut granted = 0;
    for spend in spends.collect::<Vec<_>>() {
        match spend.await.unwrap() {
            Ok(()) => granted += 1,
            Err(SpeechError::BudgetExhausted {
                limit: 100,
                retry_after_seconds: 3600,
            }) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(granted, 3, "3 x 30 fit in 100, a fourth never does");
    assert!(budget.spend(&user("alice"), 11, now).await.is_err());
    assert!(
        budget.spend(&user("alice"), 10, now).await.is_ok(),
        "exactly 100"
    );

    budget.refund(&user("alice"), 30, now).await;
    assert!(budget.spend(&user("alice"), 30, now).await.is_ok());
    assert!(
        budget.spend(&user("alice"), 101, now).await.is_err(),
        "more than a whole day's budget"
    );
    let tomorrow = Timestamp::parse("2026-12-08T00:00:00.000Z").unwrap();
    assert!(budget.spend(&user("alice"), 100, tomorrow).await.is_ok());
    assert!(budget.spend(&user("bob"), 100, now).await.is_ok());
}
