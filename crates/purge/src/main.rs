//! Lambda entry point of `purge`: config and the DynamoDB, S3 and Cognito clients (one SDK
//! configuration, one HTTP client) are built once, at init; each event is a CloudTrail record
//! delivered by EventBridge, answered with the run's counts.

use lambda_runtime::{LambdaEvent, service_fn};
use notes_cognito::CognitoDirectory;
use notes_dynamodb::{AccountTables, DynamoAccountData};
use notes_s3::S3Audio;
use purge::{ATTEMPT_TIMEOUT, OPERATION_TIMEOUT, Purge};
use serde_json::Value;

// One invocation at a time per sandbox: a single-threaded runtime starts faster and is enough.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    // Everything the function reads from its environment, once.
    let config = purge::Config::from_env()?;
    notes_tracing::init(&config.log);
    let sdk = notes_dynamodb::sdk_config(&config.aws).await;
    let timeouts = notes_dynamodb::timeouts_for(ATTEMPT_TIMEOUT, OPERATION_TIMEOUT);
    let purge = Purge {
        data: DynamoAccountData::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            AccountTables {
                notes: config.notes_table,
                posts: config.posts_table,
                usage: config.usage_table,
                idempotency: config.idempotency_table,
            },
        ),
        audio: S3Audio::new(
            &sdk,
            config.audio_bucket,
            config.s3_force_path_style,
            timeouts.clone(),
        ),
        users: CognitoDirectory::new(&sdk, config.user_pool_id.clone(), timeouts),
        user_pool_id: config.user_pool_id,
    };
    let purge = &purge;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        purge::handle(purge, event.payload).await.map_err(|error| {
            tracing::error!(error = %notes_http::error_chain(&error), "the purge stopped");
            // Lambda records the failure (and retries the asynchronous invocation) with the
            // top-level message, which names no table, bucket or user.
            lambda_runtime::Error::from(error)
        })
    }))
    .await
}
