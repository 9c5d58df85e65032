//! Builds the one DynamoDB client a function uses, during init, with timeouts and retries that
//! fit inside the Lambda timeout.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;

/// A TCP connection to DynamoDB is established in single-digit milliseconds; a second means the
/// endpoint is gone, and waiting longer only turns an outage into a Lambda timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// One attempt of any of our operations (single-item writes, one-page queries) takes tens of
/// milliseconds; two seconds leaves room for a slow tail without hanging on a dead connection.
pub const OPERATION_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// All attempts together, including the SDK's backoff. Kept well under the functions' 10 s
/// Lambda timeout (template.yaml), so a DynamoDB outage is answered with a 503 from our code.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(6);
/// The SDK's standard retry mode with its default of 3 attempts: throttling and transient
/// errors are retried with jittered backoff before they reach the caller as a 503.
pub const MAX_ATTEMPTS: u32 = 3;

/// Loads the SDK configuration from the Lambda environment (`AWS_REGION`, the execution role's
/// credentials, and `AWS_ENDPOINT_URL_DYNAMODB` for DynamoDB Local) and builds the client.
pub async fn client_from_env() -> aws_sdk_dynamodb::Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(OPERATION_ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&config)
}
