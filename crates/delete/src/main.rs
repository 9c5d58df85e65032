//! Lambda entry point of `delete`: config and the DynamoDB and S3 clients (one SDK
//! configuration, one HTTP client) are built once, at init.

use notes_dynamodb::{DynamoNotes, WarmUpCall};
use notes_s3::S3Audio;

// One invocation at a time per sandbox: a single-threaded runtime starts faster and is enough.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    // Everything the function reads from its environment, once.
    let config = delete::Config::from_env()?;
    notes_http::init_tracing(&config.log);
    let sdk = notes_dynamodb::sdk_config(&config.aws).await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    notes_dynamodb::open_connection_at_init(
        &client,
        &config.aws,
        &config.notes_table,
        WarmUpCall::DeleteItem,
    )
    .await;
    let store = DynamoNotes::new(client, config.notes_table);
    let audio = S3Audio::new(
        &sdk,
        config.audio_bucket,
        config.s3_force_path_style,
        notes_dynamodb::timeouts_for(delete::S3_ATTEMPT_TIMEOUT, delete::S3_OPERATION_TIMEOUT),
    );
    notes_http::run(config.http, |request| {
        delete::handle(&store, &audio, request)
    })
    .await
}
