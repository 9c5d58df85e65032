//! An account's data in the four tables, erased (the `account` and `purge` functions) and its
//! owners listed (the `purge` function's reconciliation with the user pool).
//!
//! Every step reads what is still there and removes it, page by page, so an erasure cut short (a
//! timeout, a throttled batch) leaves a consistent remainder that the next run finishes:
//! - notes (with the `#count` item) and usage rows: a strongly consistent Query of the user's
//!   partition, its keys deleted with `BatchWriteItem` (25 per call);
//! - idempotency records: the `OwnerIndex` (keys only), deleted the same way;
//! - posts: the `AuthorIndex` (keys only); each post is rewritten to author "deleted user" and
//!   its `authorId` removed, on the condition that it is still this author's, so the post leaves
//!   the index and no later account can ever be shown as its author.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};
use notes_domain::{AccountDataEraser, ErasedData, StoreError, UserId, Username};

use crate::error::store_error;
use crate::idempotency::OWNER;

type Item = HashMap<String, AttributeValue>;

/// DynamoDB's limit of requests in one `BatchWriteItem`.
const BATCH_SIZE: usize = 25;
/// Items read per Query page: four batches.
const PAGE_SIZE: i32 = 100;
/// Rounds of `BatchWriteItem` for the items DynamoDB left unprocessed (it does under throttling)
/// before the erasure gives up with `Unavailable`; what is done stays done.
const BATCH_ATTEMPTS: u32 = 5;

const POSTS_AUTHOR_INDEX: &str = "AuthorIndex";
const IDEMPOTENCY_OWNER_INDEX: &str = "OwnerIndex";

/// The tables one account's data lives in.
#[derive(Debug, Clone)]
pub struct DynamoAccountData {
    client: aws_sdk_dynamodb::Client,
    tables: AccountTables,
}

/// Their names, as the template passes them.
#[derive(Debug, Clone)]
pub struct AccountTables {
    pub notes: String,
    pub posts: String,
    pub usage: String,
    pub idempotency: String,
}

/// How one table's items of a user are found: the table or index to Query, the attribute that
/// holds the user id, and the primary key attributes to delete by.
struct Partition<'a> {
    table: &'a str,
    index: Option<&'static str>,
    user_attribute: &'static str,
    key: &'static [&'static str],
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

impl DynamoAccountData {
    pub fn new(client: aws_sdk_dynamodb::Client, tables: AccountTables) -> Self {
        Self { client, tables }
    }

    /// Deletes every item of `user` in `partition`; returns how many.
    async fn delete_all(
        &self,
        user: &UserId,
        partition: &Partition<'_>,
    ) -> Result<usize, StoreError> {
        let mut deleted = 0;
        let mut start: Option<Item> = None;
        loop {
            let page = self.query_keys(user, partition, start.take()).await?;
            deleted += page.items.len();
            for chunk in page.items.chunks(BATCH_SIZE) {
                self.batch_delete(partition.table, chunk, partition.key)
                    .await?;
            }
            match page.next {
                Some(next) => start = Some(next),
                None => return Ok(deleted),
            }
        }
    }

    async fn query_keys(
        &self,
        user: &UserId,
        partition: &Partition<'_>,
        start: Option<Item>,
    ) -> Result<KeyPage, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(partition.table)
            .key_condition_expression("#user = :user")
            .expression_attribute_names("#user", partition.user_attribute)
            .expression_attribute_values(":user", s(user.as_str()))
            .set_exclusive_start_key(start)
            .limit(PAGE_SIZE);
        query = match partition.index {
            // Global indexes are read eventually consistent (they cannot be otherwise): a record
            // written a moment ago may be missed, and is found by the next run (the purge).
            Some(index) => query.index_name(index),
            None => query.consistent_read(true),
        };
        let output = query.send().await.map_err(store_error)?;
        let next = output.last_evaluated_key().map(ToOwned::to_owned);
        let items = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| {
                item.into_iter()
                    .filter(|(name, _)| partition.key.contains(&name.as_str()))
                    .collect::<Item>()
            })
            .collect();
        Ok(KeyPage { items, next })
    }

    /// One `BatchWriteItem` of deletes, with its unprocessed items sent again.
    async fn batch_delete(
        &self,
        table: &str,
        keys: &[Item],
        key_attributes: &[&str],
    ) -> Result<(), StoreError> {
        let mut requests = keys
            .iter()
            .filter(|key| key.len() == key_attributes.len())
            .map(|key| {
                DeleteRequest::builder()
                    .set_key(Some(key.clone()))
                    .build()
                    .map(|delete| WriteRequest::builder().delete_request(delete).build())
                    .map_err(StoreError::internal)
            })
            .collect::<Result<Vec<_>, _>>()?;
        for attempt in 0..BATCH_ATTEMPTS {
            if requests.is_empty() {
                return Ok(());
            }
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
            }
            let output = self
                .client
                .batch_write_item()
                .request_items(table, requests)
                .send()
                .await
                .map_err(store_error)?;
            requests = output
                .unprocessed_items
                .and_then(|mut unprocessed| unprocessed.remove(table))
                .unwrap_or_default();
        }
        if requests.is_empty() {
            Ok(())
        } else {
            Err(StoreError::unavailable(std::io::Error::other(format!(
                "{} deletes still unprocessed after {BATCH_ATTEMPTS} batches",
                requests.len()
            ))))
        }
    }

    /// Hands every post of `user` to "deleted user"; returns how many it rewrote.
    async fn anonymize_posts(&self, user: &UserId) -> Result<usize, StoreError> {
        let partition = Partition {
            table: &self.tables.posts,
            index: Some(POSTS_AUTHOR_INDEX),
            user_attribute: "authorId",
            key: &["shard", "id"],
        };
        let mut rewritten = 0;
        let mut start: Option<Item> = None;
        loop {
            let page = self.query_keys(user, &partition, start.take()).await?;
            for key in page.items {
                let result = self
                    .client
                    .update_item()
                    .table_name(&self.tables.posts)
                    .set_key(Some(key))
                    .update_expression("SET #author = :deleted REMOVE #author_id")
                    .condition_expression("#author_id = :user")
                    .expression_attribute_names("#author", "author")
                    .expression_attribute_names("#author_id", "authorId")
                    .expression_attribute_values(":deleted", s(Username::DELETED))
                    .expression_attribute_values(":user", s(user.as_str()))
                    .send()
                    .await;
                match result {
                    Ok(_) => rewritten += 1,
                    // Already handed over (the index lags behind the table): nothing to do.
                    Err(err)
                        if matches!(
                            err.as_service_error(),
                            Some(UpdateItemError::ConditionalCheckFailedException(_))
                        ) => {}
                    Err(err) => return Err(store_error(err)),
                }
            }
            match page.next {
                Some(next) => start = Some(next),
                None => return Ok(rewritten),
            }
        }
    }

    /// Every distinct value of `attribute` in `table` (or its `index`), by a paged Scan that
    /// reads only that attribute.
    async fn distinct(
        &self,
        table: &str,
        index: Option<&str>,
        attribute: &str,
        into: &mut BTreeSet<UserId>,
    ) -> Result<(), StoreError> {
        let mut start: Option<Item> = None;
        loop {
            let output = self
                .client
                .scan()
                .table_name(table)
                .set_index_name(index.map(ToOwned::to_owned))
                .projection_expression("#attribute")
                .expression_attribute_names("#attribute", attribute)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(store_error)?;
            for item in output.items() {
                if let Some(AttributeValue::S(value)) = item.get(attribute) {
                    match UserId::parse(value) {
                        Ok(user) => {
                            into.insert(user);
                        }
                        Err(_) => tracing::warn!(table, "an item has an invalid user id: skipped"),
                    }
                }
            }
            match output.last_evaluated_key() {
                Some(next) => start = Some(next.to_owned()),
                None => return Ok(()),
            }
        }
    }
}

struct KeyPage {
    items: Vec<Item>,
    next: Option<Item>,
}

impl AccountDataEraser for DynamoAccountData {
    async fn erase_account_data(&self, user: &UserId) -> Result<ErasedData, StoreError> {
        let notes = self
            .delete_all(
                user,
                &Partition {
                    table: &self.tables.notes,
                    index: None,
                    user_attribute: "UserId",
                    key: &["UserId", "NoteId"],
                },
            )
            .await?;
        let idempotency_records = self
            .delete_all(
                user,
                &Partition {
                    table: &self.tables.idempotency,
                    index: Some(IDEMPOTENCY_OWNER_INDEX),
                    user_attribute: OWNER,
                    key: &["id"],
                },
            )
            .await?;
        let posts_anonymized = self.anonymize_posts(user).await?;
        // Last: the post counter goes once the posts it counts are no longer this user's.
        let usage_rows = self
            .delete_all(
                user,
                &Partition {
                    table: &self.tables.usage,
                    index: None,
                    user_attribute: "UserId",
                    key: &["UserId", "Counter"],
                },
            )
            .await?;
        Ok(ErasedData {
            notes,
            usage_rows,
            idempotency_records,
            posts_anonymized,
        })
    }

    async fn data_owners(&self) -> Result<BTreeSet<UserId>, StoreError> {
        let mut owners = BTreeSet::new();
        self.distinct(&self.tables.notes, None, "UserId", &mut owners)
            .await?;
        self.distinct(&self.tables.usage, None, "UserId", &mut owners)
            .await?;
        self.distinct(
            &self.tables.idempotency,
            Some(IDEMPOTENCY_OWNER_INDEX),
            OWNER,
            &mut owners,
        )
        .await?;
        self.distinct(
            &self.tables.posts,
            Some(POSTS_AUTHOR_INDEX),
            "authorId",
            &mut owners,
        )
        .await?;
        Ok(owners)
    }
}
