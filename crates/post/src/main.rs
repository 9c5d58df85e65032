//! Lambda entry point of `post`: config and the DynamoDB client are built once, at init.

use notes_dynamodb::DynamoPosts;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    notes_http::init_tracing();
    let config = post::Config::from_env()?;
    let store = DynamoPosts::new(notes_dynamodb::client_from_env().await, config.posts_table);
    notes_http::run(|request| post::handle(&store, request)).await
}
