//! Errors of the domain: invalid input, and what a storage adapter can report.

use std::error::Error as StdError;

use crate::Version;

/// A value that cannot become a domain type. The message is written for the API caller: it names
/// the field and the rule, and never echoes the rejected value (it may be a note body).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {rule}")]
pub struct ValidationError {
    field: &'static str,
    rule: String,
}

impl ValidationError {
    pub fn new(field: &'static str, rule: impl Into<String>) -> Self {
        Self {
            field,
            rule: rule.into(),
        }
    }

    /// The API field name the error is about, e.g. `Note` or `limit`.
    pub fn field(&self) -> &'static str {
        self.field
    }
}

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What a storage port can fail with. Callers branch on the variant: the meaning of `NotFound`
/// and `VersionConflict` depends on the operation, `Unavailable` is worth a retry, `Internal` is not.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The item the operation required does not exist.
    #[error("no such item")]
    NotFound,
    /// The item exists at another version than the caller expected (or does not exist when a
    /// version was expected, or exists when none should). `current` is the stored version, if any.
    #[error("version conflict (stored version: {current:?})")]
    VersionConflict { current: Option<Version> },
    /// The user already keeps `limit` items of this kind (notes or posts), the most one user may:
    /// nothing was written.
    /// `items` names them for the caller ("notes", "posts").
    #[error("the per-user limit of {limit} {items} is reached")]
    LimitReached { limit: u32, items: &'static str },
    /// The store is throttling, timing out or unreachable: a retry later may succeed.
    #[error("storage temporarily unavailable")]
    Unavailable(#[source] BoxError),
    /// Anything else: a bug, a permission problem, a corrupt item.
    #[error("storage failure")]
    Internal(#[source] BoxError),
}

impl StoreError {
    pub fn unavailable(source: impl Into<BoxError>) -> Self {
        Self::Unavailable(source.into())
    }

    pub fn internal(source: impl Into<BoxError>) -> Self {
        Self::Internal(source.into())
    }
}

/// What the speech and audio ports can fail with.
#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    /// The speech service refused this text or voice (its own validation, e.g. a voice it no
    /// longer has). The reason is written for the caller and never quotes the text.
    #[error("{0}")]
    Rejected(String),
    /// The user's characters of speech for the day are spent: `limit` a UTC day, the next day
    /// begins in `retry_after_seconds`. Nothing was synthesized.
    #[error(
        "you have used your {limit} characters of dictation for today (UTC); \
         more are available when the next UTC day begins"
    )]
    BudgetExhausted {
        limit: u32,
        retry_after_seconds: u64,
    },
    /// Throttled, timing out or unreachable: a retry later may succeed.
    #[error("speech or audio storage temporarily unavailable")]
    Unavailable(#[source] BoxError),
    /// Anything else: a bug, a permission problem, audio over the size cap.
    #[error("speech or audio storage failure")]
    Internal(#[source] BoxError),
}

impl SpeechError {
    pub fn unavailable(source: impl Into<BoxError>) -> Self {
        Self::Unavailable(source.into())
    }

    pub fn internal(source: impl Into<BoxError>) -> Self {
        Self::Internal(source.into())
    }
}
