//! The `account` function: `DELETE /account` deletes the caller's account and leaves nothing of
//! it behind: their notes (and note counter), dictated audio, idempotency records and usage rows
//! go, their board posts stay but are shown as written by "deleted user" (the author's id is
//! removed from them, so no later account, even one signed up under the same name, is ever shown
//! as their author), and last their user in the Cognito pool is deleted. 204 when all of it is
//! done.
//!
//! Order: the data first, the user last. While the user exists the caller can retry with the same
//! token, and every step only removes what is still there, so a retry after a failure or a
//! timeout (503) finishes the job, and a retry after success finds nothing and answers 204 again.
//! The other way round, a failure after the user's deletion would leave data that its owner can
//! no longer reach to delete. Whatever is written between the data's erasure and the user's
//! deletion (a create racing the deletion) is erased by the `purge` function, which the
//! `AdminDeleteUser` this function calls triggers (through CloudTrail and EventBridge).
//!
//! Its own function so that only it holds the batch deletes on the notes, usage and idempotency
//! tables, the post rewrite, `s3:DeleteObject` on the whole bucket, and `cognito-idp:AdminDeleteUser`.

use std::time::Duration;

use notes_domain::{AccountAudioRemover, AccountDataEraser, UserDirectory, UserRemoval};
use notes_http::http::{Method, StatusCode};
use notes_http::{ApiError, Body, Request, Response, caller, empty_response, required_env};

/// How long the whole deletion may take before the caller is told to call again (503 with
/// `Retry-After`): under API Gateway's 29 s integration timeout and the function's own 30 s. What
/// was deleted by then stays deleted, and the retry goes on from there.
pub const DELETION_DEADLINE: Duration = Duration::from_secs(25);
/// One attempt of an S3 listing or `DeleteObjects`, and of a Cognito call.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// All attempts of one such call.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);

/// What the function reads from its environment at init.
#[derive(Debug, Clone)]
pub struct Config {
    pub notes_table: String,
    pub posts_table: String,
    pub usage_table: String,
    pub idempotency_table: String,
    pub audio_bucket: String,
    pub user_pool_id: String,
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
            posts_table: required_env("POSTS_TABLE", "the name of the DynamoDB posts table")?,
            usage_table: required_env("USAGE_TABLE", "the name of the DynamoDB usage table")?,
            idempotency_table: required_env(
                "IDEMPOTENCY_TABLE",
                "the name of the DynamoDB idempotency table",
            )?,
            audio_bucket: required_env(
                "AUDIO_BUCKET",
                "the name of the S3 bucket that keeps dictated audio",
            )?,
            user_pool_id: required_env("USER_POOL_ID", "the id of the Cognito user pool")?,
            s3_force_path_style: notes_http::flag_env("S3_FORCE_PATH_STYLE")?,
            log: notes_http::LogConfig::from_env(),
            http: notes_http::HttpConfig::from_env()?,
            aws: notes_dynamodb::AwsConfig::from_env(&[
                "DYNAMODB",
                "S3",
                "COGNITO_IDENTITY_PROVIDER",
            ])
            .map_err(|e| {
                notes_http::ConfigError::invalid(notes_dynamodb::CONNECT_AT_INIT_VARIABLE, e)
            })?,
        })
    }
}

/// The function's dependencies, each behind its port.
#[derive(Debug)]
pub struct AccountDeletion<D, A, U> {
    pub data: D,
    pub audio: A,
    pub users: U,
    pub deadline: Duration,
}

#[tracing::instrument(name = "account", skip_all)]
pub async fn handle<D, A, U>(
    service: &AccountDeletion<D, A, U>,
    request: Request,
) -> Result<Response<Body>, ApiError>
where
    D: AccountDataEraser,
    A: AccountAudioRemover,
    U: UserDirectory,
{
    let caller = caller(&request)?;
    if request.method() != Method::DELETE {
        return Err(ApiError::MethodNotAllowed { allow: "DELETE" });
    }
    let work = async {
        let erased = service.data.erase_account_data(&caller.id).await?;
        let audio = service.audio.remove_account_audio(&caller.id).await?;
        let user = service
            .users
            .delete_user(&caller.id, &caller.username)
            .await?;
        tracing::info!(
            notes = erased.notes,
            usage_rows = erased.usage_rows,
            idempotency_records = erased.idempotency_records,
            posts_anonymized = erased.posts_anonymized,
            audio,
            user_deleted = user == UserRemoval::Deleted,
            "the account is deleted"
        );
        Ok::<_, ApiError>(())
    };
    match tokio::time::timeout(service.deadline, work).await {
        Ok(Ok(())) => Ok(empty_response(StatusCode::NO_CONTENT)),
        Ok(Err(err)) => Err(err),
        Err(_) => Err(ApiError::Unavailable(Box::new(std::io::Error::other(
            format!(
                "the account's deletion did not finish within {} s: a retry goes on with it",
                service.deadline.as_secs()
            ),
        )))),
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
            ("delete-account-no-identity.json", 401),
            ("list-notes-no-identity.json", 401),
            ("get-note.json", 405),
        ];
        for (fixture, expected) in cases {
            let service = AccountDeletion {
                data: UntouchableStore::default(),
                audio: UntouchableStore::default(),
                users: UntouchableStore::default(),
                deadline: DELETION_DEADLINE,
            };
            let response = handle(&service, fixture_request(fixture).unwrap())
                .await
                .unwrap_or_else(ApiError::into_response);
            let (status, body) = status_and_json(&response);
            assert_eq!(status, expected, "{fixture}: {body}");
            assert!(body["message"].is_string(), "{fixture}: {body}");
            let calls = service.data.calls() + service.audio.calls() + service.users.calls();
            assert_eq!(calls, 0, "{fixture} reached a dependency");
        }
    }

    #[tokio::test]
    async fn a_failing_dependency_is_a_bounded_5xx_naming_nothing_internal() {
        // UntouchableStore fails every call with StoreError::Internal.
        let service = AccountDeletion {
            data: UntouchableStore::default(),
            audio: UntouchableStore::default(),
            users: UntouchableStore::default(),
            deadline: DELETION_DEADLINE,
        };
        let response = handle(&service, fixture_request("delete-account.json").unwrap())
            .await
            .unwrap_or_else(ApiError::into_response);
        let (status, body) = status_and_json(&response);
        assert_eq!(status, 500, "{body}");
        assert_eq!(body["message"], "internal error");
        assert_eq!(
            service.users.calls(),
            0,
            "the user stays while data is left"
        );
    }
}
