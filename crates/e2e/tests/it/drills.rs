//! Reliability drills on the real binaries: concurrent posts (no id collision, nothing lost),
//! concurrent creates of one user's notes (distinct integer ids, nothing overwritten),
//! concurrent versioned updates (exactly one winner per version, never a mix), a DynamoDB
//! outage in the middle of a load (quick 503s, recovery in the same warm processes, no
//! acknowledged write lost) and throttling (503 after the SDK's retries). Each prints its figures.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use notes_devkit::binaries::function_binary;
use notes_devkit::runtime_api::{LambdaSandbox, Outcome};
use notes_devkit::tables::template_path;
use notes_devkit::testing::{TestTables, call, fresh_tables, fresh_tables_at};
use notes_devkit::{DynamoDbLocal, DynamoDbLocalOptions, find_jar_dir};
use notes_domain::{NoteReader, PageSize, UserId};
use notes_dynamodb::DynamoNotes;
use notes_http::fixtures::{ProxyResponse, as_user, fixture_json, with_body, with_header};
use serde_json::{Value, json};

async fn sandboxes(
    binary: &str,
    env: &[(String, String)],
    count: usize,
) -> Vec<Arc<LambdaSandbox>> {
    let path = function_binary(binary).unwrap();
    let mut all = Vec::new();
    for _ in 0..count {
        all.push(Arc::new(LambdaSandbox::start(&path, env).await.unwrap()));
    }
    all
}

/// Like concurrent Lambda sandboxes: requests spread over several processes at once.
async fn concurrently(sandboxes: &[Arc<LambdaSandbox>], events: Vec<Value>) -> Vec<ProxyResponse> {
    let tasks: Vec<_> = events
        .into_iter()
        .enumerate()
        .map(|(i, event)| {
            let sandbox = Arc::clone(&sandboxes[i % sandboxes.len()]);
            tokio::spawn(async move { call(&sandbox, &event).await })
        })
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    replies
}

async fn all_notes(tables: &TestTables, user: &str) -> Vec<(String, String, u64)> {
    let store = DynamoNotes::new(tables.client.clone(), tables.notes_table.clone());
    let user = UserId::parse(&notes_http::fixtures::sub_of(user)).unwrap();
    let mut notes = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_notes(&user, PageSize::new(100).unwrap(), after.as_ref())
            .await
            .unwrap();
        notes.extend(page.items.into_iter().map(|n| {
            (
                n.note_id.as_str().to_owned(),
                n.text.into_string(),
                n.version.get(),
            )
        }));
        match page.next {
            Some(next) => after = Some(next),
            None => return notes,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hundred_concurrent_posts_get_two_hundred_distinct_ids() {
    let tables = fresh_tables().await.unwrap();
    let posts = sandboxes("post", &tables.function_env(), 4).await;
    let events: Vec<Value> = (0..200)
        .map(|i| {
            let event = as_user(
                fixture_json("create-post.json").unwrap(),
                &format!("user{}", i % 7),
            );
            with_body(
                event,
                &json!({"title": format!("post {i}"), "contents": format!("contents {i}")})
                    .to_string(),
            )
        })
        .collect();
    let started = Instant::now();
    let replies = concurrently(&posts, events).await;
    let elapsed = started.elapsed();
    assert!(
        replies.iter().all(|r| r.status == 201),
        "{:?}",
        replies.iter().find(|r| r.status != 201)
    );
    let ids: BTreeSet<u64> = replies
        .iter()
        .map(|r| r.body["id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ids,
        (1..=200).collect(),
        "200 posts, 200 distinct ids, no gap"
    );

    // Every acknowledged post is stored: page through the board.
    let mut listed = BTreeSet::new();
    let mut event =
        notes_http::fixtures::with_query(fixture_json("list-posts.json").unwrap(), "limit", "100");
    loop {
        let page = call(&posts[0], &event).await;
        for post in page.body.as_array().unwrap() {
            assert!(
                listed.insert(post["id"].as_u64().unwrap()),
                "a post listed twice"
            );
        }
        match page.next_link() {
            Some(link) => event = notes_http::fixtures::following(event, link),
            None => break,
        }
    }
    assert_eq!(listed, ids);
    eprintln!(
        "drill posts: 200 concurrent POST /post over 4 sandboxes in {elapsed:?}: 200 stored, 200 distinct ids, 0 lost"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_creates_of_one_users_notes_get_distinct_integer_ids() {
    // Ids are `unix_millis * 1000 + random(0..1000)`: creates landing in the same millisecond
    // in different sandboxes may draw the same id, and must then draw again, never overwrite.
    let tables = fresh_tables().await.unwrap();
    let writers = sandboxes("createUpdate", &tables.function_env(), 4).await;
    let events: Vec<Value> = (0..200)
        .map(|i| {
            with_body(
                fixture_json("create-note.json").unwrap(),
                &json!({"Note": format!("note {i}")}).to_string(),
            )
        })
        .collect();
    let started = Instant::now();
    let replies = concurrently(&writers, events).await;
    let elapsed = started.elapsed();
    assert!(
        replies.iter().all(|r| r.status == 201),
        "{:?}",
        replies.iter().find(|r| r.status != 201)
    );
    let ids: BTreeSet<u64> = replies
        .iter()
        .map(|r| {
            let id = r.body["NoteId"].as_str().unwrap();
            let number: u64 = id.parse().unwrap();
            assert!(number <= notes_domain::MAX_SAFE_INTEGER, "{id}");
            number
        })
        .collect();
    assert_eq!(ids.len(), 200, "200 creates, 200 distinct ids");
    let stored = all_notes(&tables, "alice").await;
    assert_eq!(stored.len(), 200, "every acknowledged note stored");
    assert!(
        stored.iter().all(|(_, _, version)| *version == 1),
        "no create overwrote another"
    );
    let collisions = writers
        .iter()
        .map(|w| w.logs().matches("generated note id already taken").count())
        .sum::<usize>();
    eprintln!(
        "drill note ids: 200 concurrent POST /notes of one user over 4 sandboxes in {elapsed:?}: 200 distinct integer ids, 200 stored at version 1, {collisions} id collision(s) drawn again"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_versioned_updates_have_exactly_one_winner_per_version() {
    let tables = fresh_tables().await.unwrap();
    let writers = sandboxes("createUpdate", &tables.function_env(), 5).await;
    let create = with_body(
        fixture_json("create-note.json").unwrap(),
        r#"{"NoteId": "contended", "Note": "original"}"#,
    );
    assert_eq!(call(&writers[0], &create).await.status, 201);

    const ROUNDS: u64 = 3;
    const WRITERS: usize = 50;
    let mut last_winner = String::new();
    for round in 0..ROUNDS {
        let version = round + 1;
        let texts: Vec<String> = (0..WRITERS)
            .map(|w| format!("round {round} writer {w}"))
            .collect();
        let events: Vec<Value> = texts
            .iter()
            .map(|text| {
                let event = with_body(
                    create.clone(),
                    &json!({"NoteId": "contended", "Note": text}).to_string(),
                );
                with_header(event, "If-Match", &format!("\"{version}\""))
            })
            .collect();
        let replies = concurrently(&writers, events).await;
        let winners: Vec<&ProxyResponse> = replies.iter().filter(|r| r.status == 200).collect();
        let conflicts = replies.iter().filter(|r| r.status == 409).count();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one writer wins version {version}"
        );
        assert_eq!(
            conflicts,
            WRITERS - 1,
            "round {round}: every other writer gets 409"
        );
        last_winner = winners[0].body["Note"].as_str().unwrap().to_owned();
        assert!(texts.contains(&last_winner));
        assert_eq!(winners[0].body["Version"], version + 1);
    }
    let stored = all_notes(&tables, "alice").await;
    assert_eq!(
        stored,
        [("contended".to_owned(), last_winner, ROUNDS + 1)],
        "the stored note is the last winner's, whole"
    );
    eprintln!(
        "drill versions: {ROUNDS} rounds x {WRITERS} concurrent If-Match writers: 1 winner and {} conflicts per round",
        WRITERS - 1
    );
}

/// Stops (drops) DynamoDB Local: java is killed with its lifeline.
async fn stop(dynamodb: DynamoDbLocal) {
    tokio::task::spawn_blocking(move || drop(dynamodb))
        .await
        .unwrap();
}

async fn start_dynamodb(port: u16, data_dir: std::path::PathBuf) -> DynamoDbLocal {
    let options = DynamoDbLocalOptions {
        steady_state: false,
        jar_dir: find_jar_dir().unwrap(),
        port: Some(port),
        data_dir: Some(data_dir),
    };
    tokio::task::spawn_blocking(move || DynamoDbLocal::start(&options))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dynamodb_outage_is_a_quick_503_and_no_acknowledged_write_is_lost() {
    let data_dir = std::env::temp_dir().join(format!("notes-drill-{}", uuid_like()));
    let port = notes_devkit::dynamodb_local::free_loopback_port().unwrap();
    let dynamodb = start_dynamodb(port, data_dir.clone()).await;
    let tables = fresh_tables_at(dynamodb.endpoint(), &template_path())
        .await
        .unwrap();
    let writer = &sandboxes("createUpdate", &tables.function_env(), 1).await[0];
    let create = |i: usize| {
        with_body(
            fixture_json("create-note.json").unwrap(),
            &json!({"Note": format!("note {i}")}).to_string(),
        )
    };

    let mut acknowledged = Vec::new();
    for i in 0..20 {
        let reply = call(writer, &create(i)).await;
        assert_eq!(reply.status, 201);
        acknowledged.push(reply.body["NoteId"].as_str().unwrap().to_owned());
    }

    stop(dynamodb).await;
    let mut slowest = Duration::ZERO;
    for i in 20..30 {
        let started = Instant::now();
        let reply = call(writer, &create(i)).await;
        let took = started.elapsed();
        slowest = slowest.max(took);
        assert_eq!(reply.status, 503, "during the outage: {:?}", reply.body);
        assert_eq!(reply.header("retry-after"), Some("1"));
        let message = reply.body["message"].as_str().unwrap();
        assert!(
            !message.contains("dynamodb") && !message.contains("127.0.0.1"),
            "{message}"
        );
        assert!(
            took < Duration::from_secs(8),
            "a 503 within the SDK's budget, not a hang: {took:?}"
        );
    }

    let dynamodb = start_dynamodb(port, data_dir.clone()).await;
    let mut recovered_after = None;
    for i in 30..40 {
        let reply = call(writer, &create(i)).await;
        if reply.status == 201 {
            recovered_after.get_or_insert(i - 30);
            acknowledged.push(reply.body["NoteId"].as_str().unwrap().to_owned());
        } else {
            assert_eq!(reply.status, 503, "{:?}", reply.body);
        }
    }
    assert!(
        recovered_after.is_some(),
        "the same warm process serves again once DynamoDB is back"
    );

    let stored: BTreeSet<String> = all_notes(&tables, "alice")
        .await
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .collect();
    assert!(missing.is_empty(), "acknowledged writes lost: {missing:?}");
    eprintln!(
        "drill outage: 20 writes, DynamoDB stopped, 10 requests all 503 (slowest {slowest:?}), restarted: served again after {} failed request(s), {} acknowledged writes all present",
        recovered_after.unwrap_or_default(),
        acknowledged.len()
    );
    stop(dynamodb).await;
    let _ = std::fs::remove_dir_all(&data_dir);
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// A DynamoDB endpoint that throttles every request, as DynamoDB answers when over capacity.
async fn throttling_endpoint(error_type: &'static str) -> (String, Arc<AtomicUsize>) {
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&requests);
    let app = Router::new().fallback(move || {
        let counter = Arc::clone(&counter);
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            let body = json!({
                "__type": format!("com.amazonaws.dynamodb.v20120810#{error_type}"),
                "message": "Rate of requests exceeds the allowed throughput."
            });
            let mut response = (StatusCode::BAD_REQUEST, body.to_string()).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-amz-json-1.0"),
            );
            response
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, requests)
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_is_a_503_after_the_sdks_retries() {
    for error_type in [
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
    ] {
        let (endpoint, requests) = throttling_endpoint(error_type).await;
        let env: Vec<(String, String)> = [
            ("NOTES_TABLE", "notes"),
            ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.as_str()),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "drill"),
            ("AWS_SECRET_ACCESS_KEY", "drill"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec();
        let list = &sandboxes("list", &env, 1).await[0];
        let reply = call(list, &fixture_json("list-notes.json").unwrap()).await;
        assert_eq!(reply.status, 503, "{error_type}: {:?}", reply.body);
        assert_eq!(reply.header("retry-after"), Some("1"));
        assert!(
            !reply.body["message"].as_str().unwrap().contains(error_type),
            "no internals in the body"
        );
        let attempts = requests.load(Ordering::SeqCst);
        assert_eq!(
            attempts,
            notes_dynamodb::MAX_ATTEMPTS as usize,
            "{error_type}: the SDK retried before giving up"
        );
        eprintln!(
            "drill throttling: {error_type} -> 503 with Retry-After after {attempts} attempts"
        );
    }
}

async fn item_count(tables: &TestTables, logical_id: &str) -> u64 {
    notes_devkit::count_items(&tables.client, tables.table(logical_id).unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn retried_creates_with_idempotency_keys_store_each_item_once() {
    const KEYS: usize = 50;
    const COPIES: usize = 3;
    let tables = fresh_tables().await.unwrap();
    for (binary, fixture, route) in [
        ("createUpdate", "create-note.json", "POST /notes"),
        ("post", "create-post.json", "POST /post"),
    ] {
        let functions = sandboxes(binary, &tables.function_env(), 4).await;
        let body = |k: usize, variant: &str| {
            if binary == "post" {
                json!({"title": format!("title {k}{variant}"), "contents": format!("contents {k}")})
            } else {
                json!({"Note": format!("note {k}{variant}")})
            }
        };
        let event = |k: usize, body: Value| {
            let event = as_user(fixture_json(fixture).unwrap(), &format!("user{}", k % 5));
            with_header(
                with_body(event, &body.to_string()),
                "Idempotency-Key",
                &format!("drill-{k}"),
            )
        };

        // A client that timed out and retried twice, all three copies in flight at once, in
        // different sandboxes.
        let events = (0..KEYS)
            .flat_map(|k| std::iter::repeat_n(event(k, body(k, "")), COPIES))
            .collect();
        let replies = concurrently(&functions, events).await;
        let (mut fresh, mut replayed, mut in_progress) = (0, 0, Vec::new());
        let mut answers: Vec<Vec<Value>> = vec![Vec::new(); KEYS];
        for (i, reply) in replies.iter().enumerate() {
            let k = i / COPIES;
            match (reply.status, reply.header("idempotent-replayed")) {
                (201, None) => fresh += 1,
                (201, Some("true")) => replayed += 1,
                (409, None) => {
                    assert_eq!(reply.header("retry-after"), Some("1"), "{:?}", reply.body);
                    in_progress.push(k);
                    continue;
                }
                other => panic!("{route} key {k}: unexpected {other:?} {:?}", reply.body),
            }
            answers[k].push(reply.body.clone());
        }
        assert_eq!(fresh, KEYS, "{route}: exactly one copy per key ran");
        // The copies told to retry do so, and get the first copy's response.
        for &k in &in_progress {
            let reply = call(&functions[k % 4], &event(k, body(k, ""))).await;
            assert_eq!(
                reply.status, 201,
                "{route} retry of key {k}: {:?}",
                reply.body
            );
            assert_eq!(reply.header("idempotent-replayed"), Some("true"));
            answers[k].push(reply.body.clone());
        }
        for (k, bodies) in answers.iter().enumerate() {
            assert_eq!(bodies.len(), COPIES, "{route} key {k}");
            assert!(
                bodies.iter().all(|b| b == &bodies[0]),
                "{route} key {k}: every copy gets the same response: {bodies:?}"
            );
        }

        // A key reused for a different request is refused and writes nothing.
        let reused = (0..KEYS).map(|k| event(k, body(k, " (edited)"))).collect();
        let refused = concurrently(&functions, reused).await;
        assert!(
            refused.iter().all(|r| r.status == 422),
            "{route}: 422 for reuse"
        );

        let stored = match binary {
            "post" => item_count(&tables, "PostsTable").await - 1, // less the id counter
            _ => item_count(&tables, "NotesTable").await - 5, // less the 5 users' note counters
        };
        assert_eq!(stored, KEYS as u64, "{route}: one item per key");
        eprintln!(
            "drill idempotency: {route}: {KEYS} keys x {COPIES} concurrent copies over 4 sandboxes: {fresh} ran, {replayed} replayed at once, {} got 409 in progress and replayed on retry, {KEYS} reuses with another body 422, {stored} items stored",
            in_progress.len()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_jwks_outage_keeps_cached_keys_working_and_without_keys_refuses() {
    use notes_devkit::issuer::{JwksServer, SigningKey, TokenSpec, authorizer_env, jwks};
    const TOKENS: usize = 20;
    let key = SigningKey::generate().unwrap();
    let server = JwksServer::start(jwks(&[&key])).await.unwrap();
    let env = authorizer_env(&server.url());
    let warm = &sandboxes("authorizer", &env, 1).await[0];
    let tokens: Vec<String> = (0..TOKENS)
        .map(|i| TokenSpec::new(&format!("user{i}")).mint(&key).unwrap())
        .collect();
    let event = |token: &str| {
        let mut event: Value = serde_json::from_str(
            &std::fs::read_to_string(notes_devkit::workspace_root().join("events/authorizer.json"))
                .unwrap(),
        )
        .unwrap();
        event["authorizationToken"] = format!("Bearer {token}").into();
        event
    };
    let allowed = |outcome: &Outcome| {
        matches!(outcome, Outcome::Response(policy)
            if policy["policyDocument"]["Statement"][0]["Effect"] == "Allow")
    };
    let unauthorized = |outcome: &Outcome| matches!(outcome, Outcome::Error { error_message, .. } if error_message == "Unauthorized");

    server.set_available(false);
    // A warm authorizer keeps verifying with the keys it fetched at init.
    for token in &tokens {
        let outcome = warm.invoke(&event(token)).await.unwrap().outcome;
        assert!(allowed(&outcome), "cached keys keep working: {outcome:?}");
    }
    // A token signed by a key it does not have: one refetch attempt, which fails, then 401.
    let stranger = SigningKey::generate().unwrap();
    let started = Instant::now();
    let outcome = warm
        .invoke(&event(&TokenSpec::new("mallory").mint(&stranger).unwrap()))
        .await
        .unwrap()
        .outcome;
    let unknown_kid_took = started.elapsed();
    assert!(unauthorized(&outcome), "{outcome:?}");

    // A cold authorizer that cannot fetch any keys refuses everything, and says why in its log.
    let cold = &sandboxes("authorizer", &env, 1).await[0];
    for token in &tokens {
        let outcome = cold.invoke(&event(token)).await.unwrap().outcome;
        assert!(unauthorized(&outcome), "no keys, no entry: {outcome:?}");
    }
    let logs = cold.logs();
    assert!(logs.contains("JWKS unavailable at init"), "{logs}");
    for token in &tokens {
        let signature = token.rsplit('.').next().unwrap();
        assert!(!logs.contains(signature) && !warm.logs().contains(signature));
    }

    // Once the JWKS is back, the same cold process serves: with no keys at all it tries again
    // every second (authorizer::NO_KEYS_REFETCH_INTERVAL), not every ten.
    server.set_available(true);
    let started = Instant::now();
    let recovered = loop {
        let outcome = cold.invoke(&event(&tokens[0])).await.unwrap().outcome;
        if allowed(&outcome) {
            break started.elapsed();
        }
        assert!(unauthorized(&outcome), "{outcome:?}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "the authorizer did not fetch the keys again within its refetch interval"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    eprintln!(
        "drill jwks outage: JWKS down: warm authorizer allowed {TOKENS}/{TOKENS} valid tokens from cached keys and refused an unknown kid in {unknown_kid_took:?}; cold authorizer refused {TOKENS}/{TOKENS} (logged, no token in logs); JWKS back: served again after {recovered:.1?}"
    );
}
