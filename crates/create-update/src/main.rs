//! Lambda entry point of `createUpdate`: config and the DynamoDB client are built once, at init.

use notes_dynamodb::{DynamoIdempotency, DynamoNotes, WarmUpCall};
use notes_http::Idempotency;

// One invocation at a time per sandbox: a single-threaded runtime starts faster and is enough.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    // Everything the function reads from its environment, once.
    let config = create_update::Config::from_env()?;
    notes_http::init_tracing(&config.log);
    let client = notes_dynamodb::dynamodb_client(&config.aws).await;
    // Its role reads the idempotency table only.
    notes_dynamodb::open_connection_at_init(
        &client,
        &config.aws,
        &config.idempotency_table,
        WarmUpCall::GetItem,
    )
    .await;
    let idempotency = Idempotency::new(
        DynamoIdempotency::new(client.clone(), config.idempotency_table),
        config.idempotency_window,
    );
    let store =
        DynamoNotes::new(client, config.notes_table).with_max_notes(config.max_notes_per_user);
    notes_http::run(config.http, |request| {
        create_update::handle(&store, &idempotency, request)
    })
    .await
}
