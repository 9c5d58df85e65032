//! Builds the one DynamoDB client a function uses, during init, with timeouts and retries that
//! fit inside the Lambda timeout.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::BehaviorVersion;

use crate::warm_up::{CONNECT_AT_INIT_VARIABLE, InvalidConnectAtInit, parse_connect_at_init};
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

/// How a function reaches AWS, read once at init with the rest of its configuration: the
/// endpoint overrides of the services it calls (`AWS_ENDPOINT_URL_<SERVICE>`, else
/// `AWS_ENDPOINT_URL`: DynamoDB Local, moto, the local Polly) and whether to open the DynamoDB
/// connection during init (`DYNAMODB_CONNECT_AT_INIT`, see [`crate::open_connection_at_init`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsConfig {
    /// The services the function calls, as their endpoint variables spell them (`DYNAMODB`).
    services: Vec<&'static str>,
    /// Service -> its endpoint override, for the services that have one.
    endpoints: BTreeMap<&'static str, String>,
    /// Open the DynamoDB connection at init.
    pub connect_at_init: bool,
}

impl AwsConfig {
    /// For a function that calls `services` (e.g. `["DYNAMODB", "S3"]`), from the process
    /// environment.
    pub fn from_env(services: &[&'static str]) -> Result<Self, InvalidConnectAtInit> {
        Self::from_lookup(services, |name| std::env::var(name).ok())
    }

    /// [`Self::from_env`] from any lookup of variables.
    pub fn from_lookup(
        services: &[&'static str],
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, InvalidConnectAtInit> {
        let shared = get("AWS_ENDPOINT_URL").filter(|url| !url.trim().is_empty());
        let endpoints = services
            .iter()
            .filter_map(|service| {
                get(&format!("AWS_ENDPOINT_URL_{service}"))
                    .filter(|url| !url.trim().is_empty())
                    .or_else(|| shared.clone())
                    .map(|url| (*service, url))
            })
            .collect();
        Ok(Self {
            services: services.to_vec(),
            endpoints,
            connect_at_init: parse_connect_at_init(get(CONNECT_AT_INIT_VARIABLE).as_deref())?,
        })
    }

    /// Whether every service is reached over plain HTTP (every one has an `http://` override).
    fn plain_http(&self) -> bool {
        !self.services.is_empty()
            && self.services.iter().all(|service| {
                self.endpoints
                    .get(service)
                    .is_some_and(|url| url.trim().to_ascii_lowercase().starts_with("http://"))
            })
    }
}

/// The HTTP client for the AWS endpoints of `config`.
///
/// HTTPS (the real services) uses rustls on ring with the system's root certificates, loaded once
/// at init by rustls-native-certs. Without `SSL_CERT_FILE` that loader reads the CA bundle *and*
/// every file in the certificate directory (about 300 files: most of a cold start's init time, as
/// `make bench` measured it); with it, just the one file, so template.yaml sets it.
///
/// When every endpoint is a plain-HTTP override (`http://...`: DynamoDB Local, moto, the local
/// Polly), the client is plain HTTP and loads no certificates at all, as botocore and the
/// JavaScript SDK do.
fn http_client(config: &AwsConfig) -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls;
    let builder = aws_smithy_http_client::Builder::new();
    if config.plain_http() {
        builder.build_http()
    } else {
        builder
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https()
    }
}

/// Loads the SDK configuration from the Lambda environment (`AWS_REGION`, the execution role's
/// credentials, endpoint overrides such as `AWS_ENDPOINT_URL_DYNAMODB` for DynamoDB Local) with
/// one HTTP client for the endpoints of `config` and DynamoDB's timeouts and retries. A client
/// of another service with other latencies (Polly) overrides the timeouts on its own builder.
pub async fn sdk_config(config: &AwsConfig) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client(config))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(OPERATION_ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .load()
        .await
}

/// The timeouts of a client of another service (Polly, S3) built from that configuration: the
/// same connect timeout (a TCP connection in AWS takes milliseconds either way) and the service's
/// own attempt and operation bounds.
pub fn timeouts_for(attempt: Duration, operation: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(attempt)
        .operation_timeout(operation)
        .build()
}

/// The DynamoDB client of a function that talks to nothing else, built at init.
pub async fn dynamodb_client(config: &AwsConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config(config).await)
}

/// The DynamoDB client of a command-line tool (notes-migrate): [`AwsConfig`] from its
/// environment, for DynamoDB only.
pub async fn client_from_env() -> Result<aws_sdk_dynamodb::Client, InvalidConnectAtInit> {
    Ok(dynamodb_client(&AwsConfig::from_env(&["DYNAMODB"])?).await)
}
