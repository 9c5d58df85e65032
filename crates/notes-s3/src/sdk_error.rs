//! Turns Polly and S3 SDK errors without an operation-specific meaning into `SpeechError`s,
//! keeping the SDK error as the source for the log (never for the response body). Shared by the
//! S3 adapter here and the dictate function's Polly adapter.

use std::error::Error as StdError;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use notes_domain::SpeechError;

/// Error codes of "slow down" and of the services' own transient faults. They reach us only after
/// the SDK's retries are exhausted, so the caller gets a 503 and may retry later.
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "SlowDown",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "ServiceFailureException",
    "InternalError",
    "RequestTimeout",
];

/// Unreachable, timing out, throttled or failing on the service side: `Unavailable`. Anything
/// else (access denied, a missing bucket, a bug) is `Internal`: a retry would not help.
/// A 5xx or 429 without a code (S3 answers HEAD requests without a body) counts as transient.
pub fn speech_error<E>(err: SdkError<E, HttpResponse>) -> SpeechError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let transient = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            status == 429
                || status >= 500
                || context
                    .err()
                    .code()
                    .is_some_and(|code| TRANSIENT_CODES.contains(&code))
        }
        _ => false,
    };
    if transient {
        SpeechError::unavailable(err)
    } else {
        SpeechError::internal(err)
    }
}
