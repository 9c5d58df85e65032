//! Lambda entry point of `delete`: config and the DynamoDB client are built once, at init.

use notes_dynamodb::{DynamoNotes, WarmUpCall};

// One invocation at a time per sandbox: a single-threaded runtime starts faster and is enough.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    notes_http::init_tracing();
    let config = delete::Config::from_env()?;
    let client = notes_dynamodb::client_from_env().await;
    notes_dynamodb::open_connection_at_init(&client, &config.notes_table, WarmUpCall::DeleteItem)
        .await?;
    let store = DynamoNotes::new(client, config.notes_table);
    notes_http::run(|request| delete::handle(&store, request)).await
}
