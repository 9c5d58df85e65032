//! Idempotent creates: a client that retries `POST /notes` or `POST /post` with the same
//! `Idempotency-Key` gets the first attempt's response instead of a second note or post.
//!
//! The record kept per key follows the conventions of Powertools for AWS Lambda, so that anyone
//! who has operated its idempotency utility can read the table: an `INPROGRESS` record taken
//! before the work starts (so that concurrent duplicates wait instead of writing twice), a
//! `COMPLETED` record holding the response, a hash of the payload (so that a key reused for a
//! different request is refused, not answered with the wrong response), and an expiry after which
//! the key may be used again.

use std::future::Future;

use crate::{StoreError, Timestamp, UserId, ValidationError};

/// A client-chosen key for one logical request, typically a UUID. 1 to 255 visible ASCII
/// characters: it travels in a header and is never shown to anyone, so nothing else is needed,
/// and the limit keeps records small.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_CHARS: usize = 255;

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        if value.is_empty() {
            return Err(ValidationError::new("Idempotency-Key", "must not be empty"));
        }
        if value.len() > Self::MAX_CHARS {
            return Err(ValidationError::new(
                "Idempotency-Key",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ValidationError::new(
                "Idempotency-Key",
                "must be visible ASCII characters only (a UUID is a good key)",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The response of a completed request, kept to be replayed verbatim to its retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedResponse {
    pub status: u16,
    /// The headers that belong to this response (e.g. `ETag`, `Location`), lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// One request's attempt to take an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyClaim {
    /// Stands for (function, caller, key), so that two users' keys never meet; opaque to the
    /// store, which uses it as the record's key.
    pub id: String,
    /// The caller, stored beside the record so that deleting the account finds and deletes its
    /// records (the id is a hash that names no one).
    pub owner: UserId,
    /// Fingerprint of what the request asks for; a retry must carry the same.
    pub payload_hash: String,
    /// The store compares expiries with this, not with its own clock, so that tests can move time.
    pub now: Timestamp,
    /// Until when the record answers retries; after it the key is free again.
    pub expires_at: Timestamp,
    /// Until when an unfinished attempt holds the key. Past it, the attempt is presumed dead (its
    /// function timed out or crashed) and a retry may take over.
    pub in_progress_until: Timestamp,
}

/// What [`IdempotencyStore::claim`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The key was free (or its record expired): this request holds it now, and must
    /// [`complete`](IdempotencyStore::complete) or [`release`](IdempotencyStore::release) it.
    Acquired,
    /// Another request with this key is still being processed.
    InProgress { payload_hash: String },
    /// A request with this key has completed within the window.
    Completed {
        payload_hash: String,
        response: RecordedResponse,
    },
}

pub trait IdempotencyStore: Send + Sync {
    /// Takes the key atomically: of any number of concurrent claims of a free key, exactly one
    /// is `Acquired`.
    fn claim(
        &self,
        claim: &IdempotencyClaim,
    ) -> impl Future<Output = Result<ClaimOutcome, StoreError>> + Send;

    /// Records the response of the request holding the key. `VersionConflict` if the record is
    /// no longer this claim's in-progress record (it expired and another request took it over).
    fn complete(
        &self,
        claim: &IdempotencyClaim,
        response: &RecordedResponse,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Frees the key after a request that failed, so that its retry runs afresh. Does nothing if
    /// the record is no longer this claim's in-progress record.
    fn release(
        &self,
        claim: &IdempotencyClaim,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_visible_ascii() {
        for good in [
            "8e03978e-40d5-43e8-bc93-6894a57f9324",
            "a",
            "retry_1:order#7",
            &"k".repeat(255),
        ] {
            assert_eq!(IdempotencyKey::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            " ",
            "a b",
            "tab\there",
            "nul\0",
            "é",
            "emoji🔑",
            &"k".repeat(256),
        ] {
            let error = IdempotencyKey::parse(bad).unwrap_err();
            assert_eq!(error.field(), "Idempotency-Key", "{bad:?}");
        }
    }
}
