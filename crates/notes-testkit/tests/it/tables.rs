//! Tables created from template.yaml in DynamoDB Local have the template's keys and indexes.

use std::path::Path;

use aws_sdk_dynamodb::types::{
    AttributeValue, BillingMode, KeyType, ProjectionType, ScalarAttributeType, TimeToLiveStatus,
};
use local_aws::tables::{missing_global_indexes, parse_table_specs};
use local_aws::{
    DevkitError, client_for_endpoint, create_table, ensure_table, load_table_specs, template_path,
};
use notes_testkit::testing::unique_table_name;
use notes_testkit::{fresh_tables, shared_dynamodb_endpoint};

/// `(attribute, key type)` pairs of a key schema, for compact assertions.
fn keys(schema: &[aws_sdk_dynamodb::types::KeySchemaElement]) -> Vec<(&str, KeyType)> {
    schema
        .iter()
        .map(|key| (key.attribute_name(), key.key_type().clone()))
        .collect()
}

#[tokio::test]
async fn fresh_tables_have_the_keys_and_local_index_of_the_template() -> anyhow::Result<()> {
    let tables = fresh_tables().await?;
    assert!(
        tables.notes_table.starts_with("notes-"),
        "{}",
        tables.notes_table
    );
    assert!(
        tables.posts_table.starts_with("posts-"),
        "{}",
        tables.posts_table
    );

    let notes = tables
        .client
        .describe_table()
        .table_name(&tables.notes_table)
        .send()
        .await?;
    let notes = notes.table().expect("DescribeTable returns the table");
    assert_eq!(
        keys(notes.key_schema()),
        [("UserId", KeyType::Hash), ("NoteId", KeyType::Range)]
    );
    assert_eq!(
        notes
            .billing_mode_summary()
            .and_then(|summary| summary.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    let local_indexes = notes.local_secondary_indexes();
    assert_eq!(local_indexes.len(), 1, "{local_indexes:?}");
    let created_at = &local_indexes[0];
    assert_eq!(created_at.index_name(), Some("CreatedAtIndex"));
    assert_eq!(
        keys(created_at.key_schema()),
        [("UserId", KeyType::Hash), ("CreatedAt", KeyType::Range)]
    );
    assert_eq!(
        created_at
            .projection()
            .and_then(|projection| projection.projection_type()),
        Some(&ProjectionType::All)
    );

    let posts = tables
        .client
        .describe_table()
        .table_name(&tables.posts_table)
        .send()
        .await?;
    let posts = posts.table().expect("DescribeTable returns the table");
    assert_eq!(
        keys(posts.key_schema()),
        [("shard", KeyType::Hash), ("id", KeyType::Range)]
    );
    // Numeric keys; the author's id (AuthorIndex, for an account's deletion) is a string.
    assert!(
        posts.attribute_definitions().iter().all(|attribute| {
            let expected = if attribute.attribute_name() == "authorId" {
                ScalarAttributeType::S
            } else {
                ScalarAttributeType::N
            };
            attribute.attribute_type() == &expected
        }),
        "{:?}",
        posts.attribute_definitions()
    );
    Ok(())
}

#[tokio::test]
async fn the_local_index_serves_a_newest_first_listing() -> anyhow::Result<()> {
    let tables = fresh_tables().await?;
    for (note, created_at) in [
        ("n1", "2024-01-01T00:00:00Z"),
        ("n2", "2024-02-01T00:00:00Z"),
    ] {
        tables
            .client
            .put_item()
            .table_name(&tables.notes_table)
            .item("UserId", AttributeValue::S("user-1".to_owned()))
            .item("NoteId", AttributeValue::S(note.to_owned()))
            .item("CreatedAt", AttributeValue::S(created_at.to_owned()))
            .send()
            .await?;
    }
    let listing = tables
        .client
        .query()
        .table_name(&tables.notes_table)
        .index_name("CreatedAtIndex")
        .key_condition_expression("UserId = :user")
        .expression_attribute_values(":user", AttributeValue::S("user-1".to_owned()))
        .scan_index_forward(false)
        .consistent_read(true)
        .send()
        .await?;
    let order: Vec<&str> = listing
        .items()
        .iter()
        .filter_map(|item| item.get("NoteId")?.as_s().ok().map(String::as_str))
        .collect();
    assert_eq!(order, ["n2", "n1"]);
    Ok(())
}

#[tokio::test]
async fn every_call_gets_its_own_tables_and_a_matching_function_env() -> anyhow::Result<()> {
    let (first, second) = tokio::try_join!(fresh_tables(), fresh_tables())?;
    assert_ne!(first.notes_table, second.notes_table);
    assert_ne!(first.posts_table, second.posts_table);
    assert_eq!(first.table("NotesTable"), Some(first.notes_table.as_str()));

    let specs = load_table_specs(&template_path())?;
    assert_eq!(
        first.tables.keys().collect::<Vec<_>>(),
        specs.keys().collect::<Vec<_>>(),
        "one table per AWS::DynamoDB::Table of the template"
    );
    let env = first.function_env();
    let value = |name: &str| {
        env.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    assert_eq!(value("NOTES_TABLE"), Some(first.notes_table.as_str()));
    assert_eq!(value("POSTS_TABLE"), Some(first.posts_table.as_str()));
    assert_eq!(
        value("AWS_ENDPOINT_URL_DYNAMODB"),
        Some(first.endpoint.as_str())
    );
    Ok(())
}

#[tokio::test]
async fn ensure_table_creates_a_missing_table_once() -> anyhow::Result<()> {
    let endpoint = tokio::task::spawn_blocking(shared_dynamodb_endpoint).await??;
    let client = client_for_endpoint(&endpoint).await;
    let specs = load_table_specs(&template_path())?;
    let spec = &specs["PostsTable"];
    let name = unique_table_name("PostsTable");

    assert!(
        ensure_table(&client, spec, &name).await?,
        "created the first time"
    );
    assert!(
        !ensure_table(&client, spec, &name).await?,
        "left alone the second time"
    );

    let again = create_table(&client, spec, &name).await;
    assert!(
        matches!(&again, Err(DevkitError::DynamoDb { operation: "CreateTable", source, .. })
            if matches!(**source, aws_sdk_dynamodb::Error::ResourceInUseException(_))),
        "creating an existing table keeps DynamoDB's reason: {again:?}"
    );
    Ok(())
}

/// A persistent local table from before the template added a global index (the posts table's
/// `AuthorIndex`) is named with the index it lacks; a table made from the template lacks none.
#[tokio::test]
async fn a_table_kept_from_before_an_index_was_added_is_named_with_it() -> anyhow::Result<()> {
    let endpoint = tokio::task::spawn_blocking(shared_dynamodb_endpoint).await??;
    let client = client_for_endpoint(&endpoint).await;
    let specs = load_table_specs(&template_path())?;
    let spec = &specs["PostsTable"];
    let mut older = spec.clone();
    older.global_secondary_indexes.clear();
    older
        .attribute_definitions
        .retain(|attribute| attribute.attribute_name != "authorId");
    let (old, new) = (
        unique_table_name("PostsTable"),
        unique_table_name("PostsTable"),
    );
    create_table(&client, &older, &old).await?;
    create_table(&client, spec, &new).await?;

    assert_eq!(
        missing_global_indexes(&client, spec, &old).await?,
        ["AuthorIndex"]
    );
    assert!(
        missing_global_indexes(&client, spec, &new)
            .await?
            .is_empty()
    );
    Ok(())
}

const TABLE_WITH_GLOBAL_INDEX_AND_TTL: &str = r#"
Resources:
  IdempotencyTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PROVISIONED
      TableName: !Sub "${AWS::StackName}-idempotency"
      AttributeDefinitions:
        - AttributeName: pk
          AttributeType: S
        - AttributeName: status
          AttributeType: S
      KeySchema:
        - AttributeName: pk
          KeyType: HASH
      GlobalSecondaryIndexes:
        - IndexName: ByStatus
          KeySchema:
            - AttributeName: status
              KeyType: HASH
          Projection:
            ProjectionType: INCLUDE
            NonKeyAttributes: [expiry]
          ProvisionedThroughput:
            ReadCapacityUnits: !Ref Capacity
            WriteCapacityUnits: 1
      TimeToLiveSpecification:
        AttributeName: expiry
        Enabled: true
"#;

#[tokio::test]
async fn global_indexes_and_time_to_live_are_created_on_demand() -> anyhow::Result<()> {
    let endpoint = tokio::task::spawn_blocking(shared_dynamodb_endpoint).await??;
    let client = client_for_endpoint(&endpoint).await;
    let specs = parse_table_specs(TABLE_WITH_GLOBAL_INDEX_AND_TTL, Path::new("inline.yaml"))?;
    let spec = &specs["IdempotencyTable"];
    let name = unique_table_name("IdempotencyTable");
    create_table(&client, spec, &name).await?;

    let described = client.describe_table().table_name(&name).send().await?;
    let table = described.table().expect("DescribeTable returns the table");
    assert_eq!(
        table
            .billing_mode_summary()
            .and_then(|summary| summary.billing_mode()),
        Some(&BillingMode::PayPerRequest),
        "on demand whatever the template says"
    );
    let global_indexes = table.global_secondary_indexes();
    assert_eq!(global_indexes.len(), 1, "{global_indexes:?}");
    let by_status = &global_indexes[0];
    assert_eq!(by_status.index_name(), Some("ByStatus"));
    let projection = by_status.projection().expect("index has a projection");
    assert_eq!(projection.projection_type(), Some(&ProjectionType::Include));
    assert_eq!(projection.non_key_attributes(), ["expiry"]);

    let ttl = client
        .describe_time_to_live()
        .table_name(&name)
        .send()
        .await?;
    let ttl = ttl
        .time_to_live_description()
        .expect("DescribeTimeToLive returns a description");
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    assert_eq!(ttl.attribute_name(), Some("expiry"));
    Ok(())
}
