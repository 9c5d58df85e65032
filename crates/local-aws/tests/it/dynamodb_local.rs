//! DynamoDB Local starts, answers, and stops with its owner (killed owners: notes-dev's tests).

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use local_aws::dynamodb_local::default_jar_dir;
use local_aws::{
    DevkitError, DynamoDbLocal, DynamoDbLocalOptions, client_for_endpoint, find_jar_dir,
};
use notes_testkit::shared_dynamodb_endpoint;

fn accepts_connections(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok()
}

/// Waits up to 15 s for the port to stop accepting connections.
fn wait_until_closed(port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if !accepts_connections(port) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

struct TemporaryDirectory(PathBuf);

impl Drop for TemporaryDirectory {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_shared_instance_is_started_once_per_process() -> anyhow::Result<()> {
    let first = shared_dynamodb_endpoint()?;
    let second = shared_dynamodb_endpoint()?;
    assert_eq!(first, second);
    assert!(first.starts_with("http://"), "{first}");
    Ok(())
}

#[test]
fn the_jar_is_installed_where_find_jar_dir_looks() -> anyhow::Result<()> {
    let jar_dir = find_jar_dir()?;
    if std::env::var_os("DYNAMODB_LOCAL_DIR").is_none() {
        assert_eq!(jar_dir, default_jar_dir());
    }
    assert!(jar_dir.join("DynamoDBLocal.jar").is_file());
    Ok(())
}

#[test]
fn a_missing_jar_is_an_error_that_says_how_to_install_it() {
    let options = DynamoDbLocalOptions {
        steady_state: false,
        jar_dir: PathBuf::from("/nonexistent/dynamodb-local"),
        port: None,
        data_dir: None,
    };
    let result = DynamoDbLocal::start(&options);
    let message = result
        .as_ref()
        .err()
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(
        matches!(result, Err(DevkitError::JarNotFound { .. })),
        "{message}"
    );
    assert!(
        message.contains("/nonexistent/dynamodb-local/DynamoDBLocal.jar")
            && message.contains("make setup")
            && message.contains("DYNAMODB_LOCAL_DIR"),
        "{message}"
    );
}

#[tokio::test]
async fn a_persistent_instance_keeps_its_data_in_the_data_dir_and_stops_on_drop()
-> anyhow::Result<()> {
    let data_dir = TemporaryDirectory(
        std::env::temp_dir().join(format!("notes-devkit-it-{}", uuid::Uuid::new_v4().simple())),
    );
    let options = DynamoDbLocalOptions {
        steady_state: false,
        jar_dir: find_jar_dir()?,
        port: None,
        data_dir: Some(data_dir.0.join("created-on-demand")),
    };
    let dynamodb_local =
        tokio::task::spawn_blocking(move || DynamoDbLocal::start(&options)).await??;
    let port = dynamodb_local.port();
    assert_eq!(
        dynamodb_local.endpoint(),
        format!("http://127.0.0.1:{port}")
    );

    let client = client_for_endpoint(dynamodb_local.endpoint()).await;
    let tables = client.list_tables().send().await?;
    assert!(
        tables.table_names().is_empty(),
        "a new data dir starts empty"
    );
    let files = std::fs::read_dir(data_dir.0.join("created-on-demand"))?.count();
    assert!(
        files > 0,
        "-dbPath writes its database file into the data dir"
    );

    tokio::task::spawn_blocking(move || drop(dynamodb_local)).await?;
    assert!(wait_until_closed(port), "port {port} still open after drop");
    Ok(())
}

/// `make dev` and `make dynamodb` pass the relative `.local/dynamodb`, while java runs in a
/// private working directory: the data must land in (and come back from) the directory the
/// caller named, relative to the caller's working directory.
#[tokio::test]
async fn a_relative_data_dir_is_the_callers_and_survives_a_restart() -> anyhow::Result<()> {
    // Integration tests run in the crate's directory; this names a directory in the target dir.
    let relative = PathBuf::from(format!(
        "../../target/notes-devkit-it-relative-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let _cleanup = TemporaryDirectory(relative.clone());
    let options = DynamoDbLocalOptions {
        steady_state: false,
        jar_dir: find_jar_dir()?,
        port: None,
        data_dir: Some(relative.clone()),
    };
    for start in ["first", "second"] {
        let options = options.clone();
        let dynamodb_local =
            tokio::task::spawn_blocking(move || DynamoDbLocal::start(&options)).await??;
        let client = client_for_endpoint(dynamodb_local.endpoint()).await;
        if start == "first" {
            client
                .create_table()
                .table_name("kept")
                .attribute_definitions(
                    aws_sdk_dynamodb::types::AttributeDefinition::builder()
                        .attribute_name("id")
                        .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                        .build()?,
                )
                .key_schema(
                    aws_sdk_dynamodb::types::KeySchemaElement::builder()
                        .attribute_name("id")
                        .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                        .build()?,
                )
                .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
                .send()
                .await?;
        }
        let tables = client.list_tables().send().await?;
        assert_eq!(
            tables.table_names(),
            ["kept"],
            "{start} start: the table is in {}",
            relative.display()
        );
        tokio::task::spawn_blocking(move || drop(dynamodb_local)).await?;
    }
    assert!(
        std::fs::read_dir(&relative)?.count() > 0,
        "the database file is in the caller's relative directory"
    );
    Ok(())
}

#[tokio::test]
async fn the_benchmark_tuning_starts_and_serves() -> anyhow::Result<()> {
    // The JVM flags of `steady_state` (heap and young generation sizes must agree) are only used
    // by `make bench`; a bad combination would stop java before it listens.
    let options = DynamoDbLocalOptions {
        steady_state: true,
        ..DynamoDbLocalOptions::in_memory()?
    };
    let dynamodb_local =
        tokio::task::spawn_blocking(move || DynamoDbLocal::start(&options)).await??;
    let client = client_for_endpoint(dynamodb_local.endpoint()).await;
    assert!(client.list_tables().send().await?.table_names().is_empty());
    tokio::task::spawn_blocking(move || drop(dynamodb_local)).await?;
    Ok(())
}
