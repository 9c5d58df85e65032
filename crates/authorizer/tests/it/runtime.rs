//! The built `authorizer` binary invoked through the Lambda Runtime API with the fixtures in
//! `events/` (valid tokens are minted here, since they expire).

use std::path::Path;

use local_lambda::runtime_api::{LambdaSandbox, Outcome};
use notes_testkit::issuer::{TokenSpec, authorizer_env, user_sub};
use serde_json::Value;

use crate::Pool;

fn fixture(name: &str) -> Value {
    let path = local_aws::workspace_root().join("events").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn with_token(token: &str) -> Value {
    let mut event = fixture("authorizer.json");
    event["authorizationToken"] = format!("Bearer {token}").into();
    event
}

async fn start(pool: &Pool, extra: &[(&str, &str)]) -> LambdaSandbox {
    let mut env = authorizer_env(&pool.server.url());
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    LambdaSandbox::start(Path::new(env!("CARGO_BIN_EXE_authorizer")), &env)
        .await
        .unwrap()
}

#[tokio::test]
async fn valid_tokens_get_a_stage_wide_allow_with_the_callers_context() {
    let pool = Pool::start().await;
    let sandbox = start(&pool, &[]).await;

    let id_token = TokenSpec::new("alice").mint(&pool.key).unwrap();
    let Outcome::Response(response) = sandbox
        .invoke(&with_token(&id_token))
        .await
        .unwrap()
        .outcome
    else {
        panic!("a valid ID token was refused:\n{}", sandbox.logs());
    };
    assert_eq!(response["principalId"], user_sub("alice"));
    let statement = &response["policyDocument"]["Statement"][0];
    assert_eq!(statement["Effect"], "Allow");
    assert_eq!(statement["Action"], "execute-api:Invoke");
    assert_eq!(
        statement["Resource"],
        "arn:aws:execute-api:us-east-1:123456789012:abcdef123/Prod/*/*"
    );
    assert_eq!(response["context"]["username"], "alice");
    assert_eq!(response["context"]["sub"], user_sub("alice"));
    assert_eq!(response["context"]["tokenUse"], "id");
    assert_eq!(response["context"]["email"], "alice@example.com");

    let access_token = TokenSpec::new("bob").access().mint(&pool.key).unwrap();
    let Outcome::Response(response) = sandbox
        .invoke(&with_token(&access_token))
        .await
        .unwrap()
        .outcome
    else {
        panic!("a valid access token was refused:\n{}", sandbox.logs());
    };
    assert_eq!(response["context"]["username"], "bob");
    assert_eq!(response["context"]["tokenUse"], "access");
    assert_eq!(
        response["context"]["scope"],
        "aws.cognito.signin.user.admin"
    );

    let logs = sandbox.logs();
    let signature = id_token.rsplit('.').next().unwrap();
    assert!(
        !logs.contains(signature) && !logs.contains(&id_token),
        "a token reached the logs"
    );
}

#[tokio::test]
async fn bad_tokens_fail_with_exactly_unauthorized() {
    let pool = Pool::start().await;
    let sandbox = start(&pool, &[]).await;
    let expired = TokenSpec {
        expires_in: -3600,
        ..TokenSpec::new("alice")
    }
    .mint(&pool.key)
    .unwrap();
    let mut events: Vec<(Value, &str)> = [
        "authorizer.json",
        "authorizer-no-token.json",
        "authorizer-bearer-only.json",
        "authorizer-garbage-token.json",
        "authorizer-alg-none.json",
        "authorizer-not-a-token-event.json",
    ]
    .into_iter()
    .map(|name| (fixture(name), name))
    .collect();
    events.push((with_token(&expired), "expired token"));
    events.push((serde_json::json!(null), "null event"));
    events.push((
        serde_json::json!({"authorizationToken": 42, "methodArn": []}),
        "wrong field types",
    ));
    for (event, why) in events {
        match sandbox.invoke(&event).await.unwrap().outcome {
            Outcome::Error { error_message, .. } => {
                assert_eq!(error_message, "Unauthorized", "{why}")
            }
            Outcome::Response(response) => panic!("{why}: accepted: {response}"),
        }
    }
    // Still serving after all of that.
    let valid = TokenSpec::new("alice").mint(&pool.key).unwrap();
    assert!(matches!(
        sandbox.invoke(&with_token(&valid)).await.unwrap().outcome,
        Outcome::Response(_)
    ));
}

#[tokio::test]
async fn a_required_group_turns_outsiders_into_an_explicit_deny() {
    let pool = Pool::start().await;
    let sandbox = start(&pool, &[("REQUIRED_GROUP", "editors")]).await;
    let outsider = TokenSpec::new("bob").mint(&pool.key).unwrap();
    let Outcome::Response(response) = sandbox
        .invoke(&with_token(&outsider))
        .await
        .unwrap()
        .outcome
    else {
        panic!("a valid token must get a policy, not an error");
    };
    assert_eq!(response["policyDocument"]["Statement"][0]["Effect"], "Deny");
}

#[tokio::test]
async fn missing_configuration_stops_the_authorizer_at_init() {
    let sandbox = LambdaSandbox::start(
        Path::new(env!("CARGO_BIN_EXE_authorizer")),
        &[("AWS_REGION".to_owned(), "us-east-1".to_owned())],
    )
    .await
    .unwrap();
    let error = sandbox
        .invoke(&fixture("authorizer.json"))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("USER_POOL_ID"), "{error}");
}

#[tokio::test]
async fn every_line_logged_during_an_invocation_carries_its_request_id() {
    let pool = Pool::start().await;
    let sandbox = start(&pool, &[]).await;
    for event in [
        fixture("authorizer-garbage-token.json"),
        fixture("authorizer-not-a-token-event.json"),
    ] {
        sandbox.invoke(&event).await.unwrap();
    }
    let logs = sandbox.logs();
    let lines: Vec<Value> = logs
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON line: {line}"))
        })
        .collect();
    // Init logs outside any invocation; from the first invocation on, every line is inside one.
    let invocation_lines: Vec<&Value> = lines
        .iter()
        .skip_while(|line| line["fields"]["message"] != "JWKS loaded")
        .skip(1)
        .collect();
    assert!(invocation_lines.len() >= 2, "{logs}");
    let mut request_ids = Vec::new();
    for line in invocation_lines {
        // lambda_runtime's span, field for field: what log queries on `requestId` rely on.
        let invocation = &line["spans"][0];
        assert_eq!(invocation["name"], "Lambda runtime invoke", "{line}");
        assert!(
            invocation["xrayTraceId"]
                .as_str()
                .is_some_and(|trace| trace.starts_with("Root=1-")),
            "{line}"
        );
        let request_id = invocation["requestId"].as_str().unwrap_or_default();
        assert_eq!(request_id.len(), 36, "a UUID: {line}");
        request_ids.push(request_id.to_owned());
    }
    request_ids.dedup();
    assert_eq!(
        request_ids.len(),
        2,
        "one request id per invocation:\n{logs}"
    );
}
