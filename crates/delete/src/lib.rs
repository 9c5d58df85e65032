//! The `delete` function: `DELETE /notes/{id}`. 204 when the caller's note was deleted, 404 when
//! the caller has no such note (never a silent success), 409 when `If-Match` names another
//! version. A deleted note's dictated audio is deleted with it. Its own function so that only it
//! holds `dynamodb:DeleteItem` and `s3:DeleteObject`.
//!
//! The note goes first, its audio after: the note is what the caller asked about, and its
//! deletion is the one conditional, authoritative step (404 and 409 leave the audio alone). If
//! the audio cannot be deleted afterwards, the answer is still 204 (the note is gone, and
//! retrying the request would only get a 404), the failure is logged as an error, and the
//! orphaned audio, unreachable through the API (dictation needs the note and its exact text),
//! expires by the bucket's lifecycle rule (`AudioRetentionDays`).

use std::time::Duration;

use notes_domain::{AudioRemover, NoteDeleter, NoteId, StoreError, UserId};
use notes_http::http::{Method, StatusCode};
use notes_http::{
    ApiError, Body, Request, Response, caller, empty_response, error_chain, flag_env,
    if_match_version, path_parameter, required_env,
};

/// How long the audio deletion may take after the note is deleted: the SDK's own DynamoDB bound
/// (6 s, notes-dynamodb) plus this stays under the function's 10 s timeout, so the caller always
/// gets the 204 from our code.
pub const AUDIO_REMOVAL_DEADLINE: Duration = Duration::from_secs(3);
/// One attempt of a listing or a `DeleteObjects` of at most 1,000 keys.
pub const S3_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);
/// All attempts of one S3 call.
pub const S3_OPERATION_TIMEOUT: Duration = Duration::from_secs(2);

/// Everything the function reads from its environment, read once, in `main`, at init.
#[derive(Debug, Clone)]
pub struct Config {
    pub notes_table: String,
    pub audio_bucket: String,
    /// Path-style S3 URLs, which a loopback endpoint such as moto needs (as in dictate).
    pub s3_force_path_style: bool,
    /// How the function logs (`AWS_LAMBDA_LOG_LEVEL`, `AWS_LAMBDA_LOG_FORMAT`, `RUST_LOG`).
    pub log: notes_http::LogConfig,
    /// The shared edge: CORS (`ALLOWED_ORIGINS`) and the required group (`REQUIRED_GROUP`).
    pub http: notes_http::HttpConfig,
    /// How its AWS clients are built: endpoint overrides, `DYNAMODB_CONNECT_AT_INIT`.
    pub aws: notes_dynamodb::AwsConfig,
}

impl Config {
    pub fn from_env() -> Result<Self, notes_http::ConfigError> {
        Ok(Self {
            notes_table: required_env("NOTES_TABLE", "the name of the DynamoDB notes table")?,
            audio_bucket: required_env(
                "AUDIO_BUCKET",
                "the name of the S3 bucket that keeps dictated audio",
            )?,
            s3_force_path_style: flag_env("S3_FORCE_PATH_STYLE")?,
            log: notes_http::LogConfig::from_env(),
            http: notes_http::HttpConfig::from_env()?,
            aws: notes_dynamodb::AwsConfig::from_env(&["DYNAMODB", "S3"]).map_err(|e| {
                notes_http::ConfigError::invalid(notes_dynamodb::CONNECT_AT_INIT_VARIABLE, e)
            })?,
        })
    }
}

#[tracing::instrument(name = "delete", skip_all)]
pub async fn handle<S: NoteDeleter, A: AudioRemover>(
    store: &S,
    audio: &A,
    request: Request,
) -> Result<Response<Body>, ApiError> {
    let user = caller(&request)?.id;
    if request.method() != Method::DELETE {
        return Err(ApiError::MethodNotAllowed { allow: "DELETE" });
    }
    let id = path_parameter(&request, "id")
        .ok_or_else(|| ApiError::BadRequest("the note id is missing from the path".into()))?;
    let id = NoteId::parse(id)?;
    let expected = if_match_version(&request)?;
    match store.delete_note(&user, &id, expected).await {
        Ok(()) => {
            remove_audio(audio, &user, &id).await;
            Ok(empty_response(StatusCode::NO_CONTENT))
        }
        Err(StoreError::NotFound) => Err(ApiError::NotFound(format!(
            "you have no note with NoteId {id}"
        ))),
        Err(StoreError::VersionConflict { current }) => Err(ApiError::Conflict(format!(
            "note {id} is at version {}, not the one in If-Match: nothing was deleted",
            current.map_or_else(|| "unknown".to_owned(), |v| v.to_string())
        ))),
        Err(err) => Err(err.into()),
    }
}

/// Deletes the deleted note's audio within [`AUDIO_REMOVAL_DEADLINE`]; a failure is logged (it
/// leaves objects to the lifecycle rule), never turned into an error for a caller whose note is
/// already gone.
async fn remove_audio<A: AudioRemover>(audio: &A, user: &UserId, id: &NoteId) {
    match tokio::time::timeout(AUDIO_REMOVAL_DEADLINE, audio.remove_note_audio(user, id)).await {
        Ok(Ok(removed)) => tracing::info!(removed, "deleted the note's audio"),
        Ok(Err(err)) => tracing::error!(
            error = %error_chain(&err),
            "the note is deleted but its audio is not: it expires by the bucket's lifecycle rule"
        ),
        Err(_) => tracing::error!(
            deadline_ms = AUDIO_REMOVAL_DEADLINE.as_millis(),
            "the note is deleted but its audio deletion timed out: what is left expires by the \
             bucket's lifecycle rule"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notes_domain::testing::UntouchableStore;
    use notes_http::fixtures::{fixture_request, status_and_json};

    #[tokio::test]
    async fn rejected_fixtures_touch_nothing() {
        let cases = [
            ("delete-note-bad-id.json", 400),
            ("list-notes-no-identity.json", 401),
            ("get-note.json", 405),
        ];
        for (fixture, expected) in cases {
            let store = UntouchableStore::default();
            let response = handle(&store, &store, fixture_request(fixture).unwrap())
                .await
                .unwrap_or_else(ApiError::into_response);
            let (status, body) = status_and_json(&response);
            assert_eq!(status, expected, "{fixture}: {body}");
            assert!(body["message"].is_string(), "{fixture}: {body}");
            assert_eq!(store.calls(), 0, "{fixture} reached the store");
        }
    }
}
