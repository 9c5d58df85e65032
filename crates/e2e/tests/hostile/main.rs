//! Hostile and malformed input: a table-driven matrix through the function binaries (events)
//! and through the local API (HTTP). Every case must be answered with a precise 4xx and a JSON
//! `message`, never a 5xx, an invocation error or a panic, and must leave the tables exactly as
//! they were (a full Scan before and after each case) and its note text out of every log. The
//! only writes allowed come after the matrix: proof that the same processes still serve, and
//! that an identity smuggled in headers or the query is ignored.
//!
//! Each case is a test of its own (a libtest-mimic trial, so this target has `harness = false`),
//! named `events::<function>::<case>` or `http::<METHOD>::<case>`: `cargo test -p e2e --test
//! hostile -- http::POST::invalid_json` runs one, `-- --list` names them all. The cases share one
//! set of functions and tables, set up once, so they run one at a time.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::ExitCode;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::BTreeMap;
use tokio::runtime::Runtime;

use notes_devkit::binaries::function_binary;
use notes_devkit::issuer::{JwksServer, SigningKey, TokenSpec, authorizer_env, jwks};
use notes_devkit::local_api::{
    ApiSpec, DEFAULT_AUTHORIZER_CACHE_TTL, Front, LocalApi, LocalApiConfig, MAX_REQUEST_BYTES,
};
use notes_devkit::runtime_api::LambdaSandbox;
use notes_devkit::tables::template_path;
use notes_devkit::testing::{
    HttpReply, TestAudio, TestTables, fresh_tables, http_request, respond,
};
use notes_http::MAX_BODY_BYTES;
use notes_http::fixtures::{
    ProxyResponse, as_user, fixture_json, following, with_body, with_header, with_query,
};
use serde_json::{Value, json};

/// Put in the note text of every hostile body, so that the function logs can be searched for it:
/// a rejected body must not end up in a log line either.
const SECRET: &str = "hostile-secret-7f3c";

// ---------------------------------------------------------------------------------------------
// Reading the tables
// ---------------------------------------------------------------------------------------------

/// One item, attribute by attribute: strings as they are, other types in their debug form. A
/// `BTreeMap` so that two reads of the same item compare (and print) the same.
type Item = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq)]
struct Snapshot {
    notes: Vec<Item>,
    posts: Vec<Item>,
    idempotency: Vec<Item>,
}

/// A value's debug form with maps in key order, so that two reads of one item compare equal
/// (a `HashMap`'s debug order differs from one instance to the next).
fn canonical(value: &aws_sdk_dynamodb::types::AttributeValue) -> String {
    match value.as_m() {
        Ok(map) => {
            let sorted: BTreeMap<&String, String> =
                map.iter().map(|(k, v)| (k, canonical(v))).collect();
            format!("M{sorted:?}")
        }
        Err(_) => format!("{value:?}"),
    }
}

/// Every item of a table, sorted. A Scan is fine here: test tables hold a handful of items, and
/// only a full read proves that nothing else was written anywhere in the table.
async fn scan(tables: &TestTables, table: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = tables
            .client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        for item in page.items() {
            items.push(
                item.iter()
                    .map(|(name, value)| {
                        let text = value.as_s().map_or_else(|_| canonical(value), Clone::clone);
                        (name.clone(), text)
                    })
                    .collect(),
            );
        }
        match page.last_evaluated_key() {
            Some(key) if !key.is_empty() => start = Some(key.clone()),
            _ => break,
        }
    }
    items.sort();
    items
}

async fn snapshot(tables: &TestTables) -> Snapshot {
    Snapshot {
        notes: scan(tables, &tables.notes_table).await,
        posts: scan(tables, &tables.posts_table).await,
        idempotency: scan(tables, tables.table("IdempotencyTable").unwrap()).await,
    }
}

// ---------------------------------------------------------------------------------------------
// Small encoders, to build hostile input without more dependencies
// ---------------------------------------------------------------------------------------------

/// Standard base64 with padding, as API Gateway encodes binary bodies.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let symbol = |index: u32| char::from(ALPHABET[(index & 63) as usize]);
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(symbol(n >> 18));
        out.push(symbol(n >> 12));
        out.push(if chunk.len() > 1 { symbol(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { symbol(n) } else { '=' });
    }
    out
}

/// Percent-encodes everything but unreserved characters, as a client puts an id in a URL path.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A JSON body of exactly `len` bytes: `{"Note":"<SECRET>xxx…"}`.
fn note_body_of_len(len: usize) -> String {
    let frame = r#"{"Note":""}"#.len() + SECRET.len();
    format!(r#"{{"Note":"{SECRET}{}"}}"#, "x".repeat(len - frame))
}

/// `{"a":{"a":…}}` nested `depth` times under an extra field: serde_json's recursion limit
/// must stop it, not the stack.
fn deeply_nested_body(depth: usize) -> String {
    format!(
        r#"{{"Note":"{SECRET} deep","Deep":{}1{}}}"#,
        r#"{"a":"#.repeat(depth),
        "}".repeat(depth)
    )
}

// ---------------------------------------------------------------------------------------------
// Through the function binaries: events as API Gateway (or anyone with lambda:InvokeFunction)
// hands them over
// ---------------------------------------------------------------------------------------------

fn event(fixture: &str) -> Value {
    fixture_json(fixture).unwrap()
}

fn edit(mut event: Value, change: impl FnOnce(&mut Value)) -> Value {
    change(&mut event);
    event
}

/// The `createUpdate` fixture with another body.
fn note_body(body: &str) -> Value {
    with_body(event("create-note.json"), body)
}

/// The `post` fixture (`POST /post`) with another body.
fn post_body(body: &str) -> Value {
    with_body(event("create-post.json"), body)
}

/// A body as API Gateway hands over a binary media type: base64, `isBase64Encoded`.
fn base64_body(mut event: Value, bytes: &[u8]) -> Value {
    event["body"] = Value::from(base64(bytes));
    event["isBase64Encoded"] = Value::from(true);
    event
}

/// `{id}` of `/notes/{id}`: the decoded path parameter, and the path as the client encoded it.
fn with_note_id(mut event: Value, id: &str) -> Value {
    event["pathParameters"] = json!({ "id": id });
    event["path"] = Value::from(format!("/notes/{}", percent_encode(id)));
    event
}

fn with_authorizer(mut event: Value, authorizer: Value) -> Value {
    event["requestContext"]["authorizer"] = authorizer;
    event
}

fn without_authorizer(mut event: Value) -> Value {
    if let Some(context) = event["requestContext"].as_object_mut() {
        context.remove("authorizer");
    }
    event
}

fn without(mut event: Value, key: &str) -> Value {
    if let Some(map) = event.as_object_mut() {
        map.remove(key);
    }
    event
}

/// A header given several times: API Gateway lists them in `multiValueHeaders` only.
fn with_repeated_header(mut event: Value, name: &str, values: &[&str]) -> Value {
    if let Some(headers) = event["headers"].as_object_mut() {
        headers.remove(name);
    }
    event["multiValueHeaders"][name] = json!(values);
    event
}

/// A query parameter given several times: all values in `multiValueQueryStringParameters`, the
/// last one in `queryStringParameters`, as API Gateway fills them.
fn with_repeated_query(event: Value, name: &str, values: &[&str]) -> Value {
    let mut event = with_query(event, name, values.last().copied().unwrap_or_default());
    event["multiValueQueryStringParameters"][name] = json!(values);
    event
}

/// The contract every hostile case shares: the expected 4xx, and a JSON body with a message.
fn judge(reply: &ProxyResponse, expected: u16) -> Result<(), String> {
    if reply.status != expected {
        return Err(format!("status {} instead of {expected}", reply.status));
    }
    if !(400..500).contains(&reply.status) {
        return Err(format!("status {} is not a client error", reply.status));
    }
    if reply.header("content-type") != Some("application/json") {
        return Err(format!(
            "Content-Type {:?} instead of application/json",
            reply.header("content-type")
        ));
    }
    if reply.body["message"].as_str().is_none_or(str::is_empty) {
        return Err(format!("no JSON message in {}", reply.body));
    }
    Ok(())
}

struct Functions {
    list: LambdaSandbox,
    create_update: LambdaSandbox,
    delete: LambdaSandbox,
    post: LambdaSandbox,
}

/// The cursor of a page's `Link: <…?…&next=CURSOR>; rel="next"`, decoded.
fn cursor_of(page: &ProxyResponse) -> String {
    let link = page.next_link().unwrap();
    following(json!({}), link)["queryStringParameters"]["next"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// moto's S3 with the audio bucket, and `env` extended to use it: the delete function deletes a
/// deleted note's audio, so it needs a bucket even where nothing is dictated.
async fn with_audio_bucket(env: Vec<(String, String)>) -> (TestAudio, Vec<(String, String)>) {
    let audio = TestAudio::start(notes_devkit::s3_local::LOCAL_AUDIO_BUCKET)
        .await
        .unwrap();
    let env = audio.with_env(env);
    (audio, env)
}

/// The `NoteId`s of a page, in order.
fn note_ids(body: &Value) -> Vec<String> {
    body.as_array()
        .unwrap_or_else(|| panic!("a page is a bare array: {body}"))
        .iter()
        .map(|n| n["NoteId"].as_str().unwrap().to_owned())
        .collect()
}

/// A case's description as a test name: `"NUL in a title"` -> `NUL_in_a_title`; punctuation
/// is spelled out, since cases differ by it (`"id with /"` -> `id_with_slash`).
fn slug(why: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in why.chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        let spelled = match c {
            '/' => "slash",
            '\\' => "backslash",
            '#' => "hash",
            '.' => "dot",
            '?' => "question_mark",
            '&' => "ampersand",
            '%' => "percent",
            '+' => "plus",
            '=' => "equals",
            '*' => "star",
            '@' => "at",
            ';' => "semicolon",
            '<' => "lt",
            '>' => "gt",
            _ => continue,
        };
        words.push(spelled.to_owned());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words.join("_")
}

/// `name`, or `name_2`, `name_3`… if an earlier case took it.
fn unique(name: String, taken: &mut std::collections::HashSet<String>) -> String {
    let mut candidate = name.clone();
    let mut n = 1;
    while !taken.insert(candidate.clone()) {
        n += 1;
        candidate = format!("{name}_{n}");
    }
    candidate
}

/// How many times the hostile note text appears in `logs`: a case that adds one logged a body.
fn secrets_in(logs: &str) -> usize {
    logs.matches(SECRET).count()
}

fn main() -> ExitCode {
    let mut args = Arguments::from_args();
    // The cases share one set of tables, and each is judged by their state before and after it.
    args.test_threads = Some(1);
    let runtime: &'static Runtime = Box::leak(Box::new(
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime"),
    ));
    let mut trials = runtime.block_on(hostile_events_through_the_function_binaries(runtime));
    trials.extend(runtime.block_on(hostile_requests_through_the_local_api(runtime)));
    let mut names: Vec<&str> = trials.iter().map(Trial::name).collect();
    names.sort_unstable();
    let duplicates: Vec<&&str> = names
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| &w[0])
        .collect();
    assert!(
        duplicates.is_empty(),
        "two cases share a name: {duplicates:?}"
    );
    libtest_mimic::run(&args, trials).exit_code()
}

/// A successful call while setting up or checking liveness: anything else stops the test here.
async fn must(function: &LambdaSandbox, event: &Value, expected: u16) -> ProxyResponse {
    let reply = respond(function, event).await.unwrap();
    assert_eq!(
        reply.status, expected,
        "{}: {:?}",
        reply.body, event["body"]
    );
    reply
}

/// The events matrix: its functions and tables set up and seeded, then one trial per case.
async fn hostile_events_through_the_function_binaries(runtime: &'static Runtime) -> Vec<Trial> {
    let tables = fresh_tables().await.unwrap();
    let (s3, env) = with_audio_bucket(tables.function_env()).await;
    let start = |name: &'static str| {
        let env = env.clone();
        async move {
            LambdaSandbox::start(&function_binary(name).unwrap(), &env)
                .await
                .unwrap()
        }
    };
    let functions = Functions {
        list: start("list").await,
        create_update: start("createUpdate").await,
        delete: start("delete").await,
        post: start("post").await,
    };

    // Seed through the binaries themselves: two notes of alice's (one with a client-chosen id),
    // one of bob's, two posts. Then real cursors, to replay where they do not belong.
    must(&functions.create_update, &event("create-note.json"), 201).await;
    let alpha = note_body(r#"{"NoteId": "alpha", "Note": "Alpha, version 1"}"#);
    must(&functions.create_update, &alpha, 201).await;
    let bobs = as_user(
        note_body(r#"{"NoteId": "bravo", "Note": "Bob's own note"}"#),
        "bob",
    );
    must(&functions.create_update, &bobs, 201).await;
    must(&functions.post, &event("create-post.json"), 201).await;
    // Keyed, so that the matrix can reuse the key with another body.
    must(&functions.post, &event("create-post-idempotent.json"), 201).await;
    let page = must(
        &functions.list,
        &with_query(event("list-notes.json"), "limit", "1"),
        200,
    )
    .await;
    let alices_cursor = cursor_of(&page);
    let page = must(
        &functions.post,
        &with_query(event("list-posts.json"), "limit", "1"),
        200,
    )
    .await;
    let post_cursor = cursor_of(&page);

    let before = snapshot(&tables).await;
    assert_eq!(
        (before.notes.len(), before.posts.len()),
        (5, 3),
        "three notes and alice's and bob's note counters; two posts and the post counter"
    );

    let (list, create_update, delete, post) = (
        &functions.list,
        &functions.create_update,
        &functions.delete,
        &functions.post,
    );
    let long_id = "a".repeat(2_000);
    let cases: Vec<(&LambdaSandbox, Value, u16, &str)> = vec![
        // Not an API Gateway proxy request at all: notes-http's runtime wrapper answers 400.
        (list, event("not-an-http-event.json"), 400, "an S3 event"),
        (create_update, json!({}), 400, "an empty object"),
        (delete, json!([]), 400, "an array"),
        (post, json!("GET /notes"), 400, "a string"),
        (list, Value::Null, 400, "null"),
        (list, json!(42), 400, "a number"),
        (
            create_update,
            without(
                note_body(&format!(r#"{{"Note":"{SECRET}"}}"#)),
                "requestContext",
            ),
            400,
            "no requestContext",
        ),
        (
            create_update,
            edit(note_body(&format!(r#"{{"Note":"{SECRET}"}}"#)), |e| {
                e["requestContext"] = Value::Null;
            }),
            400,
            "requestContext null",
        ),
        (
            list,
            edit(event("list-notes.json"), |e| {
                e["requestContext"] = json!("alice");
            }),
            400,
            "requestContext a string",
        ),
        (
            list,
            without(event("list-notes.json"), "httpMethod"),
            400,
            "no httpMethod",
        ),
        (
            list,
            edit(event("list-notes.json"), |e| {
                e["httpMethod"] = json!("G ET");
            }),
            400,
            "an httpMethod that is not a token",
        ),
        (
            create_update,
            edit(event("create-note.json"), |e| {
                e["body"] = json!({"Note": SECRET});
            }),
            400,
            "body a JSON object instead of a string",
        ),
        (
            create_update,
            edit(event("create-note.json"), |e| {
                e["isBase64Encoded"] = json!("yes");
            }),
            400,
            "isBase64Encoded a string",
        ),
        (
            list,
            edit(event("list-notes.json"), |e| e["headers"] = json!(["x"])),
            400,
            "headers an array",
        ),
        (
            list,
            edit(event("get-note.json"), |e| {
                e["pathParameters"] = json!({"id": 5});
            }),
            400,
            "a path parameter of the wrong type",
        ),
        (
            list,
            with_authorizer(event("list-notes.json"), json!("alice")),
            400,
            "an authorizer context that is a string",
        ),
        // Header injection: API Gateway never sends these, and they must not get further.
        (
            list,
            with_header(event("list-notes.json"), "X-Test", "1\r\nUserId: bob"),
            400,
            "CR LF in a header value",
        ),
        (
            list,
            with_header(event("list-notes.json"), "X-Test", "a\u{0}b"),
            400,
            "NUL in a header value",
        ),
        (
            list,
            with_header(event("list-notes.json"), "User Id", "bob"),
            400,
            "a space in a header name",
        ),
        (
            list,
            with_header(event("list-notes.json"), "Host", "evil host"),
            400,
            "a Host header that is not a host name",
        ),
        (
            list,
            with_header(event("list-notes.json"), "X-Forwarded-Proto", ""),
            400,
            "an empty X-Forwarded-Proto",
        ),
        // Must not reach lambda_http's `Url::parse(..).unwrap()` (a panic, then a bare 502).
        (
            list,
            with_header(event("list-notes.json"), "X-Forwarded-Proto", "1nvalid"),
            400,
            "an X-Forwarded-Proto that is not a scheme",
        ),
        // Identity comes from the authorizer context only; without it, 401, whatever else the
        // request claims.
        (
            create_update,
            without_authorizer(note_body(&format!(r#"{{"Note":"{SECRET}"}}"#))),
            401,
            "no authorizer context",
        ),
        (
            create_update,
            with_authorizer(note_body(&format!(r#"{{"Note":"{SECRET}"}}"#)), Value::Null),
            401,
            "authorizer null",
        ),
        (
            list,
            with_authorizer(event("list-notes.json"), json!({})),
            401,
            "an empty authorizer context",
        ),
        (
            list,
            with_authorizer(event("list-notes.json"), json!({"principalId": "sub-1"})),
            401,
            "principalId without username",
        ),
        (
            list,
            with_authorizer(event("list-notes.json"), json!({"username": ""})),
            401,
            "an empty username",
        ),
        (
            list,
            with_authorizer(event("list-notes.json"), json!({"username": "   "})),
            401,
            "a blank username",
        ),
        (
            delete,
            with_authorizer(event("delete-note.json"), json!({"username": 42})),
            401,
            "a username of the wrong type",
        ),
        (
            list,
            with_authorizer(event("list-notes.json"), json!({"username": "ali\u{0}ce"})),
            401,
            "NUL in the username",
        ),
        (
            list,
            with_authorizer(event("list-notes.json"), json!({"username": "bob\n"})),
            401,
            "a newline in the username",
        ),
        // The HTTP API's payload format 2.0, with the JWT authorizer's claims.
        (
            list,
            event("http-list-notes-no-claims.json"),
            401,
            "HTTP API: a JWT context without claims",
        ),
        (
            list,
            edit(event("http-list-notes.json"), |e| {
                e["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:username"] = json!(7);
            }),
            // API Gateway's claims are strings: another type is not a valid event at all.
            400,
            "HTTP API: a username of the wrong type",
        ),
        (
            delete,
            edit(event("http-delete-note.json"), |e| {
                e["requestContext"]["authorizer"] = json!({"jwt": null});
            }),
            401,
            "HTTP API: jwt null",
        ),
        (
            list,
            edit(event("http-list-notes.json"), |e| {
                e["requestContext"]["authorizer"]["jwt"]["claims"] =
                    json!({"cognito:username": "", "username": "bob"});
            }),
            401,
            "HTTP API: an empty username beside another",
        ),
        (
            create_update,
            edit(event("http-create-note.json"), |e| {
                e["body"] = json!(format!(r#"{{"Note":"{SECRET}","UserId":"bob"}}"#));
            }),
            400,
            "HTTP API: a smuggled UserId",
        ),
        (
            list,
            edit(event("http-get-note.json"), |e| {
                e["pathParameters"] = json!({"id": "a#b"});
            }),
            400,
            "HTTP API: an id that is not one",
        ),
        (
            create_update,
            edit(event("http-create-note-base64.json"), |e| {
                e["body"] = json!("!!! not base64 !!!");
            }),
            400,
            "HTTP API: a base64 body that is not base64",
        ),
        (
            post,
            edit(event("http-create-post.json"), |e| {
                e["headers"]["content-type"] = json!("text/plain");
            }),
            415,
            "HTTP API: a post that is not JSON",
        ),
        (
            list,
            with_authorizer(
                event("list-notes.json"),
                json!({"username": "b".repeat(129)}),
            ),
            401,
            "a username longer than Cognito allows",
        ),
        (
            list,
            with_authorizer(
                event("list-notes.json"),
                json!({"username": "", "claims": {"cognito:username": "bob"}}),
            ),
            401,
            "an empty first source does not fall through to the next",
        ),
        (
            list,
            with_header(
                with_header(
                    with_query(
                        without_authorizer(event("list-notes.json")),
                        "UserId",
                        "bob",
                    ),
                    "UserId",
                    "bob",
                ),
                "x-user-id",
                "bob",
            ),
            401,
            "no authorizer, UserId in the query and in headers",
        ),
        (
            create_update,
            without_authorizer(note_body(&format!(
                r#"{{"Note":"{SECRET}","UserId":"bob"}}"#
            ))),
            401,
            "no authorizer, UserId in the body",
        ),
        (
            list,
            edit(event("list-notes-http-api-jwt.json"), |e| {
                e["requestContext"]["authorizer"]["jwt"]["claims"] = json!({});
            }),
            401,
            "HTTP API JWT without a username claim",
        ),
        (
            list,
            edit(event("list-notes-http-api-jwt.json"), |e| {
                e["requestContext"]["authorizer"]["jwt"]["claims"] = json!({"username": ""});
            }),
            401,
            "HTTP API JWT with an empty username",
        ),
        (
            post,
            without_authorizer(event("list-posts.json")),
            401,
            "posts without an authorizer",
        ),
        // The wrong method for the function.
        (
            list,
            edit(event("list-notes.json"), |e| {
                e["httpMethod"] = json!("POST")
            }),
            405,
            "POST to list",
        ),
        (
            create_update,
            event("list-notes.json"),
            405,
            "GET to createUpdate",
        ),
        (delete, event("get-note.json"), 405, "GET to delete"),
        (post, event("delete-note.json"), 405, "DELETE to post"),
        (
            create_update,
            edit(note_body(&format!(r#"{{"Note":"{SECRET}"}}"#)), |e| {
                e["httpMethod"] = json!("PATCH");
            }),
            405,
            "PATCH to createUpdate",
        ),
        (
            create_update,
            edit(note_body(&format!(r#"{{"Note":"{SECRET}"}}"#)), |e| {
                e["httpMethod"] = json!("FOO");
            }),
            405,
            "an extension method",
        ),
        // Bodies that are not a note.
        (
            create_update,
            note_body(&format!(r#"{{"Note": "{SECRET}"#)),
            400,
            "truncated JSON",
        ),
        (create_update, note_body(""), 400, "an empty body"),
        (
            create_update,
            edit(event("create-note.json"), |e| e["body"] = Value::Null),
            400,
            "no body",
        ),
        (
            create_update,
            note_body(&format!(r#"{{"Note": ["{SECRET}"]}}"#)),
            400,
            "Note an array",
        ),
        (
            create_update,
            note_body(&format!(r#""{SECRET}""#)),
            400,
            "a JSON string instead of an object",
        ),
        (
            create_update,
            note_body(&format!(r#"["{SECRET} as an array", null, null, null]"#)),
            400,
            "a JSON array with one element per field",
        ),
        (
            create_update,
            note_body(&format!(
                r#"{{"Note":"{SECRET} one","Note":"{SECRET} two"}}"#
            )),
            400,
            "duplicate keys",
        ),
        (
            create_update,
            note_body(&format!(
                r#"{{"NoteId":"alpha","Note":"{SECRET}","Version":1e400}}"#
            )),
            400,
            "a Version beyond f64",
        ),
        (
            create_update,
            note_body(&format!(
                r#"{{"NoteId":"alpha","Note":"{SECRET}","Version":18446744073709551616}}"#
            )),
            400,
            "a Version beyond u64",
        ),
        (
            create_update,
            note_body(&format!(
                r#"{{"NoteId":"alpha","Note":"{SECRET}","Version":-1}}"#
            )),
            400,
            "a negative Version",
        ),
        (
            create_update,
            note_body(&format!(
                r#"{{"NoteId":"alpha","Note":"{SECRET}","Version":0}}"#
            )),
            400,
            "Version zero",
        ),
        (
            create_update,
            note_body(&format!(
                r#"{{"NoteId":"alpha","Note":"{SECRET}","Version":"1"}}"#
            )),
            400,
            "Version a string",
        ),
        (
            create_update,
            note_body(&format!(r#"{{"NoteId":1e400,"Note":"{SECRET}"}}"#)),
            400,
            "a numeric NoteId beyond f64",
        ),
        (
            create_update,
            note_body(&format!(r#"{{"NoteId":-1,"Note":"{SECRET}"}}"#)),
            400,
            "a negative numeric NoteId",
        ),
        (
            create_update,
            note_body(&format!(
                r#"{{"NoteId":{{"S":"bravo"}},"Note":"{SECRET}"}}"#
            )),
            400,
            "NoteId a DynamoDB attribute value",
        ),
        (
            create_update,
            note_body(&format!(r#"{{"NoteId":"../bravo","Note":"{SECRET}"}}"#)),
            400,
            "NoteId with ../",
        ),
        (
            create_update,
            note_body(&format!(r#"{{"NoteId":"bob#bravo","Note":"{SECRET}"}}"#)),
            400,
            "NoteId with #",
        ),
        (
            create_update,
            note_body(&format!(r#"{{"NoteId":"{long_id}","Note":"{SECRET}"}}"#)),
            400,
            "NoteId of 2,000 characters",
        ),
        (
            create_update,
            note_body(&format!(r#"{{"NoteId":"🦀","Note":"{SECRET}"}}"#)),
            400,
            "NoteId an emoji",
        ),
        (
            create_update,
            note_body(&deeply_nested_body(10_000)),
            400,
            "objects nested 10,000 deep in an unknown field",
        ),
        (
            create_update,
            note_body(&format!(
                r#"{{"Note":{}"{SECRET}"{}}}"#,
                "[".repeat(10_000),
                "]".repeat(10_000)
            )),
            400,
            "Note itself nested 10,000 deep",
        ),
        (
            create_update,
            note_body(&format!(
                r#"{{"Note":"{SECRET}","Deep":{}{}}}"#,
                "[".repeat(10_000),
                "]".repeat(10_000)
            )),
            400,
            "arrays nested 10,000 deep in an unknown field",
        ),
        (
            create_update,
            note_body(&note_body_of_len(MAX_BODY_BYTES + 1)),
            413,
            "64 KiB + 1",
        ),
        (
            create_update,
            note_body(&format!(r#"{{"Note":"{SECRET}","UserId":"bob"}}"#)),
            400,
            "UserId smuggled in the body",
        ),
        (
            create_update,
            note_body(&format!(r#"{{"Note":"{SECRET}","UserId":{{"S":"bob"}}}}"#)),
            400,
            "UserId as a DynamoDB attribute value",
        ),
        (
            create_update,
            note_body(&format!(r#"{{"Note":"{SECRET}","UserId":null}}"#)),
            400,
            "UserId null: the body still carries UserId",
        ),
        // Note text at and past the rules, and unicode edge cases.
        (
            create_update,
            note_body(&format!(r#"{{"Note":"{SECRET} \ud800"}}"#)),
            400,
            "a lone surrogate",
        ),
        (
            create_update,
            note_body(&format!(r#"{{"Note":"{SECRET} \u0000 nul"}}"#)),
            400,
            "NUL in the text",
        ),
        (
            create_update,
            note_body(&format!(r#"{{"Note":"{SECRET} \u001b[31m red"}}"#)),
            400,
            "a terminal escape",
        ),
        (
            create_update,
            note_body(r#"{"Note":""}"#),
            400,
            "empty text",
        ),
        (
            create_update,
            note_body(r#"{"Note":" \n\t "}"#),
            400,
            "blank text",
        ),
        (
            create_update,
            note_body(&format!(r#"{{"Note":"{SECRET}{}"}}"#, "x".repeat(10_001))),
            400,
            "10,001+ characters",
        ),
        (
            create_update,
            note_body(&format!(
                r#"{{"Note":"{SECRET}e{}"}}"#,
                "\u{301}".repeat(10_000)
            )),
            400,
            "10,000 combining marks on one letter: characters, not graphemes, are counted",
        ),
        (
            create_update,
            note_body(&format!(
                r#"{{"Note":"{SECRET} 🦀 \u202eשלום e\u0301 \u0000"}}"#
            )),
            400,
            "emoji, RTL override, combining mark, then NUL",
        ),
        // Content types.
        (
            create_update,
            with_header(
                note_body(&format!(r#"{{"Note":"{SECRET}"}}"#)),
                "Content-Type",
                "text/plain",
            ),
            415,
            "text/plain",
        ),
        (
            create_update,
            with_header(
                note_body(&format!("Note={SECRET}")),
                "Content-Type",
                "application/x-www-form-urlencoded",
            ),
            415,
            "a form",
        ),
        (
            create_update,
            with_header(
                note_body(&format!(r#"{{"Note":"{SECRET}"}}"#)),
                "Content-Type",
                "application/json; charset=latin1",
            ),
            415,
            "JSON in another charset",
        ),
        (
            create_update,
            with_header(
                note_body(&format!(r#"{{"Note":"{SECRET}"}}"#)),
                "Content-Type",
                "application/jsonx",
            ),
            415,
            "a type that only starts like JSON",
        ),
        (
            create_update,
            with_header(
                note_body(&format!(r#"{{"Note":"{SECRET}"}}"#)),
                "Content-Type",
                "application/jsön",
            ),
            415,
            "a non-ASCII content type",
        ),
        (
            create_update,
            with_header(
                note_body(&note_body_of_len(MAX_BODY_BYTES + 1)),
                "Content-Type",
                "text/plain",
            ),
            415,
            "the content type is judged before the size",
        ),
        // Base64 bodies (isBase64Encoded), as API Gateway sends binary media types.
        (
            create_update,
            base64_body(event("create-note.json"), &[b'{', 0xff, 0xfe, b'}']),
            400,
            "invalid UTF-8",
        ),
        (
            create_update,
            base64_body(
                event("create-note.json"),
                format!(r#"{{"Note":"{SECRET}","UserId":"bob"}}"#).as_bytes(),
            ),
            400,
            "base64 with UserId smuggled",
        ),
        (
            create_update,
            base64_body(
                event("create-note.json"),
                note_body_of_len(MAX_BODY_BYTES + 1).as_bytes(),
            ),
            413,
            "base64 of 64 KiB + 1",
        ),
        (
            create_update,
            edit(event("create-note.json"), |e| {
                e["body"] = Value::from(format!("{SECRET} is not base64!"));
                e["isBase64Encoded"] = Value::from(true);
            }),
            400,
            "isBase64Encoded with a body that is not base64",
        ),
        // Versions and preconditions: refused, and nothing written.
        (
            create_update,
            with_header(
                note_body(&format!(r#"{{"NoteId":"alpha","Note":"{SECRET}"}}"#)),
                "If-Match",
                "abc",
            ),
            400,
            "If-Match garbage",
        ),
        (
            create_update,
            with_repeated_header(
                note_body(&format!(r#"{{"NoteId":"alpha","Note":"{SECRET}"}}"#)),
                "If-Match",
                &["\"1\"", "\"2\""],
            ),
            400,
            "If-Match twice",
        ),
        (
            create_update,
            with_header(
                note_body(&format!(
                    r#"{{"NoteId":"alpha","Note":"{SECRET}","Version":2}}"#
                )),
                "If-Match",
                "\"3\"",
            ),
            409,
            "If-Match and Version disagree",
        ),
        (
            create_update,
            note_body(&format!(r#"{{"Note":"{SECRET}","Version":1}}"#)),
            409,
            "a Version without a NoteId",
        ),
        (
            create_update,
            with_header(
                note_body(&format!(r#"{{"NoteId":"alpha","Note":"{SECRET}"}}"#)),
                "If-Match",
                "\"99\"",
            ),
            409,
            "a stale If-Match",
        ),
        // Idempotency keys: refused before anything runs; a failed keyed write leaves no record.
        (
            create_update,
            with_header(
                note_body(&format!(r#"{{"Note":"{SECRET}"}}"#)),
                "Idempotency-Key",
                "",
            ),
            400,
            "an empty Idempotency-Key",
        ),
        (
            create_update,
            with_header(
                note_body(&format!(r#"{{"Note":"{SECRET}"}}"#)),
                "Idempotency-Key",
                "two words",
            ),
            400,
            "an Idempotency-Key with a space",
        ),
        (
            create_update,
            with_header(
                note_body(&format!(r#"{{"Note":"{SECRET}"}}"#)),
                "Idempotency-Key",
                &"k".repeat(256),
            ),
            400,
            "an Idempotency-Key of 256 characters",
        ),
        (
            create_update,
            with_header(
                note_body(&format!(r#"{{"Note":"{SECRET}"}}"#)),
                "Idempotency-Key",
                "cl\u{e9}",
            ),
            400,
            "a non-ASCII Idempotency-Key",
        ),
        (
            create_update,
            with_header(
                note_body(&format!(r#"{{"Note":"{SECRET}"}}"#)),
                "Idempotency-Key",
                "key\r\nX-Injected: 1",
            ),
            400,
            "header injection in Idempotency-Key",
        ),
        (
            create_update,
            with_repeated_header(
                note_body(&format!(r#"{{"Note":"{SECRET}"}}"#)),
                "Idempotency-Key",
                &["one", "two"],
            ),
            400,
            "Idempotency-Key twice",
        ),
        (
            create_update,
            with_header(
                with_header(
                    note_body(&format!(r#"{{"NoteId":"alpha","Note":"{SECRET}"}}"#)),
                    "If-Match",
                    "\"99\"",
                ),
                "Idempotency-Key",
                "hostile-stale-write",
            ),
            409,
            "a stale If-Match with an Idempotency-Key (the key is released)",
        ),
        (
            post,
            with_header(
                post_body(&format!(r#"{{"title":"t","contents":"{SECRET}"}}"#)),
                "Idempotency-Key",
                "",
            ),
            400,
            "an empty Idempotency-Key on a post",
        ),
        (
            post,
            with_body(
                event("create-post-idempotent.json"),
                &format!(r#"{{"title":"Another","contents":"{SECRET}"}}"#),
            ),
            422,
            "an Idempotency-Key reused for another post",
        ),
        (
            create_update,
            note_body(&format!(
                r#"{{"NoteId":"ghost","Note":"{SECRET}","Version":1}}"#
            )),
            409,
            "a Version for a note that does not exist",
        ),
        // Hostile note ids in the path.
        (
            list,
            with_note_id(event("get-note.json"), "a/b"),
            400,
            "id with /",
        ),
        (
            list,
            with_note_id(event("get-note.json"), ".."),
            400,
            "id ..",
        ),
        (
            list,
            with_note_id(event("get-note.json"), "alice#alpha"),
            400,
            "id with #",
        ),
        (
            list,
            with_note_id(event("get-note.json"), "a\u{0}b"),
            400,
            "id with NUL",
        ),
        (
            list,
            with_note_id(event("get-note.json"), "alpha\r\nX-Injected: 1"),
            400,
            "id with CR LF",
        ),
        (
            list,
            with_note_id(event("get-note.json"), &long_id),
            400,
            "id of 2,000 characters",
        ),
        (
            list,
            edit(event("get-note.json"), |e| {
                e["pathParameters"] = json!({"id": ""})
            }),
            400,
            "an empty id",
        ),
        (
            list,
            with_note_id(event("get-note.json"), "🦀"),
            400,
            "id an emoji",
        ),
        (
            list,
            with_note_id(event("get-note.json"), "e\u{301}"),
            400,
            "id with a combining mark",
        ),
        (
            list,
            with_note_id(event("get-note.json"), "\u{202e}ahpla"),
            400,
            "id with an RTL override",
        ),
        (
            list,
            with_note_id(event("get-note.json"), "ghost"),
            404,
            "a well-formed id nobody has",
        ),
        (
            list,
            with_note_id(event("get-note.json"), "bravo"),
            404,
            "bob's note, asked for by alice",
        ),
        (
            list,
            edit(event("list-notes.json"), |e| {
                e["path"] = json!("/notes/../../post");
            }),
            404,
            "a path that climbs out of /notes",
        ),
        (
            delete,
            with_note_id(event("delete-note.json"), "../bravo"),
            400,
            "delete ../",
        ),
        (
            delete,
            with_note_id(event("delete-note.json"), "bob#bravo"),
            400,
            "delete with #",
        ),
        (
            delete,
            with_note_id(event("delete-note.json"), &long_id),
            400,
            "delete an id of 2,000 characters",
        ),
        (
            delete,
            edit(event("delete-note.json"), |e| {
                e["pathParameters"] = Value::Null;
            }),
            400,
            "delete without an id",
        ),
        (
            delete,
            with_note_id(event("delete-note.json"), "bravo"),
            404,
            "delete bob's note as alice",
        ),
        (
            delete,
            with_note_id(event("delete-note.json"), "ghost"),
            404,
            "delete a note nobody has",
        ),
        (
            delete,
            with_header(
                with_note_id(event("delete-note.json"), "alpha"),
                "If-Match",
                "\"99\"",
            ),
            409,
            "delete with a stale If-Match",
        ),
        (
            delete,
            with_header(
                with_note_id(event("delete-note.json"), "alpha"),
                "If-Match",
                "W/\"1\"",
            ),
            400,
            "delete with a weak ETag",
        ),
        // Query parameters: limit and next.
        (
            list,
            with_query(event("list-notes.json"), "limit", "-1"),
            400,
            "limit -1",
        ),
        (
            list,
            with_query(event("list-notes.json"), "limit", "1e9"),
            400,
            "limit 1e9",
        ),
        (
            list,
            with_query(event("list-notes.json"), "limit", "0"),
            400,
            "limit 0",
        ),
        (
            list,
            with_query(event("list-notes.json"), "limit", "101"),
            400,
            "limit 101",
        ),
        (
            list,
            with_query(event("list-notes.json"), "limit", "99999999999999999999"),
            400,
            "limit beyond i64",
        ),
        (
            list,
            with_query(event("list-notes.json"), "limit", ""),
            400,
            "limit empty",
        ),
        (
            list,
            with_query(event("list-notes.json"), "limit", "٣"),
            400,
            "limit an Arabic-Indic digit",
        ),
        (
            list,
            with_repeated_query(event("list-notes.json"), "limit", &["1", "100"]),
            400,
            "limit twice",
        ),
        (
            list,
            with_query(event("list-notes.json"), "next", "garbage"),
            400,
            "next garbage",
        ),
        (
            list,
            with_query(event("list-notes.json"), "next", &"A".repeat(600)),
            400,
            "next oversized",
        ),
        (
            list,
            with_query(
                as_user(event("list-notes.json"), "bob"),
                "next",
                &alices_cursor,
            ),
            400,
            "alice's cursor replayed by bob",
        ),
        (
            list,
            with_query(event("list-notes.json"), "next", &post_cursor),
            400,
            "a post cursor on notes",
        ),
        (
            post,
            with_query(event("list-posts.json"), "next", &alices_cursor),
            400,
            "a note cursor on posts",
        ),
        (
            post,
            with_query(event("list-posts.json"), "next", "garbage"),
            400,
            "posts next garbage",
        ),
        (
            post,
            with_query(event("list-posts.json"), "limit", "-1"),
            400,
            "posts limit -1",
        ),
        (
            list,
            without(
                without(event("search-notes.json"), "queryStringParameters"),
                "multiValueQueryStringParameters",
            ),
            400,
            "search without text",
        ),
        // (`text=` lists every note, as the labs' client expects; blanks are no search.)
        (
            list,
            with_query(event("search-notes.json"), "text", "   "),
            400,
            "search for blanks",
        ),
        (
            list,
            with_query(event("search-notes.json"), "text", &"a".repeat(201)),
            400,
            "search text of 201 characters",
        ),
        (
            list,
            with_query(event("search-notes.json"), "text", "a\u{0}b"),
            400,
            "search text with NUL",
        ),
        (
            list,
            with_repeated_query(event("search-notes.json"), "text", &["milk", "bread"]),
            400,
            "search text twice",
        ),
        (
            list,
            with_query(
                as_user(event("search-notes.json"), "bob"),
                "next",
                &alices_cursor,
            ),
            400,
            "alice's cursor replayed by bob in a search",
        ),
        // Posts: the author is the caller, and the limits hold.
        (
            post,
            post_body(&format!(
                r#"{{"title":"{SECRET}","contents":"c","author":"bob"}}"#
            )),
            400,
            "author smuggled",
        ),
        (
            post,
            post_body(&format!(
                r#"{{"title":"{SECRET}","contents":"c","UserId":"bob"}}"#
            )),
            400,
            "UserId smuggled in a post",
        ),
        (
            post,
            post_body(&format!(
                r#"{{"title":"{SECRET}","contents":"c","author":null}}"#
            )),
            400,
            "author null: the body still carries author",
        ),
        (
            post,
            post_body(&format!(r#"{{"contents":"{SECRET}"}}"#)),
            400,
            "no title",
        ),
        (
            post,
            post_body(&format!(
                r#"{{"title":"{SECRET}{}","contents":"c"}}"#,
                "t".repeat(200)
            )),
            400,
            "a title of 200+ characters",
        ),
        (
            post,
            post_body(&format!(
                r#"{{"title":"t","contents":"{SECRET}{}"}}"#,
                "c".repeat(20_000)
            )),
            400,
            "contents of 20,000+ characters",
        ),
        (
            post,
            post_body(&format!(r#"{{"title":"{SECRET}","contents":5}}"#)),
            400,
            "contents a number",
        ),
        (
            post,
            post_body(&format!(r#"{{"title":"{SECRET} \u0000","contents":"c"}}"#)),
            400,
            "NUL in a title",
        ),
        (
            post,
            post_body(&format!(
                r#"["{SECRET} title", "{SECRET} contents", null, null]"#
            )),
            400,
            "a post as a JSON array",
        ),
        (
            post,
            post_body(&note_body_of_len(MAX_BODY_BYTES + 1)),
            413,
            "a post of 64 KiB + 1",
        ),
        (
            post,
            with_header(
                post_body(&format!(r#"{{"title":"{SECRET}","contents":"c"}}"#)),
                "Content-Type",
                "text/plain",
            ),
            415,
            "a post as text/plain",
        ),
    ];
    assert!(cases.len() >= 40, "{} cases", cases.len());

    let names = ["list", "createUpdate", "delete", "post"];
    let cases: Vec<(usize, Value, u16, &str)> = cases
        .into_iter()
        .map(|(function, event, expected, why)| {
            let index = [list, create_update, delete, post]
                .iter()
                .position(|f| std::ptr::eq(*f, function))
                .unwrap();
            (index, event, expected, why)
        })
        .collect();
    let fixture = Arc::new(EventsFixture {
        tables,
        functions: [
            functions.list,
            functions.create_update,
            functions.delete,
            functions.post,
        ],
        _s3: s3,
    });

    let mut taken = std::collections::HashSet::new();
    let mut trials: Vec<Trial> = cases
        .into_iter()
        .map(|(index, event, expected, why)| {
            let fixture = Arc::clone(&fixture);
            let name = unique(
                format!("events::{}::{}", names[index], slug(why)),
                &mut taken,
            );
            Trial::test(name, move || {
                runtime
                    .block_on(fixture.check(index, &event, expected))
                    .map_err(Failed::from)
            })
        })
        .collect();
    trials.push(Trial::test(
        "events::after_the_matrix::the_same_processes_still_serve",
        move || {
            runtime
                .block_on(fixture.still_serves())
                .map_err(Failed::from)
        },
    ));
    trials
}

/// The events matrix's functions (list, createUpdate, delete, post) on their seeded tables.
struct EventsFixture {
    tables: TestTables,
    functions: [LambdaSandbox; 4],
    _s3: TestAudio,
}

impl EventsFixture {
    /// One case: its 4xx, and no change to the tables or the logs.
    async fn check(&self, index: usize, event: &Value, expected: u16) -> Result<(), String> {
        let function = &self.functions[index];
        let before = snapshot(&self.tables).await;
        let secrets = secrets_in(&function.logs());
        let reply = respond(function, event).await?;
        judge(&reply, expected).map_err(|e| format!("{e}: {}", reply.body))?;
        let after = snapshot(&self.tables).await;
        if after != before {
            return Err(format!(
                "the tables changed:\nbefore: {before:?}\nafter:  {after:?}"
            ));
        }
        if secrets_in(&function.logs()) != secrets {
            return Err("note text from a hostile body is in the logs".to_owned());
        }
        Ok(())
    }

    /// The same processes still serve valid requests (a panic or a poisoned state would show).
    async fn still_serves(&self) -> Result<(), String> {
        let [list, create_update, delete, post] = &self.functions;
        let created = respond(create_update, &note_body(r#"{"Note": "still alive"}"#)).await?;
        let id = created.body["NoteId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let listed = respond(list, &event("list-notes.json")).await?;
        let deleted = respond(delete, &with_note_id(event("delete-note.json"), &id)).await?;
        let posts = respond(post, &event("list-posts.json")).await?;
        match [created.status, listed.status, deleted.status, posts.status] {
            [201, 200, 204, 200] => Ok(()),
            other => Err(format!("valid requests after the matrix: {other:?}")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Through the local API: real HTTP, the authorizer, API Gateway's own checks
// ---------------------------------------------------------------------------------------------

struct HttpApi {
    api: LocalApi,
    key: SigningKey,
    tables: TestTables,
    _jwks: JwksServer,
    _s3: notes_devkit::testing::TestAudio,
}

type Reply = HttpReply;

/// One hostile request and what it must get.
struct Case {
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    status: u16,
    /// A substring of the `message`, where it tells who answered (gateway or function).
    message: Option<&'static str>,
    why: &'static str,
}

impl Case {
    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name, value.to_owned()));
        self
    }

    fn without_header(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    fn message(mut self, part: &'static str) -> Self {
        self.message = Some(part);
        self
    }
}

impl HttpApi {
    async fn start() -> Self {
        let key = SigningKey::generate().unwrap();
        let jwks_server = JwksServer::start(jwks(&[&key])).await.unwrap();
        let tables = fresh_tables().await.unwrap();
        let (s3, function_env) = with_audio_bucket(tables.function_env()).await;
        let binaries_dir = function_binary("list")
            .unwrap()
            .parent()
            .unwrap()
            .to_owned();
        let api = LocalApi::start(LocalApiConfig {
            port: 0,
            spec: ApiSpec::from_template(&template_path()).unwrap(),
            binaries_dir,
            function_env,
            authorizer_env: authorizer_env(&jwks_server.url()),
            api_key: None,
            authorizer_cache_ttl: DEFAULT_AUTHORIZER_CACHE_TTL,
            allowed_origin: None,
            front: Front::Rest,
            rate_limit: None,
        })
        .await
        .unwrap();
        Self {
            api,
            key,
            tables,
            _jwks: jwks_server,
            _s3: s3,
        }
    }

    fn token(&self, user: &str) -> String {
        format!("Bearer {}", TokenSpec::new(user).mint(&self.key).unwrap())
    }

    /// One request with a real HTTP client (blocking ureq, off the async runtime). Bodies are
    /// bytes so that invalid UTF-8 can be sent.
    async fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> Result<Reply, String> {
        let url = format!("{}{path}", self.api.url());
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        http_request(method, &url, &headers, body).await
    }

    async fn as_user(&self, user: &str, method: &str, path: &str, body: Option<Value>) -> Reply {
        let headers = [
            ("Authorization", self.token(user)),
            ("Content-Type", "application/json".to_owned()),
        ];
        self.call(
            method,
            path,
            &headers,
            body.map(|b| b.to_string().into_bytes()),
        )
        .await
        .unwrap()
    }
}

/// The HTTP matrix: the local API set up and seeded, then one trial per case, then the allowed
/// writes.
async fn hostile_requests_through_the_local_api(runtime: &'static Runtime) -> Vec<Trial> {
    let api = HttpApi::start().await;

    // Seed: alice's note "alpha", bob's notes "bravo" and one more (so bob has a cursor), a post.
    for (user, body) in [
        (
            "alice",
            json!({"NoteId": "alpha", "Note": "Alpha, version 1"}),
        ),
        ("bob", json!({"NoteId": "bravo", "Note": "Bob's own note"})),
        ("bob", json!({"Note": "Bob's second note"})),
    ] {
        let created = api.as_user(user, "POST", "/notes", Some(body)).await;
        assert_eq!(created.status, 201, "{created:?}");
    }
    // Keyed, so that the matrix can reuse the key with another body.
    let post = api
        .call(
            "POST",
            "/post",
            &[
                ("Authorization", api.token("alice")),
                ("Content-Type", "application/json".to_owned()),
                ("Idempotency-Key", "hostile-http-post".to_owned()),
            ],
            Some(br#"{"title": "Hello", "contents": "First"}"#.to_vec()),
        )
        .await
        .unwrap();
    assert_eq!(post.status, 201, "{post:?}");
    let bobs_page = api.as_user("bob", "GET", "/notes?limit=1", None).await;
    // As it appears in the link, encoded (a cursor is base64url: nothing to encode).
    let bobs_cursor = notes_http::fixtures::next_link(&bobs_page.headers["link"])
        .and_then(|link| link.split_once("next="))
        .map(|(_, cursor)| cursor.to_owned())
        .unwrap();

    let before = snapshot(&api.tables).await;
    assert_eq!(
        (before.notes.len(), before.posts.len()),
        (5, 2),
        "three notes and two users' note counters; a post and the post counter"
    );

    let alice = api.token("alice");
    let case = |method: &'static str, path: &str, status: u16, why: &'static str| Case {
        method,
        path: path.to_owned(),
        headers: vec![
            ("Authorization", alice.clone()),
            ("Content-Type", "application/json".to_owned()),
        ],
        body: None,
        status,
        message: None,
        why,
    };
    let foreign_issuer = format!(
        "Bearer {}",
        TokenSpec {
            issuer: "https://evil.example/pool".into(),
            ..TokenSpec::new("alice")
        }
        .mint(&api.key)
        .unwrap()
    );
    let bare_token = alice.trim_start_matches("Bearer ").to_owned();
    let long_id = "a".repeat(2_000);
    let post_note = |why| case("POST", "/notes", 400, why);

    let cases = vec![
        // Bodies.
        post_note("invalid JSON").body(format!(r#"{{"Note": "{SECRET}"#)),
        post_note("Note a number").body(r#"{"Note": 5}"#),
        post_note("Note an object").body(format!(r#"{{"Note": {{"text": "{SECRET}"}}}}"#)),
        post_note("duplicate keys").body(format!(r#"{{"Note":"{SECRET} 1","Note":"{SECRET} 2"}}"#)),
        post_note("objects nested 5,000 deep in an unknown field").body(deeply_nested_body(5_000)),
        post_note("Note nested 5,000 deep").body(format!(
            r#"{{"Note":{}"{SECRET}"{}}}"#,
            "[".repeat(5_000),
            "]".repeat(5_000)
        )),
        post_note("a huge Version").body(format!(
            r#"{{"NoteId":"alpha","Note":"{SECRET}","Version":1e400}}"#
        )),
        post_note("invalid UTF-8 (base64-encoded by the gateway)")
            .body(vec![b'{', b'"', b'N', b'"', b':', 0xff, 0xfe, b'}']),
        post_note("a JSON array with one element per field")
            .body(format!(r#"["{SECRET} as an array", null, null, null]"#)),
        post_note("UserId smuggled in the body")
            .body(format!(r#"{{"Note":"{SECRET}","UserId":"bob"}}"#)),
        case("POST", "/notes", 413, "64 KiB + 1: the function's limit")
            .body(note_body_of_len(MAX_BODY_BYTES + 1))
            .message("larger than"),
        case("POST", "/notes", 413, "10 MiB + 1: the gateway's limit")
            .body(note_body_of_len(MAX_REQUEST_BYTES + 1))
            .message("Request Too Long"),
        // Headers.
        case("POST", "/notes", 415, "text/plain")
            .header("Content-Type", "text/plain")
            .body(format!(r#"{{"Note":"{SECRET}"}}"#)),
        case("POST", "/notes", 415, "a form")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("Note={SECRET}")),
        case("POST", "/notes", 415, "JSON in ISO-8859-1")
            .header("Content-Type", "application/json; charset=iso-8859-1")
            .body(format!(r#"{{"Note":"{SECRET}"}}"#)),
        case("POST", "/notes", 415, "multipart")
            .header("Content-Type", "multipart/form-data; boundary=x")
            .body(format!("--x\r\n\r\n{SECRET}\r\n--x--")),
        post_note("If-Match garbage")
            .header("If-Match", "garbage")
            .body(format!(r#"{{"NoteId":"alpha","Note":"{SECRET}"}}"#)),
        case("POST", "/notes", 409, "a stale If-Match")
            .header("If-Match", "\"99\"")
            .body(format!(r#"{{"NoteId":"alpha","Note":"{SECRET}"}}"#)),
        case("POST", "/notes", 400, "an Idempotency-Key with a space")
            .header("Idempotency-Key", "two words")
            .body(format!(r#"{{"Note":"{SECRET}"}}"#))
            .message("Idempotency-Key"),
        case("POST", "/post", 400, "an Idempotency-Key of 256 characters")
            .header("Idempotency-Key", &"k".repeat(256))
            .body(format!(r#"{{"title":"t","contents":"{SECRET}"}}"#))
            .message("Idempotency-Key"),
        case(
            "POST",
            "/post",
            422,
            "an Idempotency-Key reused for another post",
        )
        .header("Idempotency-Key", "hostile-http-post")
        .body(format!(r#"{{"title":"Hello","contents":"{SECRET}"}}"#))
        .message("Idempotency-Key"),
        case(
            "POST",
            "/notes",
            409,
            "a stale If-Match with an Idempotency-Key",
        )
        .header("If-Match", "\"99\"")
        .header("Idempotency-Key", "hostile-http-stale")
        .body(format!(r#"{{"NoteId":"alpha","Note":"{SECRET}"}}"#)),
        case("DELETE", "/notes/alpha", 400, "delete with a weak ETag")
            .header("If-Match", "W/\"1\""),
        case(
            "DELETE",
            "/notes/alpha",
            409,
            "delete with a stale If-Match",
        )
        .header("If-Match", "\"99\""),
        // (A client's X-Forwarded-Proto never reaches a function: the gateway, like API
        // Gateway, replaces it. One that is not a scheme is in the event matrix above.)
        case(
            "GET",
            "/notes",
            400,
            "a Host header that is not a host name",
        )
        .header("Host", "evil host"),
        // Query strings.
        case("GET", "/notes?limit=-1", 400, "limit -1"),
        case("GET", "/notes?limit=1e9", 400, "limit 1e9"),
        case("GET", "/notes?limit=1&limit=2", 400, "limit twice"),
        case("GET", "/notes?limit=", 400, "limit empty"),
        case("GET", "/notes?limit=%FF", 400, "limit invalid UTF-8"),
        case("GET", "/notes?next=garbage", 400, "next garbage"),
        case(
            "GET",
            &format!("/notes?next={bobs_cursor}"),
            400,
            "bob's cursor replayed by alice",
        ),
        case("GET", "/notes/search", 400, "search without text"),
        case("GET", "/notes/search?text=%00", 400, "search for NUL"),
        case("GET", "/notes/search?text=%20%20", 400, "search for blanks"),
        case("GET", "/post?next=garbage", 400, "posts next garbage"),
        // Paths.
        case("GET", "/notes/a%2Fb", 400, "an encoded slash"),
        case("GET", "/notes/..", 400, "a literal .."),
        case("DELETE", "/notes/%2E%2E", 400, "an encoded .."),
        case("DELETE", "/notes/..%2Fbravo", 400, "../ towards bob's note"),
        case("GET", "/notes/alice%23alpha", 400, "an encoded #"),
        case("GET", "/notes/a%00b", 400, "an encoded NUL"),
        case(
            "GET",
            "/notes/a%0D%0AX-Injected:%201",
            400,
            "an encoded CR LF",
        ),
        case(
            "GET",
            &format!("/notes/{long_id}"),
            400,
            "an id of 2,000 characters",
        ),
        case("GET", "/notes/%F0%9F%A6%80", 400, "an emoji id"),
        case(
            "GET",
            "/notes/%D7%A9%D7%9C%D7%95%D7%9D",
            400,
            "a right-to-left id",
        ),
        case("GET", "/notes/e%CC%81", 400, "an id with a combining mark"),
        case("GET", "/notes/%FF", 400, "an id that is not UTF-8"),
        case("GET", "/notes/ghost", 404, "a well-formed id nobody has"),
        case("GET", "/notes/bravo", 404, "bob's note, asked for by alice"),
        case(
            "DELETE",
            "/notes/bravo",
            404,
            "bob's note, deleted by alice",
        ),
        case(
            "GET",
            "/notes/alpha/%2E%2E",
            403,
            "a path the API does not have",
        )
        .message("Missing Authentication Token"),
        case(
            "PATCH",
            "/notes/alpha",
            403,
            "a method the API does not have",
        )
        .message("Missing Authentication Token"),
        // Authorization.
        case("GET", "/notes", 401, "no Authorization").without_header("Authorization"),
        case("GET", "/notes", 401, "an empty Authorization").header("Authorization", ""),
        case("GET", "/notes", 401, "Bearer alone").header("Authorization", "Bearer"),
        case("GET", "/notes", 401, "Basic credentials")
            .header("Authorization", "Basic YWxpY2U6c2VjcmV0"),
        case("GET", "/notes", 401, "a token with trailing words")
            .header("Authorization", &format!("{alice} extra")),
        case("GET", "/notes", 401, "a token over 8 KiB").header(
            "Authorization",
            &format!("Bearer {}", "a".repeat(8 * 1024 + 1)),
        ),
        case("GET", "/notes", 401, "a token from another issuer")
            .header("Authorization", &foreign_issuer),
        case(
            "GET",
            &format!("/notes?access_token={bare_token}"),
            401,
            "a token in the query string instead of the header",
        )
        .without_header("Authorization"),
        case(
            "GET",
            &format!("/notes?Authorization=Bearer%20{bare_token}"),
            401,
            "an Authorization query parameter",
        )
        .without_header("Authorization"),
        case("POST", "/notes", 401, "no token, UserId header and body")
            .without_header("Authorization")
            .header("UserId", "alice")
            .body(format!(r#"{{"Note":"{SECRET}","UserId":"alice"}}"#)),
    ];
    assert!(cases.len() >= 25, "{} cases", cases.len());

    let api = Arc::new(api);
    let mut taken = std::collections::HashSet::new();
    let mut trials: Vec<Trial> = cases
        .into_iter()
        .map(|case| {
            let api = Arc::clone(&api);
            let name = unique(
                format!("http::{}::{}", case.method, slug(case.why)),
                &mut taken,
            );
            Trial::test(name, move || {
                runtime.block_on(api.check(case)).map_err(Failed::from)
            })
        })
        .collect();
    trials.push(Trial::test(
        "http::after_the_matrix::an_identity_smuggled_in_headers_or_a_method_override_is_ignored",
        move || {
            runtime
                .block_on(api.allowed_writes(&alice))
                .map_err(Failed::from)
        },
    ));
    trials
}

impl HttpApi {
    /// One case: its 4xx with a JSON message (saying who answered, where the case says), and no
    /// change to the tables or the logs.
    async fn check(&self, case: Case) -> Result<(), String> {
        let before = snapshot(&self.tables).await;
        let secrets = secrets_in(&self.api.logs().into_values().collect::<String>());
        let reply = self
            .call(case.method, &case.path, &case.headers, case.body)
            .await?;
        let message = reply.body["message"].as_str();
        if reply.status != case.status {
            return Err(format!(
                "status {} instead of {}: {}",
                reply.status, case.status, reply.body
            ));
        }
        if !(400..500).contains(&reply.status) {
            return Err(format!("status {} is not a client error", reply.status));
        }
        if reply.header("content-type") != Some("application/json") {
            return Err(format!("Content-Type {:?}", reply.header("content-type")));
        }
        if message.is_none_or(str::is_empty) {
            return Err(format!("no JSON message: {}", reply.body));
        }
        if let Some(part) = case.message
            && !message.is_some_and(|m| m.contains(part))
        {
            return Err(format!("message {message:?} does not say {part:?}"));
        }
        let after = snapshot(&self.tables).await;
        if after != before {
            return Err(format!(
                "the tables changed:\nbefore: {before:?}\nafter:  {after:?}"
            ));
        }
        if secrets_in(&self.api.logs().into_values().collect::<String>()) != secrets {
            return Err("note text from a hostile body is in the logs".to_owned());
        }
        Ok(())
    }

    /// The one allowed write, after the matrix: an identity smuggled in headers and the query is
    /// ignored, and the note lands in alice's partition, never in bob's. Then a method override
    /// header is not a method, and bob's notes are intact.
    async fn allowed_writes(&self, alice: &str) -> Result<(), String> {
        let after = snapshot(&self.tables).await;
        let smuggled = self
            .call(
                "POST",
                "/notes?UserId=bob",
                &[
                    ("Authorization", alice.to_owned()),
                    ("Content-Type", "application/json".to_owned()),
                    ("UserId", "bob".to_owned()),
                    ("x-user-id", "bob".to_owned()),
                    ("X-Amzn-Cognito-Username", "bob".to_owned()),
                ],
                Some(br#"{"Note": "Smuggled headers, alice's note"}"#.to_vec()),
            )
            .await?;
        if smuggled.status != 201 {
            return Err(format!("identity smuggled in headers: {smuggled:?}"));
        }
        let with_write = snapshot(&self.tables).await;
        // Less the caller's note counter (NoteId `#count`), which the create changes too.
        let new_notes: Vec<&Item> = with_write
            .notes
            .iter()
            .filter(|item| !after.notes.contains(item))
            .filter(|item| item.get("NoteId").is_none_or(|id| !id.starts_with('#')))
            .collect();
        let owners: Vec<&str> = new_notes
            .iter()
            .map(|item| item.get("UserId").map_or("", String::as_str))
            .collect();
        // Keyed by alice's sub (issue 22), never by a name.
        let alice_sub = notes_devkit::issuer::user_sub("alice");
        if owners != [alice_sub.as_str()] || with_write.posts != after.posts {
            return Err(format!(
                "the smuggled-identity write: new notes owned by {owners:?}; posts changed: {}",
                with_write.posts != after.posts
            ));
        }
        // A method override header is not a method: this stays a read, and alpha stays.
        let overridden = self
            .call(
                "GET",
                "/notes/alpha",
                &[
                    ("Authorization", alice.to_owned()),
                    ("X-HTTP-Method-Override", "DELETE".to_owned()),
                ],
                None,
            )
            .await?;
        if overridden.status != 200 || snapshot(&self.tables).await != with_write {
            return Err(format!("X-HTTP-Method-Override: {overridden:?}"));
        }
        let bobs_view = self.as_user("bob", "GET", "/notes?limit=100", None).await;
        if note_ids(&bobs_view.body).len() != 2 {
            return Err(format!(
                "bob's notes after the matrix: {:?}",
                bobs_view.body
            ));
        }
        Ok(())
    }
}
