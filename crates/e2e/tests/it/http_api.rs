//! Every function binary serves the HTTP API's payload format 2.0 exactly as it serves the REST
//! API's proxy events: each route's fixture in both formats (events/http-*.json, generated from
//! `sam local generate-event apigateway http-api-proxy` by scripts/http-api-fixtures.py) against
//! tables of its own, the same status and the same body, identity from the JWT claims.

use std::collections::HashMap;

use notes_devkit::binaries::function_binary;
use notes_devkit::polly_local::PollyLocal;
use notes_devkit::runtime_api::{LambdaSandbox, Outcome};
use notes_devkit::testing::{TestAudio, TestTables, call, fresh_tables};
use notes_http::fixtures::{ProxyResponse, fixture_json};
use serde_json::Value;

/// One set of function sandboxes on tables of their own.
struct Functions {
    _tables: TestTables,
    by_name: HashMap<&'static str, LambdaSandbox>,
}

impl Functions {
    /// `bucket`: an audio bucket of its own in moto's S3 at `s3`, so that one set never reuses
    /// the other's audio.
    async fn start(s3: &TestAudio, polly: &str, bucket: &str) -> Self {
        let tables = fresh_tables().await.unwrap();
        s3.add_bucket(bucket).await.unwrap();
        let mut env = tables.function_env();
        env.extend(s3.env_for(bucket));
        env.push(("AWS_ENDPOINT_URL_POLLY".into(), polly.to_owned()));
        let mut by_name = HashMap::new();
        for name in ["list", "createUpdate", "delete", "post", "dictate"] {
            let sandbox = LambdaSandbox::start(&function_binary(name).unwrap(), &env)
                .await
                .unwrap();
            by_name.insert(name, sandbox);
        }
        Self {
            _tables: tables,
            by_name,
        }
    }

    async fn call(&self, function: &str, fixture: &str) -> ProxyResponse {
        call(&self.by_name[function], &fixture_json(fixture).unwrap()).await
    }
}

/// A body with what differs between two runs (generated ids, times, URLs' hosts, buckets and
/// signatures) removed.
fn shape(body: &Value) -> Value {
    match body {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match k.as_str() {
                        "NoteId" | "id" | "CreatedAt" | "UpdatedAt" | "createdAt" => {
                            Value::from("*")
                        }
                        _ => shape(v),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        // A presigned URL: its key (the bucket and the signature differ).
        Value::String(text) if text.starts_with("http") => {
            let path = text.split('?').next().unwrap_or_default();
            Value::from(path.splitn(5, '/').nth(4).unwrap_or_default())
        }
        other => other.clone(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_answers_a_payload_2_0_event_as_it_answers_a_rest_event() {
    let s3 = TestAudio::start("audio-rest").await.unwrap();
    let polly = PollyLocal::start(None).await.unwrap();
    let rest = Functions::start(&s3, &polly.endpoint(), "audio-rest").await;
    let http = Functions::start(&s3, &polly.endpoint(), "audio-http").await;

    // In order: each step sees what the one before wrote, in both formats alike.
    let steps = [
        ("list", "list-notes.json", "http-list-notes.json", 200),
        (
            "createUpdate",
            "create-note.json",
            "http-create-note.json",
            201,
        ),
        (
            "createUpdate",
            "update-note.json",
            "http-update-note.json",
            201,
        ),
        (
            "createUpdate",
            "create-note-base64.json",
            "http-create-note-base64.json",
            201,
        ),
        ("list", "get-note.json", "http-get-note.json", 200),
        ("list", "search-notes.json", "http-search-notes.json", 200),
        ("list", "list-notes.json", "http-list-notes.json", 200),
        (
            "list",
            "list-notes-http-api-jwt.json",
            "http-list-notes-access-token.json",
            200,
        ),
        (
            "dictate",
            "dictate-note.json",
            "http-dictate-note.json",
            200,
        ),
        ("delete", "delete-note.json", "http-delete-note.json", 204),
        ("list", "get-note.json", "http-get-note.json", 404),
        ("post", "create-post.json", "http-create-post.json", 201),
        ("post", "list-posts.json", "http-list-posts.json", 200),
        (
            "list",
            "list-notes-no-identity.json",
            "http-list-notes-no-claims.json",
            401,
        ),
    ];
    for (function, rest_fixture, http_fixture, status) in steps {
        let by_rest = rest.call(function, rest_fixture).await;
        let by_http = http.call(function, http_fixture).await;
        assert_eq!(by_rest.status, status, "{rest_fixture}: {:?}", by_rest.body);
        assert_eq!(by_http.status, status, "{http_fixture}: {:?}", by_http.body);
        // The access-token fixture is another user (carol) in REST: compare statuses only.
        if rest_fixture != "list-notes-http-api-jwt.json" {
            assert_eq!(
                shape(&by_http.body),
                shape(&by_rest.body),
                "{http_fixture} answers as {rest_fixture}"
            );
        }
        assert_eq!(
            by_http.header("content-type"),
            by_rest.header("content-type"),
            "{http_fixture}"
        );
    }

    // The URLs a function builds point back at the HTTP API's stage path, as the client called it.
    let created = http.call("createUpdate", "http-create-note.json").await;
    let location = created.header("location").unwrap();
    assert!(location.starts_with("/Prod/notes/"), "{location}");
    let mut paged = fixture_json("http-list-notes.json").unwrap();
    paged["rawQueryString"] = Value::from("limit=1");
    paged["queryStringParameters"] = serde_json::json!({"limit": "1"});
    let sandbox = &http.by_name["list"];
    let Outcome::Response(value) = sandbox.invoke(&paged).await.unwrap().outcome else {
        panic!("list failed");
    };
    let page = ProxyResponse::parse(&value).unwrap();
    let next = page.next_link().unwrap();
    assert!(
        next.starts_with("https://abcdef1234.execute-api.us-east-1.amazonaws.com/Prod/notes?"),
        "{next}"
    );
    assert_eq!(polly.synthesis_count(), 2, "one dictation per format");
}
