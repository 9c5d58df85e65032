//! The `purge` function: when a user is deleted from the pool other than through `DELETE
//! /account` (an administrator's `AdminDeleteUser`, or the user's own `DeleteUser`), it erases
//! what that user left, exactly as `DELETE /account` does: notes, audio, idempotency records,
//! usage rows; posts handed to "deleted user".
//!
//! Invoked by an EventBridge rule on CloudTrail's record of the call ("AWS API Call via
//! CloudTrail"). That record does not say whose data to erase: Cognito marks `Username` as
//! sensitive, so CloudTrail writes `"username": "HIDDEN_DUE_TO_SECURITY_REASONS"`, and the deleted
//! user's `sub` is not in it; once deleted, the username can no longer be resolved to a `sub`
//! either. So the event only says *when* to look, and the purge reconciles: it lists every user id
//! that still owns data in the tables, asks the pool for each (`ListUsers` with the filter
//! `sub = "<id>"`), and erases the data of the ids the pool no longer has. Cognito never gives a
//! `sub` to a second user, so an id absent from the pool is gone for good.
//!
//! Safety: the data of a `sub` that still exists in the pool is never touched, whatever the event
//! says (a new sign-up may already have taken the deleted user's name: a different `sub`, which
//! the pool still has). Ids that are not shaped like a Cognito `sub` (a UUID) are left alone too:
//! notes still keyed by a username from before the move to `sub` are `notes-migrate`'s to handle.
//! Any failure to ask the pool stops the run before anything of that id is erased.
//!
//! Each run looks at all the data, so a run that fails (Lambda retries an asynchronous invocation
//! twice) or an event that never arrives is made good by the next deletion's run; and what a
//! `DELETE /account` racing a write left behind is erased here too.

use std::collections::BTreeSet;

use notes_domain::{
    AccountAudioRemover, AccountDataEraser, ErasedData, SpeechError, StoreError, UserDirectory,
    UserId,
};
use notes_http::required_env;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One attempt of an S3 or Cognito call, and all attempts of one.
pub const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
pub const OPERATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The operations whose record starts a purge.
pub const DELETE_OPERATIONS: &[&str] = &["AdminDeleteUser", "DeleteUser"];
/// CloudTrail's `eventSource` for user pools.
pub const COGNITO_EVENT_SOURCE: &str = "cognito-idp.amazonaws.com";

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

/// The function's dependencies, each behind its port, and the pool it answers for.
#[derive(Debug)]
pub struct Purge<D, A, U> {
    pub data: D,
    pub audio: A,
    pub users: U,
    pub user_pool_id: String,
}

/// The part of CloudTrail's record (the EventBridge event's `detail`) that the purge reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CloudTrailRecord {
    event_source: String,
    event_name: String,
    /// Present when the call failed: nothing was deleted.
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    request_parameters: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct EventBridgeEvent {
    detail: CloudTrailRecord,
}

/// What one invocation did: the function's answer (counts only, no ids).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PurgeReport {
    /// Why the event started no purge, if it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
    /// User ids that own data and were looked up in the pool.
    pub owners_checked: usize,
    /// Of those, the ones gone from the pool, whose data was erased.
    pub accounts_purged: usize,
    /// Ids not shaped like a Cognito `sub`, left alone.
    pub owners_skipped: usize,
    pub notes: usize,
    pub usage_rows: usize,
    pub idempotency_records: usize,
    pub posts_anonymized: usize,
    pub audio_objects: usize,
}

impl PurgeReport {
    fn ignored(reason: impl Into<String>) -> Self {
        Self {
            ignored: Some(reason.into()),
            ..Self::default()
        }
    }

    fn add(&mut self, erased: ErasedData, audio: usize) {
        self.accounts_purged += 1;
        self.notes += erased.notes;
        self.usage_rows += erased.usage_rows;
        self.idempotency_records += erased.idempotency_records;
        self.posts_anonymized += erased.posts_anonymized;
        self.audio_objects += audio;
    }
}

/// A run that stopped: the invocation fails, so Lambda retries it.
#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    #[error("the tables or the user pool failed")]
    Store(#[from] StoreError),
    #[error("the audio bucket failed")]
    Audio(#[from] SpeechError),
}

/// Whether the event is the record of a user's deletion from this pool; why not, if not.
fn is_deletion(event: &Value, user_pool_id: &str) -> Result<(), String> {
    let event: EventBridgeEvent = serde_json::from_value(event.clone())
        .map_err(|error| format!("not a CloudTrail record of an API call: {error}"))?;
    let record = event.detail;
    if record.event_source != COGNITO_EVENT_SOURCE {
        return Err(format!("a call to {}, not to Cognito", record.event_source));
    }
    if !DELETE_OPERATIONS.contains(&record.event_name.as_str()) {
        return Err(format!("{}, not a user's deletion", record.event_name));
    }
    if let Some(code) = record.error_code {
        return Err(format!(
            "a {} that failed ({code}): nothing was deleted",
            record.event_name
        ));
    }
    // DeleteUser names no pool (the access token does); AdminDeleteUser names it.
    let pool = record
        .request_parameters
        .as_ref()
        .and_then(|parameters| parameters.get("userPoolId"))
        .and_then(Value::as_str);
    match pool {
        Some(pool) if pool != user_pool_id => Err("a deletion in another user pool".to_owned()),
        _ => Ok(()),
    }
}

/// A Cognito `sub`: a UUID in its 8-4-4-4-12 hexadecimal form.
pub fn looks_like_sub(user: &UserId) -> bool {
    let groups: Vec<&str> = user.as_str().split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[tracing::instrument(name = "purge", skip_all)]
pub async fn handle<D, A, U>(
    purge: &Purge<D, A, U>,
    event: Value,
) -> Result<PurgeReport, PurgeError>
where
    D: AccountDataEraser,
    A: AccountAudioRemover,
    U: UserDirectory,
{
    if let Err(reason) = is_deletion(&event, &purge.user_pool_id) {
        tracing::warn!(reason = %reason, "the event starts no purge");
        return Ok(PurgeReport::ignored(reason));
    }
    let owners: BTreeSet<UserId> = purge.data.data_owners().await?;
    let mut report = PurgeReport::default();
    for owner in owners {
        if !looks_like_sub(&owner) {
            report.owners_skipped += 1;
            continue;
        }
        report.owners_checked += 1;
        if purge.users.user_exists(&owner).await? {
            continue;
        }
        let erased = purge.data.erase_account_data(&owner).await?;
        let audio = purge.audio.remove_account_audio(&owner).await?;
        report.add(erased, audio);
    }
    tracing::info!(
        owners_checked = report.owners_checked,
        accounts_purged = report.accounts_purged,
        owners_skipped = report.owners_skipped,
        notes = report.notes,
        usage_rows = report.usage_rows,
        idempotency_records = report.idempotency_records,
        posts_anonymized = report.posts_anonymized,
        audio_objects = report.audio_objects,
        "purged the data of users gone from the pool"
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use notes_domain::testing::UntouchableStore;
    use serde_json::json;

    fn record(name: &str, extra: Value) -> Value {
        let mut detail = json!({
            "eventSource": COGNITO_EVENT_SOURCE,
            "eventName": name,
            "requestParameters": {"userPoolId": "us-east-1_Pool", "username": "HIDDEN_DUE_TO_SECURITY_REASONS"},
        });
        if let (Some(detail), Some(extra)) = (detail.as_object_mut(), extra.as_object()) {
            detail.extend(extra.clone());
        }
        json!({"detail-type": "AWS API Call via CloudTrail", "source": "aws.cognito-idp", "detail": detail})
    }

    #[tokio::test]
    async fn events_that_are_no_deletion_from_this_pool_touch_nothing() {
        let cases = [
            (json!({"hello": "world"}), "not a CloudTrail record"),
            (json!("a string"), "not a CloudTrail record"),
            (
                record("AdminCreateUser", json!({})),
                "not a user's deletion",
            ),
            (
                record(
                    "AdminDeleteUser",
                    json!({"eventSource": "s3.amazonaws.com"}),
                ),
                "not to Cognito",
            ),
            (
                record(
                    "AdminDeleteUser",
                    json!({"errorCode": "UserNotFoundException"}),
                ),
                "failed",
            ),
            (
                record(
                    "AdminDeleteUser",
                    json!({"requestParameters": {"userPoolId": "us-east-1_Other"}}),
                ),
                "another user pool",
            ),
        ];
        for (event, why) in cases {
            let purge = Purge {
                data: UntouchableStore::default(),
                audio: UntouchableStore::default(),
                users: UntouchableStore::default(),
                user_pool_id: "us-east-1_Pool".into(),
            };
            let report = handle(&purge, event.clone()).await.unwrap();
            let reason = report.ignored.unwrap_or_default();
            assert!(reason.contains(why), "{event}: {reason}");
            let calls = purge.data.calls() + purge.audio.calls() + purge.users.calls();
            assert_eq!(calls, 0, "{event} reached a store");
        }
    }

    #[test]
    fn only_uuid_shaped_ids_are_taken_for_subs() {
        let cases = [
            ("0f8d4c1e-4b6a-4f7e-9d1c-2a3b4c5d6e7f", true),
            ("0F8D4C1E-4B6A-4F7E-9D1C-2A3B4C5D6E7F", true),
            ("alice", false),
            ("0f8d4c1e-4b6a-4f7e-9d1c-2a3b4c5d6e7", false),
            ("0f8d4c1e-4b6a-4f7e-9d1c-2a3b4c5d6e7g", false),
            ("0f8d4c1e4b6a-4f7e-9d1c-2a3b-4c5d6e7f", false),
        ];
        for (id, expected) in cases {
            assert_eq!(
                looks_like_sub(&UserId::parse(id).unwrap()),
                expected,
                "{id}"
            );
        }
    }
}
