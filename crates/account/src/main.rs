//! Lambda entry point of `account`: config and the DynamoDB, S3 and Cognito clients (one SDK
//! configuration, one HTTP client) are built once, at init.

use account::{ATTEMPT_TIMEOUT, AccountDeletion, DELETION_DEADLINE, OPERATION_TIMEOUT};
use notes_cognito::CognitoDirectory;
use notes_dynamodb::{AccountTables, DynamoAccountData};
use notes_s3::S3Audio;

// One invocation at a time per sandbox: a single-threaded runtime starts faster and is enough.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    // Everything the function reads from its environment, once.
    let config = account::Config::from_env()?;
    notes_http::init_tracing(&config.log);
    let sdk = notes_dynamodb::sdk_config(&config.aws).await;
    let timeouts = notes_dynamodb::timeouts_for(ATTEMPT_TIMEOUT, OPERATION_TIMEOUT);
    let service = AccountDeletion {
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
        users: CognitoDirectory::new(&sdk, config.user_pool_id, timeouts),
        deadline: DELETION_DEADLINE,
    };
    notes_http::run(config.http, |request| account::handle(&service, request)).await
}
