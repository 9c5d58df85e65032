//! One account's data as the functions store it, written and counted straight in the tables and
//! the bucket: what the `account` and `purge` tests (and the dev kit's own) seed before a deletion
//! and inspect after it. Written here with the raw SDK and S3 wire calls rather than through the
//! functions' adapters, so that a test of an erasure does not trust the code under test to say
//! what was stored.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Select};

use local_aws::DevkitError;
use local_aws::tables::dynamodb_error;

/// Where the data lives: the tables (by template logical id) and the bucket.
#[derive(Debug, Clone)]
pub struct AccountStores {
    pub client: Client,
    pub notes_table: String,
    pub posts_table: String,
    pub usage_table: String,
    pub idempotency_table: String,
    /// moto's endpoint and the audio bucket in it.
    pub s3_endpoint: String,
    pub bucket: String,
}

/// What is stored for one user id, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Items of the user's notes partition, the `#count` item included.
    pub notes: usize,
    pub usage_rows: usize,
    pub idempotency_records: usize,
    /// Posts whose `authorId` is the user.
    pub posts: usize,
    pub audio_objects: usize,
}

impl Footprint {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A post id no seeded post of another user shares: derived from the user id and the index.
fn post_id(user: &str, index: u64) -> u64 {
    let hash = user.bytes().fold(7u64, |hash, byte| {
        hash.wrapping_mul(31).wrapping_add(u64::from(byte))
    });
    1 + (hash % 1_000_000) * 10 + index
}

impl AccountStores {
    /// Stores for `user` (the `sub`), shown as `username`: `notes` notes and the note counter, a
    /// speech-budget row and the post counter, one idempotency record, `notes` posts and one
    /// audio object per note. The note text is `secret`, for tests that check logs never hold it.
    pub async fn seed(
        &self,
        user: &str,
        username: &str,
        notes: u64,
        secret: &str,
    ) -> Result<(), DevkitError> {
        for index in 1..=notes {
            let note_id = index.to_string();
            self.put(
                &self.notes_table,
                [
                    ("UserId", s(user)),
                    ("NoteId", s(&note_id)),
                    ("Note", s(secret)),
                    ("CreatedAt", s("2026-12-07T20:00:00.000Z")),
                    ("UpdatedAt", s("2026-12-07T20:00:00.000Z")),
                    ("Version", n(1)),
                ],
            )
            .await?;
            self.put(
                &self.posts_table,
                [
                    ("shard", n(0)),
                    ("id", n(post_id(user, index))),
                    ("title", s("A post")),
                    ("contents", s("Hello, board.")),
                    ("author", s(username)),
                    ("authorId", s(user)),
                    ("createdAt", s("2026-12-07T20:00:00.000Z")),
                ],
            )
            .await?;
            self.put_audio(&format!(
                "{}/{note_id}/digest-Joanna-neural.mp3",
                encode(user)
            ))
            .await?;
        }
        self.put(
            &self.notes_table,
            [
                ("UserId", s(user)),
                ("NoteId", s("#count")),
                ("NoteCount", n(notes)),
            ],
        )
        .await?;
        self.put(
            &self.usage_table,
            [
                ("UserId", s(user)),
                ("Counter", s("posts")),
                ("Count", n(notes)),
            ],
        )
        .await?;
        self.put(
            &self.usage_table,
            [
                ("UserId", s(user)),
                ("Counter", s("speech#2026-12-07")),
                ("Count", n(42)),
            ],
        )
        .await?;
        self.put(
            &self.idempotency_table,
            [
                ("id", s(&format!("createUpdate#{}", encode(user)))),
                ("owner", s(user)),
                ("status", s("COMPLETED")),
                ("expiration", n(4_102_444_800)),
                ("validation", s("hash")),
                ("data", s(secret)),
            ],
        )
        .await?;
        Ok(())
    }

    async fn put<const N: usize>(
        &self,
        table: &str,
        attributes: [(&str, AttributeValue); N],
    ) -> Result<(), DevkitError> {
        let item: HashMap<String, AttributeValue> = attributes
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        self.client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|error| dynamodb_error("PutItem", table, error))?;
        Ok(())
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .new_agent()
    }

    fn s3_problem(&self, problem: String) -> DevkitError {
        DevkitError::LocalS3Bucket {
            endpoint: self.s3_endpoint.clone(),
            bucket: self.bucket.clone(),
            problem,
        }
    }

    async fn put_audio(&self, key: &str) -> Result<(), DevkitError> {
        let url = format!("{}/{}/{key}", self.s3_endpoint, self.bucket);
        let answer = tokio::task::spawn_blocking(move || {
            Self::agent()
                .put(&url)
                .header("Content-Type", "audio/mpeg")
                .send(&b"ID3 not really an mp3"[..])
                .map(|response| response.status().as_u16())
        })
        .await
        .map_err(DevkitError::BackgroundTask)?;
        match answer {
            Ok(200..=299) => Ok(()),
            Ok(status) => Err(self.s3_problem(format!("PutObject answered HTTP {status}"))),
            Err(error) => Err(self.s3_problem(format!("PutObject: {error}"))),
        }
    }

    /// How many audio objects are stored under the user's prefix.
    async fn audio_count(&self, user: &str) -> Result<usize, DevkitError> {
        let url = format!(
            "{}/{}?list-type=2&prefix={}%2F",
            self.s3_endpoint,
            self.bucket,
            encode(user)
        );
        let answer = tokio::task::spawn_blocking(move || {
            let mut response = Self::agent().get(&url).call()?;
            let status = response.status().as_u16();
            Ok::<_, ureq::Error>((status, response.body_mut().read_to_string()?))
        })
        .await
        .map_err(DevkitError::BackgroundTask)?;
        match answer {
            Ok((200, xml)) => Ok(xml.matches("<Key>").count()),
            Ok((status, body)) => {
                Err(self.s3_problem(format!("ListObjectsV2: HTTP {status}: {body}")))
            }
            Err(error) => Err(self.s3_problem(format!("ListObjectsV2: {error}"))),
        }
    }

    /// Counts the items of `table` whose `attribute` is `user`.
    async fn count(&self, table: &str, attribute: &str, user: &str) -> Result<usize, DevkitError> {
        // A strongly consistent Scan of the table, not a Query of an index: the test must see
        // items even where an index would miss them (the indexes are what the code under test
        // relies on).
        let mut count = 0;
        let mut start = None;
        loop {
            let output = self
                .client
                .scan()
                .table_name(table)
                .filter_expression("#attribute = :user")
                .expression_attribute_names("#attribute", attribute)
                .expression_attribute_values(":user", s(user))
                .select(Select::Count)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|error| dynamodb_error("Scan", table, error))?;
            count += usize::try_from(output.count).unwrap_or_default();
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(count),
            }
        }
    }

    /// Everything stored for `user`.
    pub async fn footprint(&self, user: &str) -> Result<Footprint, DevkitError> {
        Ok(Footprint {
            notes: self.count(&self.notes_table, "UserId", user).await?,
            usage_rows: self.count(&self.usage_table, "UserId", user).await?,
            idempotency_records: self.count(&self.idempotency_table, "owner", user).await?,
            posts: self.count(&self.posts_table, "authorId", user).await?,
            audio_objects: self.audio_count(user).await?,
        })
    }

    /// How many posts are shown as written by `username`.
    pub async fn posts_shown_as(&self, username: &str) -> Result<usize, DevkitError> {
        self.count(&self.posts_table, "author", username).await
    }
}

/// The user id as the audio keys spell it (one path segment; see `AudioKey`).
fn encode(user: &str) -> String {
    user.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'@') {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}
