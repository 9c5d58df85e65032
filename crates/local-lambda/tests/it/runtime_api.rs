//! The Runtime API emulator, driven by a fake function over HTTP, and its failure reports.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hyper::StatusCode;
use local_aws::DevkitError;
use local_lambda::{LambdaSandbox, Outcome};
use serde_json::json;

use crate::fake_runtime_client::FakeRuntimeClient;

/// A sandbox whose process just sleeps: the test itself plays the function over HTTP.
async fn sandbox_played_by_the_test() -> anyhow::Result<(LambdaSandbox, FakeRuntimeClient)> {
    let sandbox =
        LambdaSandbox::start_with_args(Path::new("sleep"), &["120".to_owned()], &[]).await?;
    let client = FakeRuntimeClient::new(sandbox.runtime_api_address());
    Ok((sandbox, client))
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
}

#[tokio::test]
async fn an_event_goes_out_on_next_and_the_response_comes_back() -> anyhow::Result<()> {
    let (sandbox, function) = sandbox_played_by_the_test().await?;
    assert_eq!(sandbox.init_duration(), None, "no GET /next yet");
    assert_eq!(sandbox.cold_start(), None, "no result yet");
    assert!(
        sandbox.peak_rss_kib().is_some_and(|kib| kib > 0),
        "the process's peak RSS is readable while it runs"
    );
    let payload = json!({ "httpMethod": "GET", "path": "/notes" });

    let play_function = async {
        let event = function.next().await?;
        let status = function
            .respond(
                &event.request_id,
                &json!({ "statusCode": 200, "echo": event.payload }),
            )
            .await?;
        anyhow::Ok((event, status))
    };
    let (invocation, played) = tokio::join!(sandbox.invoke(&payload), play_function);
    let (event, status) = played?;
    let invocation = invocation?;

    assert_eq!(
        invocation.outcome,
        Outcome::Response(json!({ "statusCode": 200, "echo": payload }))
    );
    assert!(
        invocation.duration < Duration::from_secs(10),
        "{invocation:?}"
    );
    assert_eq!(status, StatusCode::ACCEPTED);

    assert_eq!(event.payload, payload);
    assert_eq!(event.content_type, "application/json");
    let request_id = uuid::Uuid::parse_str(&event.request_id)?;
    assert_eq!(request_id.get_version_num(), 4, "{request_id}");
    assert_eq!(
        event.function_arn,
        "arn:aws:lambda:us-east-1:123456789012:function:sleep"
    );
    assert!(event.trace_id.starts_with("Root=1-"), "{}", event.trace_id);
    let now = now_ms();
    assert!(
        event.deadline_ms > now && event.deadline_ms <= now + 31_000,
        "deadline {} is not about 30 s after {now}",
        event.deadline_ms
    );
    assert!(sandbox.init_duration().is_some(), "GET /next was seen");
    assert!(
        sandbox.cold_start().unwrap() >= sandbox.init_duration().unwrap(),
        "a cold start ends with the first result, after init"
    );

    // A result can be posted once; a second one names an unknown request.
    let again = function.respond(&event.request_id, &json!({})).await?;
    assert_eq!(again, StatusCode::BAD_REQUEST);

    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_posted_error_becomes_an_error_outcome() -> anyhow::Result<()> {
    let (sandbox, function) = sandbox_played_by_the_test().await?;
    let play_function = async {
        let event = function.next().await?;
        function
            .fail(
                &event.request_id,
                "Handler.Failed",
                "the note store is down",
            )
            .await
    };
    let payload = json!({ "n": 1 });
    let (invocation, status) = tokio::join!(sandbox.invoke(&payload), play_function);
    assert_eq!(status?, StatusCode::ACCEPTED);
    assert_eq!(
        invocation?.outcome,
        Outcome::Error {
            error_type: "Handler.Failed".to_owned(),
            error_message: "the note store is down".to_owned(),
        }
    );
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn concurrent_invocations_are_served_one_at_a_time_in_order() -> anyhow::Result<()> {
    let (sandbox, function) = sandbox_played_by_the_test().await?;
    let play_function = async {
        let mut seen = Vec::new();
        for _ in 0..3 {
            let event = function.next().await?;
            seen.push(event.payload["n"].clone());
            let answer = json!({ "answer_to": event.payload["n"], "position": seen.len() });
            function.respond(&event.request_id, &answer).await?;
        }
        anyhow::Ok(seen)
    };
    // `join!` polls in order and `invoke` queues before its first await, so the queue order is
    // the order written here.
    let payloads = [json!({ "n": 1 }), json!({ "n": 2 }), json!({ "n": 3 })];
    let (first, second, third, seen) = tokio::join!(
        sandbox.invoke(&payloads[0]),
        sandbox.invoke(&payloads[1]),
        sandbox.invoke(&payloads[2]),
        play_function
    );
    assert_eq!(seen?, [json!(1), json!(2), json!(3)]);
    for (position, invocation) in [first?, second?, third?].into_iter().enumerate() {
        assert_eq!(
            invocation.outcome,
            Outcome::Response(json!({ "answer_to": position + 1, "position": position + 1 }))
        );
    }
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_exiting_function_fails_the_invocation_with_its_status_environment_and_output()
-> anyhow::Result<()> {
    let script = r#"
        echo "api=$AWS_LAMBDA_RUNTIME_API name=$AWS_LAMBDA_FUNCTION_NAME"
        echo "memory=$AWS_LAMBDA_FUNCTION_MEMORY_SIZE version=$AWS_LAMBDA_FUNCTION_VERSION"
        echo "format=$AWS_LAMBDA_LOG_FORMAT group=$AWS_LAMBDA_LOG_GROUP_NAME"
        echo "region=$AWS_REGION default=$AWS_DEFAULT_REGION table=$NOTES_TABLE"
        echo "configuration is broken" >&2
        exit 3
    "#;
    let env = [
        ("NOTES_TABLE".to_owned(), "notes-x".to_owned()),
        ("AWS_REGION".to_owned(), "eu-west-1".to_owned()),
    ];
    let sandbox = LambdaSandbox::start_with_args(
        Path::new("sh"),
        &["-c".to_owned(), script.to_owned()],
        &env,
    )
    .await?;
    let result = sandbox.invoke(&json!({})).await;

    let Err(DevkitError::FunctionExited {
        function,
        status,
        logs,
    }) = &result
    else {
        panic!("expected FunctionExited, got {result:?}");
    };
    assert_eq!(function, "sh");
    assert!(status.contains('3'), "{status}");
    let expected_lines = [
        format!("api={} name=sh", sandbox.runtime_api_address()),
        "memory=256 version=$LATEST".to_owned(),
        "format=JSON group=/aws/lambda/sh".to_owned(),
        "region=eu-west-1 default=us-east-1 table=notes-x".to_owned(),
        "configuration is broken".to_owned(),
    ];
    for line in &expected_lines {
        assert!(logs.contains(line.as_str()), "{line:?} not in:\n{logs}");
    }
    let message = result
        .as_ref()
        .err()
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(
        message.contains("exited") && message.contains("configuration is broken"),
        "the message alone explains the failure: {message}"
    );
    assert_eq!(&sandbox.logs(), logs, "logs() has the same output");

    // Once the process is gone, later invocations fail at once too.
    let again = tokio::time::timeout(Duration::from_secs(5), sandbox.invoke(&json!({}))).await?;
    assert!(
        matches!(again, Err(DevkitError::FunctionExited { .. })),
        "{again:?}"
    );
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_function_binary_that_exits_at_once_is_reported() -> anyhow::Result<()> {
    let sandbox = LambdaSandbox::start(Path::new("/bin/false"), &[]).await?;
    let result = sandbox.invoke(&json!({})).await;
    assert!(
        matches!(&result, Err(DevkitError::FunctionExited { function, status, .. })
            if function == "false" && status.contains('1')),
        "{result:?}"
    );
    Ok(())
}

#[tokio::test]
async fn an_init_error_fails_the_invocation_with_the_reported_error() -> anyhow::Result<()> {
    let (sandbox, function) = sandbox_played_by_the_test().await?;
    let status = function
        .fail_init("Runtime.ConfigError", "NOTES_TABLE is not set")
        .await?;
    assert_eq!(status, StatusCode::ACCEPTED);
    let result = sandbox.invoke(&json!({})).await;
    assert!(
        matches!(&result, Err(DevkitError::FunctionInitError { error_type, error_message, .. })
            if error_type == "Runtime.ConfigError" && error_message == "NOTES_TABLE is not set"),
        "{result:?}"
    );
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_function_that_never_answers_times_out() -> anyhow::Result<()> {
    let (sandbox, _function) = sandbox_played_by_the_test().await?;
    let result = sandbox
        .invoke_with_timeout(&json!({}), Duration::from_millis(300))
        .await;
    assert!(
        matches!(&result, Err(DevkitError::InvokeTimeout { waited, .. }) if *waited == Duration::from_millis(300)),
        "{result:?}"
    );
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_missing_binary_is_a_spawn_error_naming_it() -> anyhow::Result<()> {
    let binary = Path::new("/nonexistent/notes-function");
    let result = LambdaSandbox::start(binary, &[]).await;
    assert!(
        matches!(&result, Err(DevkitError::SpawnFunction { binary: reported, .. }) if reported == binary),
        "{result:?}"
    );
    Ok(())
}
