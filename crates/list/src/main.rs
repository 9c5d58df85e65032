//! Lambda entry point of `list`: config and the DynamoDB client are built once, at init.

use notes_dynamodb::{DynamoNotes, WarmUpCall};

// One invocation at a time per sandbox: a single-threaded runtime starts faster and is enough.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    // Everything the function reads from its environment, once.
    let config = list::Config::from_env()?;
    notes_http::init_tracing(&config.log);
    let client = notes_dynamodb::dynamodb_client(&config.aws).await;
    notes_dynamodb::open_connection_at_init(
        &client,
        &config.aws,
        &config.notes_table,
        WarmUpCall::GetItem,
    )
    .await;
    let store = DynamoNotes::new(client, config.notes_table);
    notes_http::run(config.http, |request| list::handle(&store, request)).await
}
