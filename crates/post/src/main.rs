//! Lambda entry point of `post`: config and the DynamoDB client are built once, at init.

use notes_dynamodb::{DynamoIdempotency, DynamoPosts, WarmUpCall};
use notes_http::Idempotency;

// One invocation at a time per sandbox: a single-threaded runtime starts faster and is enough.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    // Everything the function reads from its environment, once.
    let config = post::Config::from_env()?;
    notes_http::init_tracing(&config.log);
    let client = notes_dynamodb::dynamodb_client(&config.aws).await;
    notes_dynamodb::open_connection_at_init(
        &client,
        &config.aws,
        &config.posts_table,
        WarmUpCall::GetItem,
    )
    .await;
    let idempotency = Idempotency::new(
        DynamoIdempotency::new(client.clone(), config.idempotency_table),
        config.idempotency_window,
    );
    let store = DynamoPosts::new(client, config.posts_table)
        .with_max_posts(config.usage_table, config.max_posts_per_user);
    notes_http::run(config.http, |request| {
        post::handle(&store, &idempotency, request)
    })
    .await
}
