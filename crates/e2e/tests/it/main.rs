//! End to end on loopback: the drills (drills.rs), the local API (local_api.rs), both payload
//! formats on every route (http_api.rs); the hostile matrix is a test target of its own
//! (tests/hostile, one test per case). Here: the deployed chain, a token from the local issuer through the
//! `authorizer` binary, API Gateway's handover (policy check, context into
//! `requestContext.authorizer`) and into the `createUpdate`, `list` and `delete` binaries, against
//! DynamoDB Local.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod drills;
mod http_api;
mod local_api;

use notes_devkit::binaries::function_binary;
use notes_devkit::gateway::{AuthorizerDecision, decide, with_authorizer_context};
use notes_devkit::issuer::{JwksServer, SigningKey, TokenSpec, authorizer_env, jwks};
use notes_devkit::runtime_api::{LambdaSandbox, Outcome};
use notes_devkit::s3_local;
use notes_devkit::testing::{TestAudio, fresh_tables};
use notes_http::fixtures::{ProxyResponse, fixture_json};
use serde_json::{Value, json};

struct Stack {
    authorizer: LambdaSandbox,
    create_update: LambdaSandbox,
    list: LambdaSandbox,
    delete: LambdaSandbox,
    key: SigningKey,
    _jwks: JwksServer,
    _s3: TestAudio,
}

/// moto's S3 with an audio bucket, and the functions' environment `env` extended to use it: the
/// delete function deletes a deleted note's audio, so it needs a bucket even where nothing is
/// dictated. Keep the returned server alive as long as the functions.
async fn with_audio_bucket(env: Vec<(String, String)>) -> (TestAudio, Vec<(String, String)>) {
    let audio = TestAudio::start(s3_local::LOCAL_AUDIO_BUCKET)
        .await
        .unwrap();
    let env = audio.with_env(env);
    (audio, env)
}

impl Stack {
    async fn start() -> Self {
        let key = SigningKey::generate().unwrap();
        let jwks_server = JwksServer::start(jwks(&[&key])).await.unwrap();
        let tables = fresh_tables().await.unwrap();
        let (s3, delete_env) = with_audio_bucket(tables.function_env()).await;
        let sandbox = |name: &'static str, env: Vec<(String, String)>| async move {
            LambdaSandbox::start(&function_binary(name).unwrap(), &env)
                .await
                .unwrap()
        };
        Self {
            authorizer: sandbox("authorizer", authorizer_env(&jwks_server.url())).await,
            create_update: sandbox("createUpdate", tables.function_env()).await,
            list: sandbox("list", tables.function_env()).await,
            delete: sandbox("delete", delete_env).await,
            key,
            _jwks: jwks_server,
            _s3: s3,
        }
    }

    /// What API Gateway does with a request: run the authorizer on its Authorization header
    /// and, on Allow, invoke the function with the authorizer context. 401/403 otherwise.
    async fn request(
        &self,
        function: &LambdaSandbox,
        fixture: &str,
        authorization: &str,
        tweak: impl FnOnce(&mut Value),
    ) -> ProxyResponse {
        let mut event = fixture_json(fixture).unwrap();
        tweak(&mut event);
        let method = event["httpMethod"].as_str().unwrap().to_owned();
        let path = event["path"]
            .as_str()
            .unwrap()
            .trim_start_matches('/')
            .to_owned();
        let method_arn =
            format!("arn:aws:execute-api:us-east-1:123456789012:abcdef123/Prod/{method}/{path}");
        let token_event =
            json!({"type": "TOKEN", "authorizationToken": authorization, "methodArn": method_arn});
        let outcome = self.authorizer.invoke(&token_event).await.unwrap().outcome;
        match decide(&outcome, &method_arn) {
            AuthorizerDecision::Unauthorized => ProxyResponse {
                status: 401,
                headers: Default::default(),
                body: json!({"message": "Unauthorized"}),
            },
            AuthorizerDecision::Deny => ProxyResponse {
                status: 403,
                headers: Default::default(),
                body: json!({"message": "User is not authorized to access this resource with an explicit deny"}),
            },
            AuthorizerDecision::Allow(context) => {
                // Whatever the fixture carried, the function sees only what the authorizer said.
                let event = with_authorizer_context(event, context);
                match function.invoke(&event).await.unwrap().outcome {
                    Outcome::Response(value) => ProxyResponse::parse(&value).unwrap(),
                    Outcome::Error {
                        error_type,
                        error_message,
                    } => panic!("{error_type}: {error_message}"),
                }
            }
        }
    }

    fn token(&self, user: &str) -> String {
        format!("Bearer {}", TokenSpec::new(user).mint(&self.key).unwrap())
    }
}

/// The `NoteId`s of a page of notes, in order: a page is a bare array, as the labs' client
/// reads it.
fn note_ids(body: &Value) -> Vec<String> {
    body.as_array()
        .unwrap_or_else(|| panic!("a page is a bare array: {body}"))
        .iter()
        .map(|n| n["NoteId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_decides_whose_partition_a_request_reads_and_writes() {
    let stack = Stack::start().await;
    let (alice, bob) = (stack.token("alice"), stack.token("bob"));

    let created = stack
        .request(&stack.create_update, "create-note.json", &alice, |_| {})
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let alices_note = created.body["NoteId"].as_str().unwrap().to_owned();
    // An access token works the same way.
    let access = format!(
        "Bearer {}",
        TokenSpec::new("bob").access().mint(&stack.key).unwrap()
    );
    let bobs = stack
        .request(&stack.create_update, "create-note.json", &access, |e| {
            e["body"] = json!(r#"{"Note":"Bob's own"}"#)
        })
        .await;
    assert_eq!(bobs.status, 201);

    assert_eq!(
        note_ids(
            &stack
                .request(&stack.list, "list-notes.json", &alice, |_| {})
                .await
                .body
        ),
        [alices_note.as_str()]
    );
    let bobs_list = stack
        .request(&stack.list, "list-notes.json", &bob, |_| {})
        .await;
    assert_eq!(bobs_list.body.as_array().unwrap().len(), 1);
    assert_ne!(
        note_ids(&bobs_list.body),
        [alices_note.as_str()],
        "bob never sees alice's note"
    );

    // Bob asking for alice's note by id, or deleting it: 404, and it survives.
    let set_id = |e: &mut Value| e["pathParameters"] = json!({"id": alices_note});
    assert_eq!(
        stack
            .request(&stack.list, "get-note.json", &bob, set_id)
            .await
            .status,
        404
    );
    assert_eq!(
        stack
            .request(&stack.delete, "delete-note.json", &bob, set_id)
            .await
            .status,
        404
    );
    assert_eq!(
        stack
            .request(&stack.list, "get-note.json", &alice, set_id)
            .await
            .status,
        200
    );

    // A fixture that claims to be someone else changes nothing: the authorizer's context wins.
    let smuggled = stack
        .request(
            &stack.list,
            "list-notes-cognito-authorizer.json",
            &alice,
            |_| {},
        )
        .await;
    assert_eq!(note_ids(&smuggled.body), [alices_note.as_str()]);

    // No token, a bad token, an expired token: 401 and the functions are never invoked.
    let expired = format!(
        "Bearer {}",
        TokenSpec {
            expires_in: -600,
            ..TokenSpec::new("alice")
        }
        .mint(&stack.key)
        .unwrap()
    );
    for authorization in ["", "Bearer", "Bearer garbage", expired.as_str()] {
        let response = stack
            .request(&stack.list, "list-notes.json", authorization, |_| {})
            .await;
        assert_eq!(response.status, 401, "{authorization:?}");
    }

    assert_eq!(
        stack
            .request(&stack.delete, "delete-note.json", &alice, set_id)
            .await
            .status,
        204
    );
    assert!(
        note_ids(
            &stack
                .request(&stack.list, "list-notes.json", &alice, |_| {})
                .await
                .body
        )
        .is_empty()
    );
}
