//! The posts table: collision-free sequential ids and newest-first pages across shards.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;
use notes_domain::{
    NewPost, PageSize, PostContents, PostReader, PostTitle, PostWriter, Timestamp, Username,
};
use notes_dynamodb::DynamoPosts;

use crate::{tables, user};

fn new_post(n: usize) -> NewPost {
    NewPost {
        title: PostTitle::parse(format!("post {n}")).unwrap(),
        contents: PostContents::parse(format!("contents {n}")).unwrap(),
        author_id: user("sub-of-alice"),
        author: Username::parse("alice").unwrap(),
        created_at: Timestamp::now(),
    }
}

async fn all_ids(store: &DynamoPosts, size: u8) -> Vec<u64> {
    let mut ids = Vec::new();
    let mut before = None;
    for _ in 0..100 {
        let page = store
            .recent_posts(PageSize::new(i64::from(size)).unwrap(), before)
            .await
            .unwrap();
        ids.extend(page.items.iter().map(|p| p.id.get()));
        match page.next {
            Some(next) => before = Some(next),
            None => return ids,
        }
    }
    panic!("pagination does not end");
}

#[tokio::test]
async fn ids_are_sequential_and_unique_under_concurrency() {
    let tables = tables().await;
    let store = DynamoPosts::new(tables.client.clone(), tables.posts_table.clone());
    let first = store.create_post(new_post(0)).await.unwrap();
    assert_eq!(first.id.get(), 1);

    let tasks: Vec<_> = (1..=40)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move { store.create_post(new_post(n)).await })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for task in tasks {
        ids.insert(task.await.unwrap().unwrap().id.get());
    }
    assert_eq!(
        ids,
        (2..=41).collect::<BTreeSet<u64>>(),
        "40 concurrent posts, 40 distinct ids"
    );

    let listed = all_ids(&store, 7).await;
    assert_eq!(
        listed,
        (1..=41).rev().collect::<Vec<u64>>(),
        "every post listed once, newest first"
    );
}

#[tokio::test]
async fn pages_cross_shard_boundaries() {
    let tables = tables().await;
    let store = DynamoPosts::new(tables.client.clone(), tables.posts_table.clone());
    // Start the counter just below a shard boundary (1000) rather than writing 1,000 posts.
    tables
        .client
        .put_item()
        .table_name(&tables.posts_table)
        .item("shard", AttributeValue::N("0".into()))
        .item("id", AttributeValue::N("0".into()))
        .item("lastId", AttributeValue::N("997".into()))
        .send()
        .await
        .unwrap();
    for n in 0..6 {
        store.create_post(new_post(n)).await.unwrap();
    }
    assert_eq!(all_ids(&store, 4).await, [1003, 1002, 1001, 1000, 999, 998]);
    assert_eq!(
        all_ids(&store, 100).await,
        [1003, 1002, 1001, 1000, 999, 998]
    );
}

#[tokio::test]
async fn an_empty_board_has_no_posts_and_no_next() {
    let tables = tables().await;
    let store = DynamoPosts::new(tables.client.clone(), tables.posts_table.clone());
    let page = store.recent_posts(PageSize::DEFAULT, None).await.unwrap();
    assert!(page.items.is_empty());
    assert!(page.next.is_none());
}

/// Issue 22, finding 6: at most `max` posts per author, even when posts race; a refused post
/// uses no id; other authors are not affected.
#[tokio::test]
async fn the_per_author_post_cap_holds_under_concurrent_posts() {
    let tables = tables().await;
    let store = DynamoPosts::new(tables.client.clone(), tables.posts_table.clone())
        .with_max_posts(tables.table("UsageTable").unwrap(), 4);
    let posts = (0..10).map(|n| {
        let store = store.clone();
        tokio::spawn(async move { store.create_post(new_post(n)).await })
    });
    let mut written = 0;
    for post in posts.collect::<Vec<_>>() {
        match post.await.unwrap() {
            Ok(_) => written += 1,
            Err(notes_domain::StoreError::LimitReached { limit: 4, items }) => {
                assert_eq!(items, "posts");
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(written, 4, "exactly the cap, whatever the race");
    assert_eq!(
        all_ids(&store, 10).await,
        vec![4, 3, 2, 1],
        "refused posts used no id"
    );
    let bobs = store
        .create_post(NewPost {
            author_id: user("sub-of-bob"),
            author: Username::parse("bob").unwrap(),
            ..new_post(11)
        })
        .await
        .unwrap();
    assert_eq!(bobs.id.get(), 5, "bob has a cap of his own");
}
