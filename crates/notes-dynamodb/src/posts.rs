//! The posts table: sequential ids from an atomic counter item, posts spread over partitions of
//! 1,000 (`shard = id / 1000`, sort key `id`), newest first by a descending Query.
//!
//! Each author may write at most a set number of posts: a counter per author in the usage table,
//! incremented with a condition on the cap before the post gets an id (so a refused post uses
//! no id), and decremented again if the post's write fails.
//!
//! The tutorial this replaces numbered posts `Scan(COUNT) + 1`: a full table read per write, and
//! two concurrent writers get the same number and one post silently replaces the other. Here the
//! counter increment is atomic (one UpdateItem `ADD`), so no two posts ever get the same id, and
//! the post itself is written with `attribute_not_exists(id)`, so even a corrupted counter could
//! not make a write overwrite an existing post.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use notes_domain::{
    NewPost, Page, PageSize, Post, PostContents, PostId, PostPageKey, PostReader, PostTitle,
    PostWriter, StoreError, Timestamp, UserId, Username,
};
use serde::Deserialize;

use crate::error::{corrupt, store_error};

/// Posts per partition. Small enough that one partition never gets hot with old posts, large
/// enough that a page of recent posts almost always comes from one Query.
const POSTS_PER_SHARD: u64 = 1_000;
/// Queries per page of recent posts: a page crosses at most one shard boundary, unless posts
/// are missing (an id allocated whose post write failed leaves a gap).
const MAX_QUERIES_PER_PAGE: usize = 3;

type Item = HashMap<String, AttributeValue>;

/// The posts table, as read and written by the `post` function.
#[derive(Debug, Clone)]
pub struct DynamoPosts {
    client: aws_sdk_dynamodb::Client,
    table: String,
    /// Where each author's post count is kept, and the most posts one author may write.
    authors: Option<AuthorCap>,
}

/// The per-author post cap and the table of its counters.
#[derive(Debug, Clone)]
struct AuthorCap {
    usage_table: String,
    max_posts: u32,
}

/// The counter item's sort key in the usage table (`UserId` is the author's sub) and attribute.
const POSTS_COUNTER: &str = "posts";
const POSTS_COUNT: &str = "Count";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostItem {
    id: u64,
    title: String,
    contents: String,
    author: String,
    created_at: String,
}

fn decode_post(item: Item) -> Result<Post, StoreError> {
    let item: PostItem = serde_dynamo::aws_sdk_dynamodb_1::from_item(item)
        .map_err(|e| corrupt(format!("post item does not decode: {e}")))?;
    let invalid = |field: &str| corrupt(format!("post item has an invalid {field}"));
    Ok(Post {
        id: PostId::new(item.id).map_err(|_| invalid("id"))?,
        title: PostTitle::parse(item.title).map_err(|_| invalid("title"))?,
        contents: PostContents::parse(item.contents).map_err(|_| invalid("contents"))?,
        author: Username::parse(&item.author).map_err(|_| invalid("author"))?,
        created_at: Timestamp::parse(&item.created_at).map_err(|_| invalid("createdAt"))?,
    })
}

fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn shard_of(id: u64) -> u64 {
    id / POSTS_PER_SHARD
}

/// The counter lives at (shard 0, id 0): ids start at 1, so it can never collide with a post.
const COUNTER_ID: u64 = 0;
const COUNTER_ATTRIBUTE: &str = "lastId";

impl DynamoPosts {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            authors: None,
        }
    }

    /// The same table, refusing a post beyond `max_posts` per author with
    /// `StoreError::LimitReached`; the counts are kept in `usage_table`.
    pub fn with_max_posts(self, usage_table: impl Into<String>, max_posts: u32) -> Self {
        Self {
            authors: Some(AuthorCap {
                usage_table: usage_table.into(),
                max_posts,
            }),
            ..self
        }
    }

    /// Counts one more post of `author`, unless that would exceed the cap.
    async fn count_post(&self, cap: &AuthorCap, author: &UserId) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&cap.usage_table)
            .key("UserId", s(author.as_str()))
            .key("Counter", s(POSTS_COUNTER))
            .update_expression("ADD #count :one")
            .condition_expression("attribute_not_exists(#count) OR #count < :max")
            .expression_attribute_names("#count", POSTS_COUNT)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(u64::from(cap.max_posts)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(_)) => {
                    Err(StoreError::LimitReached {
                        limit: cap.max_posts,
                        items: "posts",
                    })
                }
                _ => Err(store_error(err)),
            },
        }
    }

    /// Gives back the count of a post that was not written. Best effort: should this fail too,
    /// the author can write one post fewer, which is logged.
    async fn uncount_post(&self, cap: &AuthorCap, author: &UserId) {
        let result = self
            .client
            .update_item()
            .table_name(&cap.usage_table)
            .key("UserId", s(author.as_str()))
            .key("Counter", s(POSTS_COUNTER))
            .update_expression("ADD #count :minus_one")
            .expression_attribute_names("#count", POSTS_COUNT)
            .expression_attribute_values(":minus_one", AttributeValue::N("-1".into()))
            .send()
            .await;
        if result.is_err() {
            tracing::warn!("a failed post stays counted against its author's cap");
        }
    }

    async fn allocate_id(&self) -> Result<u64, StoreError> {
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("shard", n(0))
            .key("id", n(COUNTER_ID))
            .update_expression("ADD #last :one")
            .expression_attribute_names("#last", COUNTER_ATTRIBUTE)
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(store_error)?;
        read_counter(output.attributes.as_ref())
            .ok_or_else(|| corrupt("post counter update returned no number"))
    }

    /// The highest id allocated so far (0 when there are no posts).
    async fn last_allocated_id(&self) -> Result<u64, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("shard", n(0))
            .key("id", n(COUNTER_ID))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        match output.item {
            None => Ok(0),
            Some(item) => {
                read_counter(Some(&item)).ok_or_else(|| corrupt("post counter is not a number"))
            }
        }
    }
}

fn read_counter(item: Option<&Item>) -> Option<u64> {
    item?
        .get(COUNTER_ATTRIBUTE)?
        .as_n()
        .ok()?
        .parse::<u64>()
        .ok()
}

impl PostWriter for DynamoPosts {
    async fn create_post(&self, post: NewPost) -> Result<Post, StoreError> {
        let Some(cap) = &self.authors else {
            return self.write_post(post).await;
        };
        self.count_post(cap, &post.author_id).await?;
        let author = post.author_id.clone();
        let result = self.write_post(post).await;
        if result.is_err() {
            self.uncount_post(cap, &author).await;
        }
        result
    }
}

impl DynamoPosts {
    /// A new id from the counter, then the post under it.
    async fn write_post(&self, post: NewPost) -> Result<Post, StoreError> {
        let id = self.allocate_id().await?;
        let post_id = PostId::new(id).map_err(|_| corrupt("post counter returned 0"))?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("shard", n(shard_of(id)))
            .item("id", n(id))
            .item("title", s(post.title.as_str()))
            .item("contents", s(post.contents.as_str()))
            .item("author", s(post.author.as_str()))
            // The permanent id: the username above is display only, and is freed for reuse
            // when the account is deleted.
            .item("authorId", s(post.author_id.as_str()))
            .item("createdAt", s(&post.created_at.to_rfc3339_millis()))
            .condition_expression("attribute_not_exists(id)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(Post {
                id: post_id,
                title: post.title,
                contents: post.contents,
                author: post.author,
                created_at: post.created_at,
            }),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(_)) => Err(corrupt(format!(
                    "post id {id} from the counter is already taken: the counter is behind the table"
                ))),
                _ => Err(store_error(err)),
            },
        }
    }
}

impl PostReader for DynamoPosts {
    async fn recent_posts(
        &self,
        size: PageSize,
        before: Option<PostPageKey>,
    ) -> Result<Page<Post, PostPageKey>, StoreError> {
        let wanted = usize::from(size.get());
        // The highest id this page may hold.
        let mut top = match before {
            Some(key) => key.before.get().saturating_sub(1),
            None => self.last_allocated_id().await?,
        };
        let mut posts = Vec::with_capacity(wanted);
        for _ in 0..MAX_QUERIES_PER_PAGE {
            if top == 0 || posts.len() == wanted {
                break;
            }
            let shard = shard_of(top);
            let bottom = (shard * POSTS_PER_SHARD).max(1);
            let remaining = i32::try_from(wanted - posts.len()).unwrap_or(i32::MAX);
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#shard = :shard AND #id BETWEEN :bottom AND :top")
                .expression_attribute_names("#shard", "shard")
                .expression_attribute_names("#id", "id")
                .expression_attribute_values(":shard", n(shard))
                .expression_attribute_values(":bottom", n(bottom))
                .expression_attribute_values(":top", n(top))
                .scan_index_forward(false)
                .consistent_read(true)
                .limit(remaining)
                .send()
                .await
                .map_err(store_error)?;
            let shard_exhausted = output.last_evaluated_key().is_none();
            for item in output.items.unwrap_or_default() {
                posts.push(decode_post(item)?);
            }
            top = match (posts.last(), shard_exhausted) {
                // Still in this shard: continue below the last post returned.
                (Some(last), false) => last.id.get() - 1,
                // This shard is done: continue in the one below.
                _ => bottom - 1,
            };
        }
        let next = if top == 0 {
            None
        } else {
            PostId::new(top + 1)
                .ok()
                .map(|before| PostPageKey { before })
        };
        Ok(Page { items: posts, next })
    }
}
