//! Test data for the benchmark: notes for the list runs, boards of 10 to 10,000 posts for the
//! cost-growth runs, written in batches straight into DynamoDB Local.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, PutRequest,
    ScalarAttributeType, WriteRequest,
};
use notes_devkit::testing::TestTables;

type Item = HashMap<String, AttributeValue>;

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Writes `items` 25 at a time (BatchWriteItem's limit), a few batches at once, retrying what
/// DynamoDB hands back unprocessed.
async fn batch_write(client: &Client, table: &str, items: Vec<Item>) -> Result<(), String> {
    let batches: Vec<Vec<Item>> = items.chunks(25).map(<[Item]>::to_vec).collect();
    for group in batches.chunks(8) {
        let mut tasks = Vec::new();
        for batch in group {
            let client = client.clone();
            let table = table.to_owned();
            let mut requests: Vec<WriteRequest> = batch
                .iter()
                .map(|item| {
                    PutRequest::builder()
                        .set_item(Some(item.clone()))
                        .build()
                        .map(|put| WriteRequest::builder().put_request(put).build())
                        .map_err(|e| e.to_string())
                })
                .collect::<Result<_, _>>()?;
            tasks.push(tokio::spawn(async move {
                for _ in 0..10 {
                    if requests.is_empty() {
                        return Ok(());
                    }
                    let output = client
                        .batch_write_item()
                        .request_items(&table, requests)
                        .send()
                        .await
                        .map_err(|e| format!("seeding {table}: {e}"))?;
                    requests = output
                        .unprocessed_items
                        .and_then(|mut unprocessed| unprocessed.remove(&table))
                        .unwrap_or_default();
                }
                Err(format!("seeding {table}: items stayed unprocessed"))
            }));
        }
        for task in tasks {
            task.await.map_err(|e| e.to_string())??;
        }
    }
    Ok(())
}

/// `count` notes of `user` in our layout (as createUpdate writes them).
pub(crate) async fn our_notes(tables: &TestTables, user: &str, count: u64) -> Result<(), String> {
    let items = (1..=count)
        .map(|i| {
            let at = format!("2026-11-01T00:00:{:02}.000Z", i % 60);
            Item::from([
                ("UserId".into(), s(user)),
                ("NoteId".into(), s(format!("seed-{i}"))),
                ("Note".into(), s(format!("Seeded note number {i}"))),
                ("CreatedAt".into(), s(at.clone())),
                ("UpdatedAt".into(), s(at)),
                ("Version".into(), n(1)),
            ])
        })
        .collect();
    batch_write(&tables.client, &tables.notes_table, items).await
}

/// `count` notes of `user` as the lab's createUpdate writes them.
pub(crate) async fn baseline_notes(
    tables: &TestTables,
    user: &str,
    count: u64,
) -> Result<(), String> {
    let items = (1..=count)
        .map(|i| {
            Item::from([
                ("UserId".into(), s(user)),
                ("NoteId".into(), s(format!("seed-{i}"))),
                ("Note".into(), s(format!("Seeded note number {i}"))),
            ])
        })
        .collect();
    batch_write(&tables.client, &tables.notes_table, items).await
}

/// Posts 1..=count in our layout (shards of 1,000) and the id counter at `count`.
pub(crate) async fn our_posts(tables: &TestTables, count: u64) -> Result<(), String> {
    let mut items: Vec<Item> = (1..=count)
        .map(|id| {
            Item::from([
                ("shard".into(), n(id / 1_000)),
                ("id".into(), n(id)),
                ("title".into(), s(format!("Seeded post {id}"))),
                (
                    "contents".into(),
                    s(format!("The contents of post number {id}.")),
                ),
                ("author".into(), s("seed")),
                ("createdAt".into(), s("2026-11-01T00:00:00.000Z")),
            ])
        })
        .collect();
    items.push(Item::from([
        ("shard".into(), n(0)),
        ("id".into(), n(0)),
        ("lastId".into(), n(count)),
    ]));
    batch_write(&tables.client, &tables.posts_table, items).await
}

/// The tutorial's posts table: partition key `id` (N), nothing else. Not in template.yaml, since
/// it is never deployed.
pub(crate) async fn baseline_posts_table(client: &Client) -> Result<String, String> {
    let name = format!("baseline-posts-{}", uuid_suffix());
    client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::N)
                .build()
                .map_err(|e| e.to_string())?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .map_err(|e| e.to_string())?,
        )
        .send()
        .await
        .map_err(|e| format!("creating {name}: {e}"))?;
    Ok(name)
}

fn uuid_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{}-{nanos}", std::process::id())
}

/// Posts 1..=count as the tutorial's function writes them.
pub(crate) async fn baseline_posts(client: &Client, table: &str, count: u64) -> Result<(), String> {
    let items = (1..=count)
        .map(|id| {
            Item::from([
                ("id".into(), n(id)),
                ("title".into(), s(format!("Seeded post {id}"))),
                (
                    "contents".into(),
                    s(format!("The contents of post number {id}.")),
                ),
                ("author".into(), s("seed")),
            ])
        })
        .collect();
    batch_write(client, table, items).await
}

/// Items in a table (see [`notes_devkit::count_items`]).
pub(crate) async fn count_items(client: &Client, table: &str) -> Result<u64, String> {
    notes_devkit::count_items(client, table)
        .await
        .map_err(|e| e.to_string())
}

/// Runs the kinds of requests the functions make (Query, PutItem, UpdateItem, GetItem, Scan, and
/// the refused GetItem of the connection warm-up) `rounds` times, so that DynamoDB Local's JVM has compiled its hot paths before anything is
/// measured.
pub(crate) async fn warm_up(tables: &TestTables, rounds: usize) -> Result<(), String> {
    let scratch = &tables.notes_table;
    for round in 0..rounds {
        let id = format!("warm-up-{}", round % 50);
        tables
            .client
            .put_item()
            .table_name(scratch)
            .set_item(Some(Item::from([
                ("UserId".into(), s("warm-up")),
                ("NoteId".into(), s(id.clone())),
                ("Note".into(), s("warming up")),
            ])))
            .send()
            .await
            .map_err(|e| format!("warm-up: {e}"))?;
        tables
            .client
            .update_item()
            .table_name(scratch)
            .key("UserId", s("warm-up"))
            .key("NoteId", s(id.clone()))
            .update_expression("ADD #v :one")
            .expression_attribute_names("#v", "Version")
            .expression_attribute_values(":one", n(1))
            .send()
            .await
            .map_err(|e| format!("warm-up: {e}"))?;
        tables
            .client
            .query()
            .table_name(scratch)
            .key_condition_expression("UserId = :u")
            .expression_attribute_values(":u", s("warm-up"))
            .limit(26)
            .send()
            .await
            .map_err(|e| format!("warm-up: {e}"))?;
        tables
            .client
            .get_item()
            .table_name(scratch)
            .key("UserId", s("warm-up"))
            .key("NoteId", s(id))
            .send()
            .await
            .map_err(|e| format!("warm-up: {e}"))?;
        if round % 10 == 0 {
            count_items(&tables.client, &tables.posts_table).await?;
            // What our functions send to open their connection at init when asked to
            // (notes_dynamodb::open_connection_at_init): a key that matches no key schema,
            // refused with a ValidationException. Refused quickly by DynamoDB; by DynamoDB
            // Local only once its JVM has compiled that path too.
            let refused = tables
                .client
                .get_item()
                .table_name(scratch)
                .key("connection-warm-up", s("-"))
                .send()
                .await;
            if refused.is_ok() {
                return Err("warm-up: a key outside the schema was accepted".into());
            }
        }
    }
    Ok(())
}
