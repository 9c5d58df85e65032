//! Helpers for integration tests: one DynamoDB Local per test process, fresh tables per test.
//!
//! Starting the JVM takes seconds, creating a table milliseconds, so tests share the server and
//! isolate themselves with uniquely named tables instead.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use aws_sdk_dynamodb::Client;

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
