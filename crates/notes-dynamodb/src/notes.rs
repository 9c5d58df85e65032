//! The notes table: one partition per user (`UserId`), one item per note (`NoteId`), and the
//! `CreatedAtIndex` local secondary index for newest-first listing.
//!
//! Each partition also holds the user's note counter (`NoteId` `#count`, which no note id can be:
//! ids are letters, digits, `-` and `_`). It has no `CreatedAt`, so the index that lists and
//! searches notes never holds it. Every write that creates a note and every delete changes the
//! counter in the same transaction, conditional on the cap, so concurrent creates can never
//! together go over it and a delete frees room at once.

use std::collections::HashMap;
use std::sync::Arc;

use std::time::Duration;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, Delete, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use notes_domain::{
    Expectation, NewNote, Note, NoteDeleter, NoteId, NoteIdSource, NotePageKey, NoteReader,
    NoteText, NoteWrite, NoteWriter, Page, PageSize, SearchText, StoreError, TimeAndRandomIds,
    Timestamp, UserId, Version,
};
use serde::{Deserialize, Serialize};

use crate::error::{corrupt, store_error};

const INDEX_BY_CREATED_AT: &str = "CreatedAtIndex";
/// Items read per query while searching. Search filters in our code (DynamoDB's `contains` is
/// case-sensitive), so a page of matches may need several pages of notes.
const SEARCH_QUERY_LIMIT: i32 = 100;
/// Queries per search request: bounds the latency and read cost of one request whatever the
/// data; when it is reached the caller gets fewer matches and a `next` cursor to continue.
/// Each query reads at most 1 MB (DynamoDB's cap per query), eventually consistent: at most
/// 128 read units, so one search request costs at most 5 x 128 = 640 read units
/// (docs/limits-and-data.md, openapi.yaml).
pub const SEARCH_MAX_QUERIES: usize = 5;
/// Ids drawn per create before giving up. A draw collides with one of the user's notes about
/// once in a thousand creates in the same millisecond (or after a client chose that number), so
/// five collisions in a row mean a broken id source, not bad luck.
pub const CREATE_MAX_ATTEMPTS: usize = 5;
/// The sort key of the per-user note counter item.
const COUNTER_NOTE_ID: &str = "#count";
/// The counter item's attribute: notes created minus notes deleted since the counter exists.
const COUNT: &str = "NoteCount";
/// Attempts of a transaction that DynamoDB cancels because another one changed the same counter
/// at the same moment (`TransactionConflict`): the same user creating notes concurrently.
const TRANSACTION_MAX_ATTEMPTS: u32 = 5;

type Item = HashMap<String, AttributeValue>;

/// Every id drawn for a create was taken: the id source is broken (a constant, a stuck clock
/// with no randomness), since chance alone practically never collides this often.
#[derive(Debug, thiserror::Error)]
#[error("no free note id after {0} draws")]
struct NoFreeNoteId(usize);

/// How a query reads: strongly consistent (a whole read unit per 4 KB) or eventually consistent
/// (half of one; a write may take up to a second to show).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Consistency {
    Strong,
    Eventual,
}

/// The notes table, as read and written by the functions.
#[derive(Debug, Clone)]
pub struct DynamoNotes {
    client: aws_sdk_dynamodb::Client,
    table: String,
    /// Where the ids of notes created without one come from; replaceable so that a test can
    /// make a draw collide on purpose.
    note_ids: Arc<dyn NoteIdSource>,
    /// The most notes one user may keep; `None`: counted, never refused.
    max_notes: Option<u32>,
}

/// The stored shape of a note, with the labs' attribute names.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NoteItem {
    user_id: String,
    note_id: String,
    note: String,
    created_at: String,
    updated_at: String,
    version: u64,
}

impl NoteItem {
    fn into_note(self) -> Result<Note, StoreError> {
        let invalid = |field: &str| corrupt(format!("note item has an invalid {field}"));
        Ok(Note {
            user_id: UserId::parse(&self.user_id).map_err(|_| invalid("UserId"))?,
            note_id: NoteId::parse(&self.note_id).map_err(|_| invalid("NoteId"))?,
            text: NoteText::parse(self.note).map_err(|_| invalid("Note"))?,
            created_at: Timestamp::parse(&self.created_at).map_err(|_| invalid("CreatedAt"))?,
            updated_at: Timestamp::parse(&self.updated_at).map_err(|_| invalid("UpdatedAt"))?,
            version: Version::new(self.version).map_err(|_| invalid("Version"))?,
        })
    }
}

fn decode_note(item: Item) -> Result<Note, StoreError> {
    serde_dynamo::aws_sdk_dynamodb_1::from_item::<NoteItem>(item)
        .map_err(|e| corrupt(format!("note item does not decode: {e}")))?
        .into_note()
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The version stored in an item returned by a failed condition check, if there was an item.
fn stored_version(item: Option<&Item>) -> Option<Version> {
    item?
        .get("Version")
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .and_then(|v| Version::new(v).ok())
}

impl DynamoNotes {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            note_ids: Arc::new(TimeAndRandomIds),
            max_notes: None,
        }
    }

    /// The same table, refusing a note beyond `max` per user with `StoreError::LimitReached`.
    pub fn with_max_notes(self, max: u32) -> Self {
        Self {
            max_notes: Some(max),
            ..self
        }
    }

    /// The same table, drawing new notes' ids from `note_ids` instead of `TimeAndRandomIds`.
    pub fn with_note_ids(self, note_ids: Arc<dyn NoteIdSource>) -> Self {
        Self { note_ids, ..self }
    }

    /// The index key of a note, as DynamoDB expects it in `ExclusiveStartKey`. The user always
    /// comes from the caller, never from the cursor.
    fn start_key(user: &UserId, key: &NotePageKey) -> Item {
        HashMap::from([
            ("UserId".to_owned(), s(user.as_str())),
            ("NoteId".to_owned(), s(key.note_id.as_str())),
            (
                "CreatedAt".to_owned(),
                s(&key.created_at.to_rfc3339_millis()),
            ),
        ])
    }

    fn page_key(note: &Note) -> NotePageKey {
        NotePageKey {
            created_at: note.created_at,
            note_id: note.note_id.clone(),
        }
    }

    /// One page of the user's notes, newest first, from the index. `consistency`: listing is
    /// strongly consistent (the labs' client reloads the list right after each write and must
    /// see it); search reads eventually consistent, at half the read units.
    async fn query_newest_first(
        &self,
        user: &UserId,
        limit: i32,
        start: Option<Item>,
        consistency: Consistency,
    ) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(INDEX_BY_CREATED_AT)
            .key_condition_expression("UserId = :user")
            .expression_attribute_values(":user", s(user.as_str()))
            .scan_index_forward(false)
            .consistent_read(consistency == Consistency::Strong)
            .limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(store_error)?;
        let last_evaluated = output.last_evaluated_key().cloned();
        Ok((output.items.unwrap_or_default(), last_evaluated))
    }
}

impl NoteReader for DynamoNotes {
    async fn list_notes(
        &self,
        user: &UserId,
        size: PageSize,
        after: Option<&NotePageKey>,
    ) -> Result<Page<Note, NotePageKey>, StoreError> {
        // Ask for one more than a page: if it comes back there is a next page, and the cursor
        // can point at the last note returned instead of leaving the client an empty last page.
        let wanted = usize::from(size.get());
        let start = after.map(|key| Self::start_key(user, key));
        let (items, _) = self
            .query_newest_first(user, i32::from(size.get()) + 1, start, Consistency::Strong)
            .await?;
        let more = items.len() > wanted;
        let notes = items
            .into_iter()
            .take(wanted)
            .map(decode_note)
            .collect::<Result<Vec<_>, _>>()?;
        let next = if more {
            notes.last().map(Self::page_key)
        } else {
            None
        };
        Ok(Page { items: notes, next })
    }

    async fn search_notes(
        &self,
        user: &UserId,
        query: &SearchText,
        size: PageSize,
        after: Option<&NotePageKey>,
    ) -> Result<Page<Note, NotePageKey>, StoreError> {
        let wanted = usize::from(size.get());
        let mut matches = Vec::with_capacity(wanted);
        let mut start = after.map(|key| Self::start_key(user, key));
        let mut last_examined: Option<NotePageKey> = None;
        for _ in 0..SEARCH_MAX_QUERIES {
            let (items, last_evaluated) = self
                .query_newest_first(user, SEARCH_QUERY_LIMIT, start, Consistency::Eventual)
                .await?;
            for item in items {
                let note = decode_note(item)?;
                let key = Self::page_key(&note);
                if query.matches(&note.text) {
                    if matches.len() == wanted {
                        // One match more than a page: there is a next page, starting right
                        // after the last match returned.
                        let next = matches.last().map(Self::page_key);
                        return Ok(Page {
                            items: matches,
                            next,
                        });
                    }
                    matches.push(note);
                }
                last_examined = Some(key);
            }
            if last_evaluated.is_none() {
                return Ok(Page {
                    items: matches,
                    next: None,
                });
            }
            // Resume from the last note examined, so no note is read twice.
            start = last_examined
                .as_ref()
                .map(|key| Self::start_key(user, key))
                .or(last_evaluated);
        }
        // The work bound is reached: hand back what was found and where to go on from. The
        // caller sees a short (possibly empty) page with a `next`, and continues.
        Ok(Page {
            items: matches,
            next: last_examined,
        })
    }

    async fn get_note(&self, user: &UserId, id: &NoteId) -> Result<Note, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("UserId", s(user.as_str()))
            .key("NoteId", s(id.as_str()))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        match output.item {
            Some(item) => decode_note(item),
            None => Err(StoreError::NotFound),
        }
    }
}

impl NoteWriter for DynamoNotes {
    async fn put_note(&self, write: NoteWrite) -> Result<Note, StoreError> {
        match write.expectation {
            Expectation::AtVersion(_) => self.update_existing(&write).await,
            Expectation::Absent => self.create_counted(&write).await,
            // Replace if it exists, create (counted) if not; a note created or deleted by a
            // concurrent request between the two steps sends us round once more.
            Expectation::Anything => {
                for _ in 0..3 {
                    match self.update_existing(&write).await {
                        Err(StoreError::VersionConflict { current: None }) => {}
                        result => return result,
                    }
                    match self.create_counted(&write).await {
                        Err(StoreError::VersionConflict { .. }) => {}
                        result => return result,
                    }
                }
                Err(StoreError::unavailable(std::io::Error::other(
                    "the note kept being created and deleted concurrently",
                )))
            }
        }
    }

    async fn create_note(&self, note: NewNote) -> Result<Note, StoreError> {
        // The id is a draw, not a count: the write is conditional on the user having no note of
        // that id, and a taken id (a collision, or a client that chose that number) means
        // drawing again, never overwriting.
        for attempt in 1..=CREATE_MAX_ATTEMPTS {
            let note_id = self.note_ids.candidate(note.now);
            match self.put_new_note(&note, note_id).await {
                Err(StoreError::VersionConflict { .. }) => {
                    tracing::warn!(attempt, "generated note id already taken, drawing another");
                }
                result => return result,
            }
        }
        Err(StoreError::internal(NoFreeNoteId(CREATE_MAX_ATTEMPTS)))
    }
}

impl DynamoNotes {
    /// Replaces an existing note in one UpdateItem: the text, `UpdatedAt` and the version
    /// increment. Its condition is the expectation (`AtVersion`), or that the note exists
    /// (`Anything`); a missing note is `VersionConflict { current: None }`. Never creates.
    async fn update_existing(&self, write: &NoteWrite) -> Result<Note, StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("UserId", s(write.user_id.as_str()))
            .key("NoteId", s(write.note_id.as_str()))
            .update_expression("SET #text = :text, #updated = :now ADD #version :one")
            .expression_attribute_names("#text", "Note")
            .expression_attribute_names("#updated", "UpdatedAt")
            .expression_attribute_names("#version", "Version")
            .expression_attribute_names("#created", "CreatedAt")
            .expression_attribute_values(":text", s(write.text.as_str()))
            .expression_attribute_values(":now", s(&write.now.to_rfc3339_millis()))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        // CreatedAt is on every note and never on the counter item.
        let request = match write.expectation {
            Expectation::AtVersion(version) => request
                .condition_expression("attribute_exists(#created) AND #version = :expected")
                .expression_attribute_values(":expected", n(version.get())),
            Expectation::Anything | Expectation::Absent => {
                request.condition_expression("attribute_exists(#created)")
            }
        };
        match request.send().await {
            Ok(output) => match output.attributes {
                Some(item) => decode_note(item),
                None => Err(corrupt("UpdateItem returned no attributes")),
            },
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    Err(StoreError::VersionConflict {
                        current: stored_version(failed.item()),
                    })
                }
                _ => Err(store_error(err)),
            },
        }
    }

    /// Creates a note the user has no note of, and counts it, in one transaction: the counter's
    /// increment is conditional on the cap, the note's write on its absence. A taken id is
    /// `VersionConflict` (with the stored version when DynamoDB returns it), the cap
    /// `LimitReached`; either way nothing is written.
    async fn create_counted(&self, write: &NoteWrite) -> Result<Note, StoreError> {
        let now = write.now.to_rfc3339_millis();
        let note = Update::builder()
            .table_name(&self.table)
            .key("UserId", s(write.user_id.as_str()))
            .key("NoteId", s(write.note_id.as_str()))
            .update_expression(
                "SET #text = :text, #updated = :now, #created = :now, #version = :one",
            )
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#text", "Note")
            .expression_attribute_names("#updated", "UpdatedAt")
            .expression_attribute_names("#created", "CreatedAt")
            .expression_attribute_names("#version", "Version")
            .expression_attribute_names("#id", "NoteId")
            .expression_attribute_values(":text", s(write.text.as_str()))
            .expression_attribute_values(":now", s(&now))
            .expression_attribute_values(":one", n(1))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(StoreError::internal)?;
        let items = vec![
            self.count(&write.user_id, 1)?,
            TransactWriteItem::builder().update(note).build(),
        ];
        match self.transact(items).await? {
            None => Ok(Note {
                user_id: write.user_id.clone(),
                note_id: write.note_id.clone(),
                text: write.text.clone(),
                created_at: write.now,
                updated_at: write.now,
                version: Version::FIRST,
            }),
            Some(reasons) => {
                if failed_condition(reasons.first()) {
                    Err(StoreError::LimitReached {
                        limit: self.max_notes.unwrap_or(0),
                        items: "notes",
                    })
                } else {
                    Err(StoreError::VersionConflict {
                        current: stored_version(reasons.get(1).and_then(|r| r.item())),
                    })
                }
            }
        }
    }

    /// The counter item's change by `delta`; an increment is conditional on the cap, if any.
    fn count(&self, user: &UserId, delta: i64) -> Result<TransactWriteItem, StoreError> {
        let mut update = Update::builder()
            .table_name(&self.table)
            .key("UserId", s(user.as_str()))
            .key("NoteId", s(COUNTER_NOTE_ID))
            .update_expression("ADD #count :delta")
            .expression_attribute_names("#count", COUNT)
            .expression_attribute_values(":delta", AttributeValue::N(delta.to_string()));
        if let Some(max) = self.max_notes.filter(|_| delta > 0) {
            update = update
                .condition_expression("attribute_not_exists(#count) OR #count < :max")
                .expression_attribute_values(":max", n(u64::from(max)));
        }
        let update = update.build().map_err(StoreError::internal)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Runs a write transaction. `None`: done. `Some(reasons)`: a condition failed (one reason
    /// per item, in order), nothing was written. A cancellation for a concurrent transaction on
    /// the same items is retried after a short, jittered pause.
    async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Option<Vec<CancellationReason>>, StoreError> {
        let mut attempt = 1;
        loop {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let err = match result {
                Ok(_) => return Ok(None),
                Err(err) => err,
            };
            let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
                err.as_service_error()
            else {
                return Err(store_error(err));
            };
            let reasons = cancelled.cancellation_reasons().to_vec();
            if reasons.iter().any(|r| failed_condition(Some(r))) {
                return Ok(Some(reasons));
            }
            let conflict = reasons
                .iter()
                .any(|r| r.code() == Some("TransactionConflict"));
            if !conflict || attempt >= TRANSACTION_MAX_ATTEMPTS {
                // Throttling or a conflict that does not clear: worth a retry by the caller.
                return Err(StoreError::unavailable(err));
            }
            tokio::time::sleep(conflict_pause(attempt)).await;
            attempt += 1;
        }
    }

    /// `put_note` on behalf of `create_note`: one conditional UpdateItem, whose condition
    /// failing means the drawn id is taken.
    async fn put_new_note(&self, note: &NewNote, note_id: NoteId) -> Result<Note, StoreError> {
        self.put_note(NoteWrite {
            user_id: note.user_id.clone(),
            note_id,
            text: note.text.clone(),
            expectation: Expectation::Absent,
            now: note.now,
        })
        .await
    }
}

/// Whether a transaction item was cancelled by its own condition.
fn failed_condition(reason: Option<&CancellationReason>) -> bool {
    reason.and_then(CancellationReason::code) == Some("ConditionalCheckFailed")
}

/// 10, 20, 40... ms plus up to 15 ms of jitter (from the clock: good enough to spread a few
/// concurrent writers apart).
fn conflict_pause(attempt: u32) -> Duration {
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| u64::from(since.subsec_micros()) % 15_000);
    Duration::from_millis(10 << attempt.min(4)) + Duration::from_micros(jitter)
}

impl NoteDeleter for DynamoNotes {
    async fn delete_note(
        &self,
        user: &UserId,
        id: &NoteId,
        expected: Option<Version>,
    ) -> Result<(), StoreError> {
        let mut delete = Delete::builder()
            .table_name(&self.table)
            .key("UserId", s(user.as_str()))
            .key("NoteId", s(id.as_str()))
            .expression_attribute_names("#created", "CreatedAt")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        // CreatedAt is on every note and never on the counter item.
        delete = match expected {
            None => delete.condition_expression("attribute_exists(#created)"),
            Some(version) => delete
                .condition_expression("attribute_exists(#created) AND #version = :expected")
                .expression_attribute_names("#version", "Version")
                .expression_attribute_values(":expected", n(version.get())),
        };
        let delete = delete.build().map_err(StoreError::internal)?;
        let items = vec![
            TransactWriteItem::builder().delete(delete).build(),
            self.count(user, -1)?,
        ];
        match self.transact(items).await? {
            None => Ok(()),
            // No old item: there was nothing to delete. An old item: wrong version.
            Some(reasons) => match reasons.first().and_then(|r| r.item()) {
                None => Err(StoreError::NotFound),
                Some(item) => Err(StoreError::VersionConflict {
                    current: stored_version(Some(item)),
                }),
            },
        }
    }
}
