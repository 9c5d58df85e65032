//! Turns SDK errors into `StoreError`s, keeping the SDK error as the source for the log.

use std::error::Error as StdError;
use std::fmt::Debug;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use notes_domain::StoreError;

/// Error codes DynamoDB uses for "slow down" and for its own transient faults. They reach us only
/// after the SDK's retries are exhausted, so the caller gets a 503 and may retry later.
const TRANSIENT_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
];

/// Classifies an SDK error that has no operation-specific meaning.
pub(crate) fn store_error<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    let transient = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(context) => context
            .err()
            .code()
            .is_some_and(|code| TRANSIENT_CODES.contains(&code)),
        _ => false,
    };
    if transient {
        StoreError::unavailable(err)
    } else {
        StoreError::internal(err)
    }
}

/// An item in the table that does not decode into a domain value: a bug or a hand-edited item.
#[derive(Debug, thiserror::Error)]
#[error("corrupt item in table: {0}")]
pub(crate) struct CorruptItem(pub(crate) String);

pub(crate) fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::internal(CorruptItem(what.into()))
}
