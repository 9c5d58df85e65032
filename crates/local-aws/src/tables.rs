//! DynamoDB tables as defined in `template.yaml`, created for real in DynamoDB Local.
//!
//! The SAM template is the single source of truth for the schema: tests and the dev server read
//! the `AWS::DynamoDB::Table` resources from it instead of repeating key and index definitions
//! in Rust, so a schema change in the template cannot drift from what the tests exercise.
//!
//! Only the properties that shape the data are read (attributes, keys, indexes, TTL). Everything
//! else (billing, encryption, point-in-time recovery, intrinsic functions such as `!Ref` or
//! `!Sub` anywhere else in the template) is ignored, and tables are always created on demand.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement,
    LocalSecondaryIndex, Projection, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};
use serde::Deserialize;
use serde_yaml_ng::Value;

use crate::error::DevkitError;
use crate::workspace_root;

/// The CloudFormation resource type this module reads.
pub const TABLE_RESOURCE_TYPE: &str = "AWS::DynamoDB::Table";

/// Region used for DynamoDB Local clients. DynamoDB Local runs with `-sharedDb`, so the value
/// does not matter as long as it is a valid region.
pub const LOCAL_REGION: &str = "us-east-1";

/// Dummy credentials for DynamoDB Local. Since version 1.23 it rejects access key ids that are
/// not purely alphanumeric ("The Access Key ID or security token is invalid"), so no dashes.
pub const LOCAL_ACCESS_KEY_ID: &str = "notesdevkit";
/// See [`LOCAL_ACCESS_KEY_ID`].
pub const LOCAL_SECRET_ACCESS_KEY: &str = "notesdevkit";

/// How long [`create_table`] waits for a table to become ACTIVE. DynamoDB Local is instant; the
/// margin is for a real endpoint.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(60);

/// `<workspace>/template.yaml`.
pub fn template_path() -> PathBuf {
    workspace_root().join("template.yaml")
}

/// One `AWS::DynamoDB::Table` of the template: the properties that shape the data.
///
/// Deserialized straight from the resource's `Properties`; field names follow CloudFormation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableSpec {
    /// The resource's logical id in the template (for example `NotesTable`).
    #[serde(skip)]
    pub logical_id: String,
    pub attribute_definitions: Vec<AttributeSpec>,
    pub key_schema: Vec<KeySpec>,
    #[serde(default)]
    pub local_secondary_indexes: Vec<IndexSpec>,
    #[serde(default)]
    pub global_secondary_indexes: Vec<IndexSpec>,
    #[serde(default, rename = "TimeToLiveSpecification")]
    pub time_to_live: Option<TimeToLiveSpec>,
}

/// `AttributeDefinitions` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeSpec {
    #[serde(deserialize_with = "literal_string")]
    pub attribute_name: String,
    pub attribute_type: AttributeType,
}

/// DynamoDB scalar types allowed in keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum AttributeType {
    /// String.
    S,
    /// Number.
    N,
    /// Binary.
    B,
}

/// `KeySchema` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeySpec {
    #[serde(deserialize_with = "literal_string")]
    pub attribute_name: String,
    pub key_type: KeyType,
}

/// Partition (`HASH`) or sort (`RANGE`) key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KeyType {
    Hash,
    Range,
}

/// A local or global secondary index.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IndexSpec {
    #[serde(deserialize_with = "literal_string")]
    pub index_name: String,
    pub key_schema: Vec<KeySpec>,
    pub projection: ProjectionSpec,
}

/// Which attributes an index copies.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProjectionSpec {
    /// CloudFormation defaults to `KEYS_ONLY` when omitted.
    #[serde(default)]
    pub projection_type: ProjectionKind,
    /// Only meaningful with [`ProjectionKind::Include`].
    #[serde(default, deserialize_with = "literal_strings")]
    pub non_key_attributes: Vec<String>,
}

/// `ProjectionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProjectionKind {
    All,
    #[default]
    KeysOnly,
    Include,
}

/// `TimeToLiveSpecification`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TimeToLiveSpec {
    #[serde(deserialize_with = "literal_string")]
    pub attribute_name: String,
    #[serde(deserialize_with = "bool_or_string")]
    pub enabled: bool,
}

// serde_yaml_ng drops the tag when a tagged scalar is deserialized into a `String` or `bool`
// (`AttributeName: !Ref KeyName` would silently become "KeyName"), so every scalar we read goes
// through `Value` first and a tag is an error. Enums already reject tags (the tag is taken as a
// variant name).

fn intrinsic_not_supported<E: serde::de::Error>(tag: &serde_yaml_ng::value::Tag) -> E {
    E::custom(format!(
        "found the CloudFormation intrinsic function {tag}; only literal values are supported here"
    ))
}

fn scalar_to_string<E: serde::de::Error>(value: Value) -> Result<String, E> {
    match value {
        Value::String(text) => Ok(text),
        // CloudFormation turns YAML numbers and booleans into strings where it expects one.
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        Value::Tagged(tagged) => Err(intrinsic_not_supported(&tagged.tag)),
        other => Err(E::custom(format!("expected a string, found {other:?}"))),
    }
}

fn literal_string<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    scalar_to_string(Value::deserialize(deserializer)?)
}

fn literal_strings<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Sequence(items) => items.into_iter().map(scalar_to_string).collect(),
        Value::Tagged(tagged) => Err(intrinsic_not_supported(&tagged.tag)),
        other => Err(serde::de::Error::custom(format!(
            "expected a list of strings, found {other:?}"
        ))),
    }
}

/// CloudFormation accepts both `true` and `"true"` for booleans.
fn bool_or_string<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Bool(flag) => Ok(flag),
        Value::String(text) if text.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(text) if text.eq_ignore_ascii_case("false") => Ok(false),
        Value::Tagged(tagged) => Err(intrinsic_not_supported(&tagged.tag)),
        other => Err(serde::de::Error::custom(format!(
            "expected true or false, found {other:?}"
        ))),
    }
}

impl TableSpec {
    /// The environment variable through which functions receive this table's name; see
    /// [`env_var_for_table`].
    pub fn env_var(&self) -> String {
        env_var_for_table(&self.logical_id)
    }

    /// The TTL attribute, if the template enables TTL on this table.
    pub fn enabled_time_to_live_attribute(&self) -> Option<&str> {
        self.time_to_live
            .as_ref()
            .filter(|ttl| ttl.enabled)
            .map(|ttl| ttl.attribute_name.as_str())
    }
}

/// The environment variable naming a table, derived from its logical id by the convention the
/// template follows (`NotesTable` -> `NOTES_TABLE`, `IdempotencyTable` -> `IDEMPOTENCY_TABLE`,
/// `APIKeysTable` -> `API_KEYS_TABLE`).
///
/// A convention rather than a lookup in the template's `Environment` sections, because a table
/// may be used by only some functions or by none yet; a unit test checks that the template's
/// `Globals` follow it.
pub fn env_var_for_table(logical_id: &str) -> String {
    let chars: Vec<char> = logical_id.chars().collect();
    let mut name = String::with_capacity(logical_id.len() + 4);
    let mut previous: Option<char> = None;
    for (position, &current) in chars.iter().enumerate() {
        let next = chars.get(position + 1).copied();
        if let Some(previous) = previous {
            let starts_word = current.is_uppercase()
                && (previous.is_lowercase()
                    || previous.is_ascii_digit()
                    || (previous.is_uppercase() && next.is_some_and(char::is_lowercase)));
            if starts_word {
                name.push('_');
            }
        }
        if current.is_alphanumeric() {
            name.extend(current.to_uppercase());
        } else {
            name.push('_');
        }
        previous = Some(current);
    }
    name
}

/// Reads every `AWS::DynamoDB::Table` resource of a SAM/CloudFormation template, keyed by
/// logical id.
///
/// The template is first read as a generic YAML value so that CloudFormation tags (`!Ref`,
/// `!Sub`, `!GetAtt`…) anywhere in it parse as tagged values; only the table properties are
/// then deserialized into [`TableSpec`], ignoring properties we do not need.
pub fn load_table_specs(template: &Path) -> Result<BTreeMap<String, TableSpec>, DevkitError> {
    let text = std::fs::read_to_string(template).map_err(|source| DevkitError::ReadTemplate {
        path: template.to_path_buf(),
        source,
    })?;
    parse_table_specs(&text, template)
}

/// [`load_table_specs`] on template text; `path` is only used in error messages.
pub fn parse_table_specs(
    text: &str,
    path: &Path,
) -> Result<BTreeMap<String, TableSpec>, DevkitError> {
    let document: Value =
        serde_yaml_ng::from_str(text).map_err(|source| DevkitError::ParseTemplate {
            path: path.to_path_buf(),
            source,
        })?;
    let Some(resources) = document.get("Resources").and_then(Value::as_mapping) else {
        return Ok(BTreeMap::new());
    };
    let mut specs = BTreeMap::new();
    for (logical_id, resource) in resources {
        let Some(logical_id) = logical_id.as_str() else {
            continue;
        };
        if resource.get("Type").and_then(Value::as_str) != Some(TABLE_RESOURCE_TYPE) {
            continue;
        }
        let properties = resource.get("Properties").cloned().unwrap_or(Value::Null);
        let mut spec: TableSpec = serde_yaml_ng::from_value(properties).map_err(|source| {
            DevkitError::InvalidTableDefinition {
                path: path.to_path_buf(),
                logical_id: logical_id.to_owned(),
                source,
            }
        })?;
        spec.logical_id = logical_id.to_owned();
        specs.insert(logical_id.to_owned(), spec);
    }
    Ok(specs)
}

/// An SDK client for DynamoDB Local at `endpoint`.
///
/// Built from an explicit configuration, without reading the environment or `~/.aws`: a
/// developer's real profile must never be used (or needed) to talk to DynamoDB Local.
/// Async for symmetry with `aws_config` loaders, so callers need not change if that ever
/// becomes necessary.
pub async fn client_for_endpoint(endpoint: &str) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(LOCAL_REGION))
        .credentials_provider(Credentials::new(
            LOCAL_ACCESS_KEY_ID,
            LOCAL_SECRET_ACCESS_KEY,
            None,
            None,
            "notes-devkit-static",
        ))
        .endpoint_url(endpoint)
        // DynamoDB Local speaks plain HTTP on loopback: no TLS stack needed.
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    Client::from_conf(config)
}

/// The number of items in `table`, by a paginated `Scan` with `Select: COUNT`: for tests and
/// benchmarks that must prove what a whole table holds (their tables are small).
pub async fn count_items(client: &Client, table: &str) -> Result<u64, DevkitError> {
    let mut count = 0_u64;
    let mut start = None;
    loop {
        let output = client
            .scan()
            .table_name(table)
            .select(aws_sdk_dynamodb::types::Select::Count)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|error| dynamodb_error("Scan", table, error))?;
        count += u64::try_from(output.count).unwrap_or_default();
        match output.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => return Ok(count),
        }
    }
}

/// A DynamoDB SDK error as a [`DevkitError`] naming the operation and the table (the test kit
/// reads tables too).
pub fn dynamodb_error<E>(operation: &'static str, table: &str, error: SdkError<E>) -> DevkitError
where
    aws_sdk_dynamodb::Error: From<SdkError<E>>,
{
    DevkitError::DynamoDb {
        operation,
        table: table.to_owned(),
        source: Box::new(aws_sdk_dynamodb::Error::from(error)),
    }
}

fn build_error(
    operation: &'static str,
    table: &str,
) -> impl FnOnce(aws_sdk_dynamodb::error::BuildError) -> DevkitError {
    move |source| DevkitError::BuildRequest {
        operation,
        table: table.to_owned(),
        source,
    }
}

fn key_schema(specs: &[KeySpec], table: &str) -> Result<Vec<KeySchemaElement>, DevkitError> {
    specs
        .iter()
        .map(|key| {
            KeySchemaElement::builder()
                .attribute_name(&key.attribute_name)
                .key_type(match key.key_type {
                    KeyType::Hash => aws_sdk_dynamodb::types::KeyType::Hash,
                    KeyType::Range => aws_sdk_dynamodb::types::KeyType::Range,
                })
                .build()
                .map_err(build_error("CreateTable", table))
        })
        .collect()
}

fn projection(spec: &ProjectionSpec) -> Projection {
    let kind = match spec.projection_type {
        ProjectionKind::All => aws_sdk_dynamodb::types::ProjectionType::All,
        ProjectionKind::KeysOnly => aws_sdk_dynamodb::types::ProjectionType::KeysOnly,
        ProjectionKind::Include => aws_sdk_dynamodb::types::ProjectionType::Include,
    };
    let non_key_attributes =
        (!spec.non_key_attributes.is_empty()).then(|| spec.non_key_attributes.clone());
    Projection::builder()
        .projection_type(kind)
        .set_non_key_attributes(non_key_attributes)
        .build()
}

/// Creates `table_name` with the keys and indexes of `spec`, waits until it (and its global
/// indexes) are ACTIVE, then enables TTL if the spec enables it.
///
/// Always on demand (`PAY_PER_REQUEST`) whatever the template says: capacity settings mean
/// nothing to DynamoDB Local, and on-demand needs no throughput numbers per index.
pub async fn create_table(
    client: &Client,
    spec: &TableSpec,
    table_name: &str,
) -> Result<(), DevkitError> {
    let attribute_definitions = spec
        .attribute_definitions
        .iter()
        .map(|attribute| {
            AttributeDefinition::builder()
                .attribute_name(&attribute.attribute_name)
                .attribute_type(match attribute.attribute_type {
                    AttributeType::S => ScalarAttributeType::S,
                    AttributeType::N => ScalarAttributeType::N,
                    AttributeType::B => ScalarAttributeType::B,
                })
                .build()
                .map_err(build_error("CreateTable", table_name))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let local_indexes = spec
        .local_secondary_indexes
        .iter()
        .map(|index| {
            LocalSecondaryIndex::builder()
                .index_name(&index.index_name)
                .set_key_schema(Some(key_schema(&index.key_schema, table_name)?))
                .projection(projection(&index.projection))
                .build()
                .map_err(build_error("CreateTable", table_name))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let global_indexes = spec
        .global_secondary_indexes
        .iter()
        .map(|index| {
            GlobalSecondaryIndex::builder()
                .index_name(&index.index_name)
                .set_key_schema(Some(key_schema(&index.key_schema, table_name)?))
                .projection(projection(&index.projection))
                .build()
                .map_err(build_error("CreateTable", table_name))
        })
        .collect::<Result<Vec<_>, _>>()?;

    client
        .create_table()
        .table_name(table_name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(attribute_definitions))
        .set_key_schema(Some(key_schema(&spec.key_schema, table_name)?))
        .set_local_secondary_indexes((!local_indexes.is_empty()).then_some(local_indexes))
        .set_global_secondary_indexes((!global_indexes.is_empty()).then_some(global_indexes))
        .send()
        .await
        .map_err(|error| dynamodb_error("CreateTable", table_name, error))?;

    wait_until_active(client, table_name).await?;
    apply_time_to_live(client, spec, table_name).await
}

async fn apply_time_to_live(
    client: &Client,
    spec: &TableSpec,
    table_name: &str,
) -> Result<(), DevkitError> {
    let Some(attribute) = spec.enabled_time_to_live_attribute() else {
        return Ok(());
    };
    let specification = TimeToLiveSpecification::builder()
        .attribute_name(attribute)
        .enabled(true)
        .build()
        .map_err(build_error("UpdateTimeToLive", table_name))?;
    client
        .update_time_to_live()
        .table_name(table_name)
        .time_to_live_specification(specification)
        .send()
        .await
        .map_err(|error| dynamodb_error("UpdateTimeToLive", table_name, error))?;
    Ok(())
}

/// Polls DescribeTable until the table and all its global indexes are ACTIVE.
async fn wait_until_active(client: &Client, table_name: &str) -> Result<(), DevkitError> {
    let started = Instant::now();
    loop {
        let description = client
            .describe_table()
            .table_name(table_name)
            .send()
            .await
            .map_err(|error| dynamodb_error("DescribeTable", table_name, error))?;
        let active = description.table().is_some_and(|table| {
            table.table_status() == Some(&TableStatus::Active)
                && table
                    .global_secondary_indexes()
                    .iter()
                    .all(|index| index.index_status() == Some(&IndexStatus::Active))
        });
        if active {
            return Ok(());
        }
        if started.elapsed() >= ACTIVE_TIMEOUT {
            return Err(DevkitError::TableNotActive {
                table: table_name.to_owned(),
                waited: ACTIVE_TIMEOUT,
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The global secondary indexes of `spec` that the existing table `table_name` lacks: a table
/// kept from before the template added them. DynamoDB Local cannot add an index to a table that
/// holds items (its queries then fail), so the dev kit can only say so.
pub async fn missing_global_indexes(
    client: &Client,
    spec: &TableSpec,
    table_name: &str,
) -> Result<Vec<String>, DevkitError> {
    let described = client
        .describe_table()
        .table_name(table_name)
        .send()
        .await
        .map_err(|error| dynamodb_error("DescribeTable", table_name, error))?;
    let present: Vec<&str> = described
        .table()
        .map(|table| table.global_secondary_indexes())
        .unwrap_or_default()
        .iter()
        .filter_map(|index| index.index_name())
        .collect();
    Ok(spec
        .global_secondary_indexes
        .iter()
        .filter(|index| !present.contains(&index.index_name.as_str()))
        .map(|index| index.index_name.clone())
        .collect())
}

/// Creates the table unless one named `table_name` already exists; returns whether it created
/// it. For repeated local runs against a persistent DynamoDB Local: an existing table is left
/// exactly as it is (its schema is not compared with the spec; see [`missing_global_indexes`]).
pub async fn ensure_table(
    client: &Client,
    spec: &TableSpec,
    table_name: &str,
) -> Result<bool, DevkitError> {
    match client.describe_table().table_name(table_name).send().await {
        Ok(_) => return Ok(false),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|error| error.is_resource_not_found_exception()) => {}
        Err(error) => return Err(dynamodb_error("DescribeTable", table_name, error)),
    }
    match create_table(client, spec, table_name).await {
        Ok(()) => Ok(true),
        // Someone else (another dev-server process) created it between our two calls.
        Err(DevkitError::DynamoDb { source, .. })
            if matches!(*source, aws_sdk_dynamodb::Error::ResourceInUseException(_)) =>
        {
            Ok(false)
        }
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn real_template_specs() -> BTreeMap<String, TableSpec> {
        let path = template_path();
        let specs = load_table_specs(&path);
        assert!(specs.is_ok(), "cannot load {}: {specs:?}", path.display());
        specs.unwrap_or_default()
    }

    fn key(name: &str, key_type: KeyType) -> KeySpec {
        KeySpec {
            attribute_name: name.to_owned(),
            key_type,
        }
    }

    #[test]
    fn the_real_template_defines_the_notes_table_with_its_local_index() {
        let specs = real_template_specs();
        let notes = specs.get("NotesTable");
        assert!(notes.is_some(), "NotesTable missing: {:?}", specs.keys());
        let Some(notes) = notes else { return };
        assert_eq!(notes.logical_id, "NotesTable");
        assert_eq!(
            notes.key_schema,
            vec![key("UserId", KeyType::Hash), key("NoteId", KeyType::Range)]
        );
        let attribute_names: Vec<&str> = notes
            .attribute_definitions
            .iter()
            .map(|attribute| attribute.attribute_name.as_str())
            .collect();
        assert_eq!(attribute_names, ["UserId", "NoteId", "CreatedAt"]);
        assert!(
            notes
                .attribute_definitions
                .iter()
                .all(|attribute| attribute.attribute_type == AttributeType::S),
            "all notes keys are strings"
        );
        assert_eq!(
            notes.local_secondary_indexes,
            vec![IndexSpec {
                index_name: "CreatedAtIndex".to_owned(),
                key_schema: vec![
                    key("UserId", KeyType::Hash),
                    key("CreatedAt", KeyType::Range)
                ],
                projection: ProjectionSpec {
                    projection_type: ProjectionKind::All,
                    non_key_attributes: vec![],
                },
            }]
        );
        assert!(notes.global_secondary_indexes.is_empty());
        assert_eq!(notes.time_to_live, None);
    }

    #[test]
    fn the_real_template_defines_the_posts_table_with_numeric_keys() {
        let specs = real_template_specs();
        let posts = specs.get("PostsTable");
        assert!(posts.is_some(), "PostsTable missing: {:?}", specs.keys());
        let Some(posts) = posts else { return };
        assert_eq!(
            posts.key_schema,
            vec![key("shard", KeyType::Hash), key("id", KeyType::Range)]
        );
        assert!(
            posts.attribute_definitions.iter().all(|attribute| {
                attribute.attribute_type
                    == if attribute.attribute_name == "authorId" {
                        AttributeType::S
                    } else {
                        AttributeType::N
                    }
            }),
            "shard and id are numbers, the author's sub a string"
        );
        assert!(posts.local_secondary_indexes.is_empty());
        // An account's deletion finds its posts by author (a sparse, keys-only index).
        let indexes: Vec<&str> = posts
            .global_secondary_indexes
            .iter()
            .map(|index| index.index_name.as_str())
            .collect();
        assert_eq!(indexes, ["AuthorIndex"]);
    }

    #[test]
    fn only_table_resources_are_read_from_the_real_template() {
        let specs = real_template_specs();
        assert!(
            !specs.contains_key("NotesApi") && !specs.contains_key("ListFunction"),
            "{:?}",
            specs.keys()
        );
    }

    /// The template passes table names to functions as `NAME: !Ref Table`;
    /// [`env_var_for_table`] must produce the same names, or `function_env` would set variables
    /// the functions never read.
    #[test]
    fn the_real_template_passes_tables_under_the_env_var_convention() {
        let text = std::fs::read_to_string(template_path()).unwrap_or_default();
        let document: Value = serde_yaml_ng::from_str(&text).unwrap_or(Value::Null);
        let specs = real_template_specs();
        let resources = document.get("Resources").and_then(Value::as_mapping);
        let mut checked = Vec::new();
        for resource in resources.into_iter().flat_map(|r| r.values()) {
            let variables = resource
                .get("Properties")
                .and_then(|properties| properties.get("Environment"))
                .and_then(|environment| environment.get("Variables"))
                .and_then(Value::as_mapping);
            for (name, value) in variables.into_iter().flatten() {
                let Value::Tagged(tagged) = value else {
                    continue;
                };
                let target = tagged.value.as_str().unwrap_or_default();
                if tagged.tag == "Ref" && specs.contains_key(target) {
                    assert_eq!(
                        Some(env_var_for_table(target).as_str()),
                        name.as_str(),
                        "a function gets table {target} under another name than the convention"
                    );
                    checked.push(target.to_owned());
                }
            }
        }
        for table in ["NotesTable", "PostsTable"] {
            assert!(
                checked.iter().any(|t| t == table),
                "no function is given {table}"
            );
        }
    }

    const TAGGED_TEMPLATE: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  IdempotencyTable:
    Type: AWS::DynamoDB::Table
    Condition: IsProd
    Properties:
      TableName: !Sub "${AWS::StackName}-idempotency"
      BillingMode: !If [IsProd, PROVISIONED, PAY_PER_REQUEST]
      Tags:
        - Key: owner
          Value: !Ref Owner
      AttributeDefinitions:
        - AttributeName: pk
          AttributeType: S
        - AttributeName: gsi1pk
          AttributeType: N
        - AttributeName: data
          AttributeType: B
      KeySchema:
        - AttributeName: pk
          KeyType: HASH
      GlobalSecondaryIndexes:
        - IndexName: ByGsi1
          KeySchema:
            - AttributeName: gsi1pk
              KeyType: HASH
          Projection:
            ProjectionType: INCLUDE
            NonKeyAttributes: [status, expiry]
          ProvisionedThroughput:
            ReadCapacityUnits: !Ref Capacity
            WriteCapacityUnits: 1
        - IndexName: KeysOnly
          KeySchema:
            - AttributeName: gsi1pk
              KeyType: HASH
          Projection: {}
      TimeToLiveSpecification:
        AttributeName: expiry
        Enabled: "true"
  SomeFunction:
    Type: AWS::Serverless::Function
    Properties:
      Role: !GetAtt Role.Arn
Outputs:
  Name:
    Value: !Ref IdempotencyTable
"#;

    #[test]
    fn tags_elsewhere_do_not_break_parsing_and_every_table_property_is_read() {
        let specs = parse_table_specs(TAGGED_TEMPLATE, Path::new("inline.yaml"));
        assert!(specs.is_ok(), "{specs:?}");
        let specs = specs.unwrap_or_default();
        assert_eq!(specs.keys().collect::<Vec<_>>(), ["IdempotencyTable"]);
        let Some(table) = specs.get("IdempotencyTable") else {
            return;
        };
        assert_eq!(table.key_schema, vec![key("pk", KeyType::Hash)]);
        assert_eq!(
            table
                .attribute_definitions
                .iter()
                .map(|attribute| attribute.attribute_type)
                .collect::<Vec<_>>(),
            [AttributeType::S, AttributeType::N, AttributeType::B]
        );
        assert_eq!(table.global_secondary_indexes.len(), 2);
        let projections: Vec<&ProjectionSpec> = table
            .global_secondary_indexes
            .iter()
            .map(|index| &index.projection)
            .collect();
        assert_eq!(
            projections,
            [
                &ProjectionSpec {
                    projection_type: ProjectionKind::Include,
                    non_key_attributes: vec!["status".to_owned(), "expiry".to_owned()],
                },
                &ProjectionSpec {
                    projection_type: ProjectionKind::KeysOnly,
                    non_key_attributes: vec![],
                },
            ],
            "INCLUDE keeps its attributes; an empty projection means KEYS_ONLY"
        );
        assert_eq!(table.enabled_time_to_live_attribute(), Some("expiry"));
        assert_eq!(table.env_var(), "IDEMPOTENCY_TABLE");
    }

    /// A template whose single table has `replacement` substituted for `{}`.
    fn one_table_template(line: &str, replacement: &str) -> String {
        let template = r#"
Resources:
  BadTable:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions:
        - AttributeName: pk
          AttributeType: S
      KeySchema:
        - AttributeName: pk
          KeyType: HASH
      GlobalSecondaryIndexes:
        - IndexName: ByPk
          KeySchema:
            - AttributeName: pk
              KeyType: HASH
          Projection:
            ProjectionType: INCLUDE
            NonKeyAttributes: [a, b]
      TimeToLiveSpecification:
        AttributeName: expiry
        Enabled: true
"#;
        template.replacen(line, replacement, 1)
    }

    #[test]
    fn the_one_table_template_itself_is_valid() {
        let result = parse_table_specs(&one_table_template("", ""), Path::new("t.yaml"));
        assert!(result.is_ok(), "{result:?}");
    }

    #[test]
    fn intrinsic_functions_in_properties_we_read_are_errors_naming_the_table() {
        // Silently reading `!Ref KeyName` as "KeyName" would create a wrong schema.
        let cases = [
            (
                "AttributeName: pk\n          AttributeType",
                "AttributeName: !Ref KeyName\n          AttributeType",
            ),
            ("AttributeType: S", "AttributeType: !Ref KeyType"),
            (
                "KeyType: HASH\n      Global",
                "KeyType: !Ref KeyType\n      Global",
            ),
            ("IndexName: ByPk", "IndexName: !Sub \"${Stage}-by-pk\""),
            ("ProjectionType: INCLUDE", "ProjectionType: !Ref Projection"),
            (
                "NonKeyAttributes: [a, b]",
                "NonKeyAttributes: [a, !Ref Other]",
            ),
            (
                "NonKeyAttributes: [a, b]",
                "NonKeyAttributes: !Split [',', 'a,b']",
            ),
            ("AttributeName: expiry", "AttributeName: !Ref TtlAttribute"),
            ("Enabled: true", "Enabled: !If [IsProd, true, false]"),
        ];
        for (line, replacement) in cases {
            let template = one_table_template(line, replacement);
            assert!(
                template.contains(replacement),
                "case not applied: {replacement}"
            );
            let result = parse_table_specs(&template, Path::new("bad.yaml"));
            assert!(
                matches!(&result, Err(DevkitError::InvalidTableDefinition { logical_id, .. }) if logical_id == "BadTable"),
                "{replacement}: {result:?}"
            );
        }
    }

    #[test]
    fn invalid_yaml_and_missing_files_are_errors_naming_the_path() {
        let result = parse_table_specs("Resources: [unclosed", Path::new("broken.yaml"));
        assert!(
            matches!(&result, Err(DevkitError::ParseTemplate { path, .. }) if path == Path::new("broken.yaml")),
            "{result:?}"
        );
        let missing = Path::new("/nonexistent/template.yaml");
        let result = load_table_specs(missing);
        assert!(
            matches!(&result, Err(DevkitError::ReadTemplate { path, .. }) if path == missing),
            "{result:?}"
        );
    }

    #[test]
    fn ttl_flags_accept_booleans_and_strings() {
        let cases = [
            ("true", Some(true)),
            ("false", Some(false)),
            ("\"True\"", Some(true)),
            ("\"false\"", Some(false)),
            ("\"maybe\"", None),
        ];
        for (enabled, expected) in cases {
            let yaml = format!("AttributeName: ttl\nEnabled: {enabled}\n");
            let parsed: Result<TimeToLiveSpec, _> = serde_yaml_ng::from_str(&yaml);
            assert_eq!(
                parsed.ok().map(|ttl| ttl.enabled),
                expected,
                "Enabled: {enabled}"
            );
        }
    }

    #[test]
    fn env_var_names_follow_the_template_convention() {
        let cases = [
            ("NotesTable", "NOTES_TABLE"),
            ("PostsTable", "POSTS_TABLE"),
            ("IdempotencyTable", "IDEMPOTENCY_TABLE"),
            ("APIKeysTable", "API_KEYS_TABLE"),
            ("Notes2Table", "NOTES2_TABLE"),
            ("Table", "TABLE"),
        ];
        for (logical_id, expected) in cases {
            assert_eq!(env_var_for_table(logical_id), expected, "{logical_id}");
        }
    }
}
