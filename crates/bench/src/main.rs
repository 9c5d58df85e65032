//! `make bench`: the release functions, as deployed, against the tutorials' Python and Node
//! handlers, all through the same Lambda Runtime API emulator and the same DynamoDB Local.
//!
//! Measures per function cold start and init over fresh processes, warm latency percentiles,
//! peak RSS, binary and zip size; then the cost of `POST /post` as the board grows (latency and
//! consumed capacity at 10, 1,000 and 10,000 posts) and the posts lost under concurrency. Prints
//! a table, writes `results.json`, `results.md` and `chart.svg`, and checks the targets.
//! A benchmark, not a test: it prints figures and fails only if something does not run.

mod capacity;
mod measure;
mod report;
mod seed;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use notes_devkit::CognitoLocal;
use notes_devkit::issuer::{JwksServer, SigningKey, TokenSpec, authorizer_env, jwks};
use notes_devkit::polly_local::PollyLocal;
use notes_devkit::s3_local::{self, LOCAL_AUDIO_BUCKET};
use notes_devkit::tables::template_path;
use notes_devkit::testing::{TestTables, fresh_tables_at};
use notes_devkit::{DynamoDbLocal, DynamoDbLocalOptions, workspace_root};
use serde_json::{Value, json};

use crate::capacity::CapacityProxy;
use crate::measure::{Subject, measure_all, median, succeeded};
use crate::report::{CostPoint, LostPosts, Results};

#[derive(Debug)]
struct Options {
    cold: usize,
    warm: usize,
    out: PathBuf,
    /// Only these functions, and no cost or concurrency runs: for profiling one change.
    only: Option<Vec<String>>,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        cold: 10,
        warm: 300,
        out: workspace_root().join("bench/results"),
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--cold" => {
                options.cold = value("--cold")?
                    .parse()
                    .map_err(|e| format!("--cold: {e}"))?
            }
            "--warm" => {
                options.warm = value("--warm")?
                    .parse()
                    .map_err(|e| format!("--warm: {e}"))?
            }
            "--out" => options.out = PathBuf::from(value("--out")?),
            "--only" => {
                options.only = Some(value("--only")?.split(',').map(str::to_owned).collect());
            }
            "--help" | "-h" => {
                return Err("usage: notes-bench [--cold N (10)] [--warm N (300)] [--out DIR] [--only list,authorizer,...]".into());
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if options.cold < 10 || options.warm < 300 {
        eprintln!("note: fewer than 10 cold or 300 warm runs: figures for a quick look only");
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(&options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench failed: {message}");
            ExitCode::FAILURE
        }
    }
}

fn file_size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

fn fixture(name: &str) -> Result<Value, String> {
    let path = workspace_root().join("events").join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// `event` with a field set (fixtures are JSON objects; anything else is left as it is).
fn with_field(mut event: Value, name: &str, value: Value) -> Value {
    if let Some(object) = event.as_object_mut() {
        object.insert(name.to_owned(), value);
    }
    event
}

fn with_body(event: Value, body: &Value) -> Value {
    with_field(event, "body", Value::from(body.to_string()))
}

/// `events/dictate-note.json` for alice's note `id`.
fn dictate_event(id: &str) -> Result<Value, String> {
    let event = with_field(
        fixture("dictate-note.json")?,
        "pathParameters",
        json!({ "id": id }),
    );
    Ok(with_field(
        event,
        "path",
        Value::from(format!("/notes/{id}")),
    ))
}

/// The release build of one of our functions, as `cargo lambda build --release` leaves it.
fn rust_subject(
    function: &'static str,
    binary: &str,
    env: Vec<(String, String)>,
    event: Value,
) -> Result<Subject, String> {
    let dir = workspace_root().join("target/lambda").join(binary);
    let program = dir.join("bootstrap");
    if !program.is_file() {
        return Err(format!(
            "{} is missing: run `make bench` (it builds the release functions first)",
            program.display()
        ));
    }
    Ok(Subject {
        function,
        runtime: "Rust",
        binary_bytes: file_size(&program),
        // scripts/bench.sh zips apart from target/lambda, which `sam deploy` uploads as it is.
        zip_bytes: file_size(
            &workspace_root()
                .join("target/lambda-zip")
                .join(binary)
                .join("bootstrap.zip"),
        ),
        program,
        args: Vec::new(),
        env,
        event,
    })
}

fn python_subject(function: &'static str, env: &[(String, String)], event: Value) -> Subject {
    let root = workspace_root().join("bench/baselines/python");
    let mut env = env.to_vec();
    env.push(("LAMBDA_TASK_ROOT".into(), root.display().to_string()));
    env.push(("PYTHONPATH".into(), root.display().to_string()));
    Subject {
        function,
        runtime: "Python",
        program: root.join(".venv/bin/python"),
        args: vec![
            "-m".into(),
            "awslambdaric".into(),
            format!("{function}.lambda_handler"),
        ],
        env,
        event,
        binary_bytes: None,
        zip_bytes: None,
    }
}

fn node_subject(function: &'static str, env: &[(String, String)], event: Value) -> Subject {
    let root = workspace_root().join("bench/baselines/node");
    let mut env = env.to_vec();
    env.push(("LAMBDA_TASK_ROOT".into(), root.display().to_string()));
    // The Node runtime client loads the handler from its working directory, as Lambda starts it
    // in /var/task; `exec` keeps the process id, so the memory read is node's own.
    let command = format!(
        "cd '{}' && exec node node_modules/aws-lambda-ric/bin/index.mjs {function}.handler",
        root.display()
    );
    Subject {
        function,
        runtime: "Node",
        program: PathBuf::from("sh"),
        args: vec!["-c".into(), command],
        env,
        event,
        binary_bytes: None,
        zip_bytes: None,
    }
}

/// The same environment the template gives a function, pointing at `endpoint` instead.
fn env_for(
    tables: &TestTables,
    endpoint: &str,
    baseline_posts: Option<&str>,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = tables
        .function_env()
        .into_iter()
        .map(|(k, v)| {
            if k == "AWS_ENDPOINT_URL_DYNAMODB" {
                (k, endpoint.to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    match baseline_posts {
        Some(table) => env.push(("BASELINE_POSTS_TABLE".into(), table.to_owned())),
        // As template.yaml's Globals: the TLS roots from one bundle file (this machine's).
        None => {
            if let Some(bundle) = CA_BUNDLES.iter().find(|path| Path::new(path).is_file()) {
                env.push(("SSL_CERT_FILE".into(), (*bundle).to_owned()));
            }
        }
    }
    env
}

/// provided.al2023's CA bundle (what the template names), then Debian's.
const CA_BUNDLES: &[&str] = &[
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/certs/ca-certificates.crt",
];

async fn run(options: &Options) -> Result<(), String> {
    std::fs::create_dir_all(&options.out).map_err(|e| format!("{}: {e}", options.out.display()))?;
    eprintln!("starting DynamoDB Local (in memory)");
    // Steady-state latency is what is measured: the JVM tuned for it (see steady_state).
    let dynamodb_options = DynamoDbLocalOptions {
        steady_state: true,
        ..DynamoDbLocalOptions::in_memory().map_err(|e| e.to_string())?
    };
    let dynamodb = tokio::task::spawn_blocking(move || DynamoDbLocal::start(&dynamodb_options))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let endpoint = dynamodb.endpoint().to_owned();
    let template = template_path();

    // Each implementation gets its own tables, seeded alike: alice has 10 notes.
    let ours = fresh_tables_at(&endpoint, &template)
        .await
        .map_err(|e| e.to_string())?;
    let python_tables = fresh_tables_at(&endpoint, &template)
        .await
        .map_err(|e| e.to_string())?;
    let node_tables = fresh_tables_at(&endpoint, &template)
        .await
        .map_err(|e| e.to_string())?;
    seed::our_notes(&ours, "alice", 10).await?;
    let python_posts = seed::baseline_posts_table(&python_tables.client).await?;
    let node_posts = seed::baseline_posts_table(&node_tables.client).await?;
    for tables in [&python_tables, &node_tables] {
        seed::baseline_notes(tables, "alice", 10).await?;
    }
    // Whoever is measured first must not pay for DynamoDB Local's JIT warm-up.
    eprintln!("warming up DynamoDB Local");
    seed::warm_up(&ours, 3_000).await?;

    let key = SigningKey::generate().map_err(|e| e.to_string())?;
    let jwks_server = JwksServer::start(jwks(&[&key]))
        .await
        .map_err(|e| e.to_string())?;
    let token = TokenSpec {
        expires_in: 6 * 3600,
        ..TokenSpec::new("alice")
    }
    .mint(&key)
    .map_err(|e| e.to_string())?;
    let authorizer_event = with_field(
        fixture("authorizer.json")?,
        "authorizationToken",
        Value::from(format!("Bearer {token}")),
    );

    let list_event = fixture("list-notes.json")?;
    let note_event = with_body(
        fixture("create-note.json")?,
        &json!({"NoteId": "bench", "Note": "A note written by the benchmark"}),
    );
    let post_event = fixture("create-post.json")?;

    // Dictate against moto's S3 and the local Polly, as under `make dev`, for a seeded note. The
    // first invocation synthesizes; every later one (warm, and each fresh process of the cold
    // runs) finds the audio and only presigns: GetItem + HeadObject + presign, the path of a
    // repeated request. Synthesis time is Polly's (espeak-ng here), not ours, so it is not timed.
    let moto = tokio::task::spawn_blocking(|| CognitoLocal::start(None))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let s3_endpoint = moto.endpoint().to_owned();
    {
        let endpoint = s3_endpoint.clone();
        tokio::task::spawn_blocking(move || s3_local::ensure_bucket(&endpoint, LOCAL_AUDIO_BUCKET))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    }
    let polly = PollyLocal::start(None).await.map_err(|e| e.to_string())?;
    let dictate_event = dictate_event("seed-1")?;

    let ours_env = env_for(&ours, &endpoint, None);
    let mut dictate_env = ours_env.clone();
    dictate_env.extend(s3_local::audio_env(&s3_endpoint, LOCAL_AUDIO_BUCKET));
    dictate_env.push(("AWS_ENDPOINT_URL_POLLY".into(), polly.endpoint()));
    let python_env = env_for(&python_tables, &endpoint, Some(&python_posts));
    let node_env = env_for(&node_tables, &endpoint, Some(&node_posts));
    let hello = workspace_root().join("bench/baselines/rust-hello/target/lambda/rust-hello");
    let mut subjects = vec![
        rust_subject("list", "list", ours_env.clone(), list_event.clone())?,
        python_subject("list", &python_env, list_event.clone()),
        node_subject("list", &node_env, list_event),
        rust_subject(
            "createUpdate",
            "createUpdate",
            ours_env.clone(),
            note_event.clone(),
        )?,
        python_subject("createUpdate", &python_env, note_event.clone()),
        node_subject("createUpdate", &node_env, note_event),
        rust_subject("post", "post", ours_env.clone(), post_event.clone())?,
        python_subject("post", &python_env, post_event.clone()),
        node_subject("post", &node_env, post_event.clone()),
        rust_subject("dictate", "dictate", dictate_env, dictate_event)?,
        rust_subject(
            "authorizer",
            "authorizer",
            authorizer_env(&jwks_server.url()),
            authorizer_event,
        )?,
    ];
    subjects.push(Subject {
        function: "hello",
        runtime: "Rust",
        program: hello.join("bootstrap"),
        args: Vec::new(),
        env: Vec::new(),
        event: json!({}),
        binary_bytes: file_size(&hello.join("bootstrap")),
        zip_bytes: file_size(&hello.join("bootstrap.zip")),
    });

    if let Some(only) = &options.only {
        subjects.retain(|subject| only.iter().any(|name| name == subject.function));
    }
    let measurements = measure_all(&subjects, options.cold, options.warm).await?;
    eprintln!(
        "  dictate: {} synthesis by the local Polly (then reused)",
        polly.synthesis_count()
    );
    for m in &measurements {
        eprintln!(
            "  {} ({}): cold start median {:.1} ms, warm p50 {:.2} ms",
            m.function,
            m.runtime,
            median(&m.cold_start_ms),
            median(&m.warm_ms)
        );
    }

    if options.only.is_some() {
        let results = Results::new(
            options.cold,
            options.warm,
            measurements,
            Vec::new(),
            Vec::new(),
        );
        println!("{}", results.markdown());
        return Ok(());
    }

    eprintln!("cost growth: POST /post with 10, 1,000 and 10,000 existing posts");
    let proxy = CapacityProxy::start(&endpoint)
        .await
        .map_err(|e| e.to_string())?;
    let mut cost = Vec::new();
    for existing in [10_u64, 1_000, 10_000] {
        let ours = fresh_tables_at(&endpoint, &template)
            .await
            .map_err(|e| e.to_string())?;
        seed::our_posts(&ours, existing).await?;
        let theirs = fresh_tables_at(&endpoint, &template)
            .await
            .map_err(|e| e.to_string())?;
        let baseline_table = seed::baseline_posts_table(&theirs.client).await?;
        seed::baseline_posts(&theirs.client, &baseline_table, existing).await?;
        let ours_subject = rust_subject(
            "post",
            "post",
            env_for(&ours, proxy.endpoint(), None),
            post_event.clone(),
        )?;
        let theirs_subject = python_subject(
            "post",
            &env_for(&theirs, proxy.endpoint(), Some(&baseline_table)),
            post_event.clone(),
        );
        for subject in [&ours_subject, &theirs_subject] {
            cost.push(cost_point(subject, &proxy, existing).await?);
        }
    }
    drop(proxy);

    eprintln!("lost posts: 100 concurrent POST /post over 10 sandboxes");
    let mut lost = Vec::new();
    {
        let ours = fresh_tables_at(&endpoint, &template)
            .await
            .map_err(|e| e.to_string())?;
        let subject = rust_subject(
            "post",
            "post",
            env_for(&ours, &endpoint, None),
            post_event.clone(),
        )?;
        let (acknowledged, _) = concurrent_posts(&subject, 100, 10).await?;
        // Less the id counter item.
        let stored = seed::count_items(&ours.client, &ours.posts_table)
            .await?
            .saturating_sub(1);
        lost.push(LostPosts {
            runtime: "Rust",
            submitted: 100,
            acknowledged,
            stored,
        });
        let theirs = fresh_tables_at(&endpoint, &template)
            .await
            .map_err(|e| e.to_string())?;
        let table = seed::baseline_posts_table(&theirs.client).await?;
        let subject = python_subject(
            "post",
            &env_for(&theirs, &endpoint, Some(&table)),
            post_event.clone(),
        );
        let (acknowledged, _) = concurrent_posts(&subject, 100, 10).await?;
        let stored = seed::count_items(&theirs.client, &table).await?;
        lost.push(LostPosts {
            runtime: "Python",
            submitted: 100,
            acknowledged,
            stored,
        });
    }

    let results = Results::new(options.cold, options.warm, measurements, cost, lost);
    let table = results.markdown();
    println!("{table}");
    let write = |name: &str, contents: &str| {
        let path = options.out.join(name);
        std::fs::write(&path, contents).map_err(|e| format!("{}: {e}", path.display()))
    };
    write("results.md", &table)?;
    write(
        "results.json",
        &serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?,
    )?;
    write("chart.svg", &results.svg())?;
    eprintln!(
        "wrote results.md, results.json and chart.svg to {}",
        options.out.display()
    );
    drop(dynamodb);
    Ok(())
}

/// `POST /post` latency and DynamoDB usage per post, with `existing` posts in the table.
async fn cost_point(
    subject: &Subject,
    proxy: &CapacityProxy,
    existing: u64,
) -> Result<CostPoint, String> {
    const POSTS: usize = 20;
    let sandbox = subject.start().await?;
    // The first post pays for connections; it is not counted.
    subject.invoke(&sandbox).await?;
    let _ = proxy.take();
    let mut latencies = Vec::with_capacity(POSTS);
    for _ in 0..POSTS {
        let invocation = subject.invoke(&sandbox).await?;
        latencies.push(invocation.duration.as_secs_f64() * 1_000.0);
    }
    let usage = proxy.take();
    sandbox.stop().await;
    Ok(CostPoint {
        runtime: subject.runtime,
        existing_posts: existing,
        p50_ms: median(&latencies),
        capacity_units_per_post: usage.total_capacity() / POSTS as f64,
        calls_per_post: usage.total_calls() as f64 / POSTS as f64,
        usage,
    })
}

/// `count` posts at once over `sandboxes` warm processes; the number acknowledged with a 201.
async fn concurrent_posts(
    subject: &Subject,
    count: usize,
    sandboxes: usize,
) -> Result<(u64, Duration), String> {
    let mut started = Vec::new();
    for _ in 0..sandboxes {
        started.push(Arc::new(subject.start().await?));
    }
    let began = std::time::Instant::now();
    let tasks: Vec<_> = (0..count)
        .zip(started.iter().cycle())
        .map(|(i, sandbox)| {
            let sandbox = Arc::clone(sandbox);
            let event = with_body(
                subject.event.clone(),
                &json!({"title": format!("concurrent {i}"), "contents": format!("post number {i}")}),
            );
            tokio::spawn(async move { sandbox.invoke(&event).await })
        })
        .collect();
    let mut acknowledged = 0;
    for task in tasks {
        if let Ok(Ok(invocation)) = task.await
            && succeeded(&invocation.outcome)
        {
            acknowledged += 1;
        }
    }
    let took = began.elapsed();
    for sandbox in started {
        if let Ok(sandbox) = Arc::try_unwrap(sandbox) {
            sandbox.stop().await;
        }
    }
    Ok((acknowledged, took))
}
