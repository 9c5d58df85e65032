//! Helpers for integration tests: one DynamoDB Local per test process, fresh tables per test,
//! an audio bucket in moto's S3, and the one way tests invoke a function binary ([`call`],
//! [`respond`]).
//!
//! Starting the JVM takes seconds, creating a table milliseconds, so tests share the server and
//! isolate themselves with uniquely named tables instead.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use aws_sdk_dynamodb::Client;
use notes_http::fixtures::ProxyResponse;
use serde_json::Value;

use crate::cognito_local::CognitoLocal;
use crate::runtime_api::{LambdaSandbox, Outcome};
use crate::s3_local;

use crate::dynamodb_local::{DynamoDbLocal, DynamoDbLocalOptions};
use crate::error::DevkitError;
use crate::tables::{
    LOCAL_ACCESS_KEY_ID, LOCAL_REGION, LOCAL_SECRET_ACCESS_KEY, TableSpec, client_for_endpoint,
    create_table, env_var_for_table, load_table_specs, template_path,
};

/// Set by the test script to an endpoint it started once for the whole run, so that each test
/// binary does not start its own JVM.
pub const TEST_ENDPOINT_ENV: &str = "NOTES_TEST_DYNAMODB_ENDPOINT";

/// Logical ids of the two tables every function test needs.
pub const NOTES_TABLE_ID: &str = "NotesTable";
pub const POSTS_TABLE_ID: &str = "PostsTable";

/// The process-wide DynamoDB Local. Never dropped: its supervisor stops java when this process
/// exits (see [`crate::dynamodb_local`]). A failure is kept too, so that every test reports it
/// at once instead of each retrying for a minute.
static SHARED_DYNAMODB_LOCAL: OnceLock<Result<DynamoDbLocal, Arc<DevkitError>>> = OnceLock::new();

/// Endpoint of a DynamoDB Local for this test process: `$NOTES_TEST_DYNAMODB_ENDPOINT` if set
/// (the test script starts one for the whole run), else one in-memory [`DynamoDbLocal`] started
/// on first use and kept for the life of the process.
///
/// Blocks while java starts (a few seconds, the first time only); from async code prefer
/// [`fresh_tables`], which does this on the blocking pool.
pub fn shared_dynamodb_endpoint() -> Result<String, DevkitError> {
    if let Some(endpoint) = std::env::var(TEST_ENDPOINT_ENV)
        .ok()
        .filter(|endpoint| !endpoint.trim().is_empty())
    {
        return Ok(endpoint.trim().to_owned());
    }
    let shared = SHARED_DYNAMODB_LOCAL.get_or_init(|| {
        let options = DynamoDbLocalOptions::in_memory().map_err(Arc::new)?;
        DynamoDbLocal::start(&options).map_err(Arc::new)
    });
    match shared {
        Ok(dynamodb_local) => Ok(dynamodb_local.endpoint().to_owned()),
        Err(error) => Err(DevkitError::SharedDynamoDbLocal(Arc::clone(error))),
    }
}

/// A set of freshly created, uniquely named tables: one per table of the template.
#[derive(Debug, Clone)]
pub struct TestTables {
    /// The DynamoDB Local endpoint the tables live in.
    pub endpoint: String,
    /// Name of the table created from `NotesTable`.
    pub notes_table: String,
    /// Name of the table created from `PostsTable`.
    pub posts_table: String,
    /// A client for [`Self::endpoint`].
    pub client: Client,
    /// Every created table: logical id -> table name (includes the two above).
    pub tables: BTreeMap<String, String>,
}

impl TestTables {
    /// The name of the table created from the template resource `logical_id`.
    pub fn table(&self, logical_id: &str) -> Option<&str> {
        self.tables.get(logical_id).map(String::as_str)
    }

    /// Environment for a function process: one variable per table (`NOTES_TABLE`,
    /// `POSTS_TABLE`, and [`env_var_for_table`] of any other table), the DynamoDB endpoint,
    /// region and dummy credentials.
    ///
    /// The credentials are explicit so that the SDK's default chain stops at the environment
    /// and never looks for a profile or the instance metadata service (which would stall a
    /// test for seconds on a machine that has none).
    pub fn function_env(&self) -> Vec<(String, String)> {
        let mut environment: Vec<(String, String)> = self
            .tables
            .iter()
            .map(|(logical_id, name)| (env_var_for_table(logical_id), name.clone()))
            .collect();
        environment.extend(
            [
                ("AWS_ENDPOINT_URL_DYNAMODB", self.endpoint.as_str()),
                ("AWS_REGION", LOCAL_REGION),
                ("AWS_DEFAULT_REGION", LOCAL_REGION),
                ("AWS_ACCESS_KEY_ID", LOCAL_ACCESS_KEY_ID),
                ("AWS_SECRET_ACCESS_KEY", LOCAL_SECRET_ACCESS_KEY),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ]
            .map(|(name, value)| (name.to_owned(), value.to_owned())),
        );
        environment
    }
}

/// Creates a fresh, uniquely named table for every `AWS::DynamoDB::Table` of `template.yaml`
/// in the shared DynamoDB Local (see [`shared_dynamodb_endpoint`]), so every test is isolated.
pub async fn fresh_tables() -> Result<TestTables, DevkitError> {
    let endpoint = tokio::task::spawn_blocking(shared_dynamodb_endpoint)
        .await
        .map_err(DevkitError::BackgroundTask)??;
    fresh_tables_at(&endpoint, &template_path()).await
}

/// [`fresh_tables`] against any endpoint and template. The template must define `NotesTable`
/// and `PostsTable`.
pub async fn fresh_tables_at(endpoint: &str, template: &Path) -> Result<TestTables, DevkitError> {
    let specs = load_table_specs(template)?;
    let require = |logical_id: &str| {
        if specs.contains_key(logical_id) {
            Ok(())
        } else {
            Err(DevkitError::TableNotInTemplate {
                logical_id: logical_id.to_owned(),
                path: template.to_path_buf(),
                known: specs.keys().cloned().collect(),
            })
        }
    };
    require(NOTES_TABLE_ID)?;
    require(POSTS_TABLE_ID)?;

    let client = client_for_endpoint(endpoint).await;
    let tables = create_fresh_tables(&client, specs.values()).await?;
    let name_of = |logical_id: &str| tables.get(logical_id).cloned().unwrap_or_default();
    Ok(TestTables {
        endpoint: endpoint.to_owned(),
        notes_table: name_of(NOTES_TABLE_ID),
        posts_table: name_of(POSTS_TABLE_ID),
        client,
        tables,
    })
}

/// Creates one uniquely named table per spec; returns logical id -> table name.
pub async fn create_fresh_tables(
    client: &Client,
    specs: impl IntoIterator<Item = &TableSpec>,
) -> Result<BTreeMap<String, String>, DevkitError> {
    let mut tables = BTreeMap::new();
    for spec in specs {
        let name = unique_table_name(&spec.logical_id);
        create_table(client, spec, &name).await?;
        tables.insert(spec.logical_id.clone(), name);
    }
    Ok(tables)
}

/// `NotesTable` -> `notes-<uuid>`: readable in DynamoDB Local listings, unique per test.
pub fn unique_table_name(logical_id: &str) -> String {
    let env_var = env_var_for_table(logical_id).to_lowercase();
    let stem = env_var
        .strip_suffix("_table")
        .filter(|stem| !stem.is_empty())
        .unwrap_or(&env_var)
        .replace('_', "-");
    format!("{stem}-{}", uuid::Uuid::new_v4().simple())
}

/// What a function binary posted for one event: its API Gateway proxy response, or why there is
/// none (an invocation error, which API Gateway turns into a bare 502, or no answer at all).
pub async fn respond(function: &LambdaSandbox, event: &Value) -> Result<ProxyResponse, String> {
    match function.invoke(event).await {
        Ok(invocation) => match invocation.outcome {
            Outcome::Response(value) => ProxyResponse::parse(&value),
            Outcome::Error {
                error_type,
                error_message,
            } => Err(format!(
                "invocation error (a bare 502 behind API Gateway): {error_type}: {error_message}"
            )),
        },
        Err(error) => Err(format!("no answer from the function: {error}")),
    }
}

/// [`respond`] for a test that expects a proxy response: anything else fails the test, with the
/// function's logs.
#[allow(
    clippy::panic,
    reason = "a test helper: the panic is the failing test's report"
)]
pub async fn call(function: &LambdaSandbox, event: &Value) -> ProxyResponse {
    match respond(function, event).await {
        Ok(response) => response,
        Err(error) => panic!("{}: {error}\n{}", function.function_name(), function.logs()),
    }
}

/// An HTTP answer as a test reads it: status, headers (names lower-case) and the body as JSON
/// (`Null` when empty, a JSON string when it is not JSON).
#[derive(Debug, Clone)]
pub struct HttpReply {
    pub status: u16,
    pub headers: std::collections::HashMap<String, String>,
    pub body: Value,
}

impl HttpReply {
    /// A response header by its lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// One HTTP request to a local server (the local API, the web server) with a real client, off
/// the async runtime: any method (API Gateway's own answers to odd ones are under test), any
/// header, a body of bytes (so that invalid UTF-8 can be sent). `Err` only when no HTTP answer
/// came back; every status is an answer.
pub async fn http_request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Result<HttpReply, String> {
    let (method, url) = (method.to_owned(), url.to_owned());
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .allow_non_standard_methods(true)
            .build()
            .new_agent();
        let mut request = ureq::http::Request::builder()
            .method(method.as_str())
            .uri(&url);
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        let sent = match body {
            Some(body) => request.body(body).map(|r| agent.run(r)),
            None => request.body(()).map(|r| agent.run(r)),
        };
        let mut response = sent
            .map_err(|e| format!("the client refused the request: {e}"))?
            .map_err(|e| format!("no HTTP response: {e}"))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok(HttpReply {
            status,
            headers,
            body,
        })
    })
    .await
    .map_err(|e| format!("the HTTP client's thread failed: {e}"))?
}

/// moto's S3 on loopback with an audio bucket: what the functions that store or remove audio
/// (dictate, delete) need in a test. moto also serves Cognito; keep this alive as long as the
/// functions that use it.
pub struct TestAudio {
    moto: CognitoLocal,
    bucket: String,
}

impl std::fmt::Debug for TestAudio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestAudio")
            .field("endpoint", &self.endpoint())
            .field("bucket", &self.bucket)
            .finish()
    }
}

impl TestAudio {
    /// Starts a moto of its own and creates `bucket` in it.
    pub async fn start(bucket: &str) -> Result<Self, DevkitError> {
        let moto = tokio::task::spawn_blocking(|| CognitoLocal::start(None))
            .await
            .map_err(DevkitError::BackgroundTask)?
            .map_err(|e| DevkitError::Moto(Box::new(e)))?;
        let audio = Self {
            moto,
            bucket: bucket.to_owned(),
        };
        audio.add_bucket(bucket).await?;
        Ok(audio)
    }

    /// Creates one more bucket in the same S3 (idempotent).
    pub async fn add_bucket(&self, bucket: &str) -> Result<(), DevkitError> {
        let (endpoint, bucket) = (self.endpoint().to_owned(), bucket.to_owned());
        tokio::task::spawn_blocking(move || s3_local::ensure_bucket(&endpoint, &bucket))
            .await
            .map_err(DevkitError::BackgroundTask)?
    }

    /// The S3 (and Cognito) endpoint.
    pub fn endpoint(&self) -> &str {
        self.moto.endpoint()
    }

    /// The bucket made by [`Self::start`].
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The moto server itself (its Cognito side, for tests that also need a pool).
    pub fn moto(&self) -> &CognitoLocal {
        &self.moto
    }

    /// What a function needs to use this S3 with `bucket` (see [`s3_local::audio_env`]).
    pub fn env_for(&self, bucket: &str) -> Vec<(String, String)> {
        s3_local::audio_env(self.endpoint(), bucket)
    }

    /// `env` extended with what a function needs to use this S3 and [`Self::bucket`].
    pub fn with_env(&self, mut env: Vec<(String, String)>) -> Vec<(String, String)> {
        env.extend(self.env_for(&self.bucket));
        env
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_table_names_are_readable_valid_and_distinct() {
        let cases = [
            ("NotesTable", "notes-"),
            ("PostsTable", "posts-"),
            ("IdempotencyTable", "idempotency-"),
            ("APIKeysTable", "api-keys-"),
            ("Table", "table-"),
        ];
        for (logical_id, prefix) in cases {
            let name = unique_table_name(logical_id);
            assert!(name.starts_with(prefix), "{logical_id} -> {name}");
            assert!(
                (3..=255).contains(&name.len())
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)),
                "{name} is not a valid DynamoDB table name"
            );
        }
        assert_ne!(
            unique_table_name("NotesTable"),
            unique_table_name("NotesTable")
        );
    }

    #[tokio::test]
    async fn function_env_names_every_table_and_the_local_endpoint() {
        let client = client_for_endpoint("http://127.0.0.1:9").await;
        let tables = TestTables {
            endpoint: "http://127.0.0.1:9".to_owned(),
            notes_table: "notes-1".to_owned(),
            posts_table: "posts-1".to_owned(),
            client,
            tables: BTreeMap::from([
                ("NotesTable".to_owned(), "notes-1".to_owned()),
                ("PostsTable".to_owned(), "posts-1".to_owned()),
                ("IdempotencyTable".to_owned(), "idempotency-1".to_owned()),
            ]),
        };
        let environment: BTreeMap<String, String> = tables.function_env().into_iter().collect();
        let expected = [
            ("NOTES_TABLE", "notes-1"),
            ("POSTS_TABLE", "posts-1"),
            ("IDEMPOTENCY_TABLE", "idempotency-1"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9"),
            ("AWS_REGION", "us-east-1"),
        ];
        for (name, value) in expected {
            assert_eq!(
                environment.get(name).map(String::as_str),
                Some(value),
                "{name}"
            );
        }
        assert!(environment.contains_key("AWS_ACCESS_KEY_ID"));
        assert!(environment.contains_key("AWS_SECRET_ACCESS_KEY"));
        assert_eq!(tables.table("IdempotencyTable"), Some("idempotency-1"));
        assert_eq!(tables.table("Missing"), None);
    }
}
