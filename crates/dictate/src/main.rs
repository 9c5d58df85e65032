//! Lambda entry point of `dictate`: config and the DynamoDB, Polly and S3 clients (one SDK
//! configuration, one HTTP client) are built once, at init.

use dictate::{DICTATION_DEADLINE, Dictation};
use notes_dynamodb::{DynamoNotes, DynamoSpeechBudget, WarmUpCall};

// One invocation at a time per sandbox: a single-threaded runtime starts faster and is enough.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    // Everything the function reads from its environment, once.
    let config = dictate::Config::from_env()?;
    notes_http::init_tracing(&config.log);
    let sdk = notes_dynamodb::sdk_config(&config.aws).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    notes_dynamodb::open_connection_at_init(
        &dynamodb,
        &config.aws,
        &config.notes_table,
        WarmUpCall::GetItem,
    )
    .await;
    let service = Dictation {
        budget: DynamoSpeechBudget::new(
            dynamodb.clone(),
            config.usage_table,
            config.daily_speech_characters,
        ),
        notes: DynamoNotes::new(dynamodb, config.notes_table),
        speech: dictate::polly::PollySynthesizer::new(&sdk),
        audio: notes_s3::S3Audio::new(
            &sdk,
            config.audio_bucket,
            config.s3_force_path_style,
            notes_dynamodb::timeouts_for(
                dictate::S3_ATTEMPT_TIMEOUT,
                dictate::S3_OPERATION_TIMEOUT,
            ),
        ),
        url_ttl: config.url_ttl,
        retention: config.retention,
        engine: config.engine,
        default_voice: config.default_voice,
        deadline: DICTATION_DEADLINE,
    };
    notes_http::run(config.http, |request| dictate::handle(&service, request)).await
}
