//! `make bench`: the release functions, as deployed, against the tutorials' Python and Node
//! handlers, all through the same Lambda Runtime API emulator and the same DynamoDB Local.
//!
//! Measures per function cold start (init and first invocation) over fresh processes, over plain
//! HTTP to DynamoDB Local and over TLS as in AWS (a TLS endpoint on loopback whose certificate
//! comes from a CA made for the run, the only one each subject trusts), with and without the
//! DynamoDB connection opened at init; warm latency percentiles over TLS and, from the time each
//! invocation spent behind the recording proxies, the function's own time; peak RSS, binary and
//! zip size; the bill of a million requests; then the cost of `POST /post` as the board grows
//! (latency and consumed capacity at 10, 1,000 and 10,000 posts) and the posts lost under
//! concurrency. Prints a table, writes `results.json`, `results.md` and `chart.svg`, and checks
//! the targets. A benchmark, not a test: it prints figures and fails only if something does not
//! run.

mod measure;
mod proxy;
mod report;
mod seed;
mod tls;

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

use crate::measure::{Subject, measure_cold, measure_warm, median, succeeded};
use crate::proxy::RecordingProxy;
use crate::report::{CostPoint, LostPosts, Measurement, Results, WarmUpComparison};
use crate::tls::RunCa;

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
        cold: 20,
        warm: 1_000,
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
                return Err("usage: notes-bench [--cold N (20)] [--warm N (1000)] [--out DIR] [--only list,authorizer,...]".into());
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if options.cold < 20 || options.warm < 1_000 {
        eprintln!("note: fewer than 20 cold or 1,000 warm runs: figures for a quick look only");
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
        variant: "",
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

fn python_subject(
    function: &'static str,
    env: &[(String, String)],
    ca: Option<&Path>,
    event: Value,
) -> Subject {
    let root = workspace_root().join("bench/baselines/python");
    let mut env = env.to_vec();
    env.push(("LAMBDA_TASK_ROOT".into(), root.display().to_string()));
    env.push(("PYTHONPATH".into(), root.display().to_string()));
    // botocore's CA bundle for every client, as a Lambda function is given one.
    if let Some(ca) = ca {
        env.push(("AWS_CA_BUNDLE".into(), ca.display().to_string()));
    }
    Subject {
        function,
        runtime: "Python",
        variant: "",
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

fn node_subject(
    function: &'static str,
    env: &[(String, String)],
    ca: Option<&Path>,
    event: Value,
) -> Subject {
    let root = workspace_root().join("bench/baselines/node");
    let mut env = env.to_vec();
    env.push(("LAMBDA_TASK_ROOT".into(), root.display().to_string()));
    // Node adds these to its own roots (the only way to name a CA to the SDK's default agent).
    if let Some(ca) = ca {
        env.push(("NODE_EXTRA_CA_CERTS".into(), ca.display().to_string()));
    }
    // The Node runtime client loads the handler from its working directory, as Lambda starts it
    // in /var/task; `exec` keeps the process id, so the memory read is node's own.
    let command = format!(
        "cd '{}' && exec node node_modules/aws-lambda-ric/bin/index.mjs {function}.handler",
        root.display()
    );
    Subject {
        function,
        runtime: "Node",
        variant: "",
        program: PathBuf::from("sh"),
        args: vec!["-c".into(), command],
        env,
        event,
        binary_bytes: None,
        zip_bytes: None,
    }
}

/// The same environment the template gives a function, pointing at `endpoint` instead; ours
/// trust `ca` alone when it is given (the TLS run), else this machine's bundle.
fn env_for(
    tables: &TestTables,
    endpoint: &str,
    baseline_posts: Option<&str>,
    ca: Option<&Path>,
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
        // As template.yaml's Globals: the TLS roots from one bundle file, the run's CA or this
        // machine's.
        None => match ca {
            Some(ca) => env.push(("SSL_CERT_FILE".into(), ca.display().to_string())),
            None => {
                if let Some(bundle) = CA_BUNDLES.iter().find(|path| Path::new(path).is_file()) {
                    env.push(("SSL_CERT_FILE".into(), (*bundle).to_owned()));
                }
            }
        },
    }
    env
}

/// provided.al2023's CA bundle (what the template names), then Debian's.
const CA_BUNDLES: &[&str] = &[
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/certs/ca-certificates.crt",
];

/// Our functions that talk to DynamoDB (the ones whose connection can be opened at init).
const DYNAMODB_FUNCTIONS: [&str; 4] = ["list", "createUpdate", "post", "dictate"];
/// notes_dynamodb::CONNECT_AT_INIT_VARIABLE, as the functions read it.
const CONNECT_AT_INIT: &str = "DYNAMODB_CONNECT_AT_INIT";
const AT_INIT: &str = "connection opened at init";
const BY_FIRST_REQUEST: &str = "connection opened by the first request";

/// What every run shares: the tables, their seeds and the events.
struct Setup {
    ours: TestTables,
    python_tables: TestTables,
    node_tables: TestTables,
    python_posts: String,
    node_posts: String,
    list_event: Value,
    note_event: Value,
    post_event: Value,
    dictate_event: Value,
    authorizer_event: Value,
    jwks_url: String,
}

/// Where the subjects of one run find the services, and the CA they trust (TLS) or none.
struct Endpoints<'a> {
    dynamodb: &'a str,
    s3: &'a str,
    polly: &'a str,
    ca: Option<&'a Path>,
}

/// Every implementation of every function, pointed at `endpoints`: the same list, in the same
/// order, for each run.
fn subjects(setup: &Setup, endpoints: &Endpoints<'_>) -> Result<Vec<Subject>, String> {
    let ca = endpoints.ca;
    let ours_env = env_for(&setup.ours, endpoints.dynamodb, None, ca);
    // Dictate against moto's S3 and the local Polly, as under `make dev`, for a seeded note. The
    // first invocation synthesizes; every later one (warm, and each fresh process of the cold
    // runs) finds the audio and only presigns: GetItem + HeadObject + presign, the path of a
    // repeated request. Synthesis time is Polly's (espeak-ng here), not ours, so it is not timed.
    let mut dictate_env = ours_env.clone();
    dictate_env.extend(s3_local::audio_env(endpoints.s3, LOCAL_AUDIO_BUCKET));
    dictate_env.push(("AWS_ENDPOINT_URL_POLLY".into(), endpoints.polly.to_owned()));
    let python_env = env_for(
        &setup.python_tables,
        endpoints.dynamodb,
        Some(&setup.python_posts),
        None,
    );
    let node_env = env_for(
        &setup.node_tables,
        endpoints.dynamodb,
        Some(&setup.node_posts),
        None,
    );
    let hello = workspace_root().join("bench/baselines/rust-hello/target/lambda/rust-hello");
    let mut subjects = vec![
        rust_subject("list", "list", ours_env.clone(), setup.list_event.clone())?,
        python_subject("list", &python_env, ca, setup.list_event.clone()),
        node_subject("list", &node_env, ca, setup.list_event.clone()),
        rust_subject(
            "createUpdate",
            "createUpdate",
            ours_env.clone(),
            setup.note_event.clone(),
        )?,
        python_subject("createUpdate", &python_env, ca, setup.note_event.clone()),
        node_subject("createUpdate", &node_env, ca, setup.note_event.clone()),
        rust_subject("post", "post", ours_env.clone(), setup.post_event.clone())?,
        python_subject("post", &python_env, ca, setup.post_event.clone()),
        node_subject("post", &node_env, ca, setup.post_event.clone()),
        rust_subject(
            "dictate",
            "dictate",
            dictate_env,
            setup.dictate_event.clone(),
        )?,
        rust_subject(
            "authorizer",
            "authorizer",
            authorizer_env(&setup.jwks_url),
            setup.authorizer_event.clone(),
        )?,
    ];
    subjects.push(Subject {
        function: "hello",
        runtime: "Rust",
        variant: "",
        program: hello.join("bootstrap"),
        args: Vec::new(),
        env: Vec::new(),
        event: json!({}),
        binary_bytes: file_size(&hello.join("bootstrap")),
        zip_bytes: file_size(&hello.join("bootstrap.zip")),
    });
    Ok(subjects)
}

/// Certificate variables a subject would inherit from this process, which no Lambda sandbox has:
/// with `SSL_CERT_DIR` our functions read a whole certificate directory besides the run's CA
/// (milliseconds of init), and the baselines load bundles they are not given. scripts/bench.sh
/// unsets them; each subject is given only the variable of its TLS run.
const INHERITED_CA_VARIABLES: [&str; 6] = [
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "AWS_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
];

async fn run(options: &Options) -> Result<(), String> {
    let inherited: Vec<&str> = INHERITED_CA_VARIABLES
        .into_iter()
        .filter(|name| std::env::var_os(name).is_some())
        .collect();
    if !inherited.is_empty() {
        eprintln!(
            "warning: {} set in this environment, and so in every subject's, as in no Lambda sandbox: TLS figures do not hold (`make bench` unsets them; `cargo run` sets the first two)",
            inherited.join(", ")
        );
    }
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

    // moto's S3 and the local Polly, for dictate.
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

    // The TLS endpoints, as AWS's: one recording proxy per service, with a certificate of a CA
    // made for this run; every subject of the TLS run trusts that CA alone.
    let ca =
        RunCa::generate(&std::env::temp_dir().join(format!("notes-bench-{}", std::process::id())))?;
    let tls_proxy = |upstream: String| {
        let config = ca.server_config();
        async move {
            RecordingProxy::start(&upstream, Some(config))
                .await
                .map_err(|e| e.to_string())
        }
    };
    let dynamodb_tls = tls_proxy(endpoint.clone()).await?;
    let s3_tls = tls_proxy(s3_endpoint.clone()).await?;
    let polly_tls = tls_proxy(polly.endpoint()).await?;

    let setup = Setup {
        ours,
        python_tables,
        node_tables,
        python_posts,
        node_posts,
        list_event,
        note_event,
        post_event: post_event.clone(),
        dictate_event,
        authorizer_event,
        jwks_url: jwks_server.url(),
    };
    let polly_endpoint = polly.endpoint();
    let plain = Endpoints {
        dynamodb: &endpoint,
        s3: &s3_endpoint,
        polly: &polly_endpoint,
        ca: None,
    };
    let tls = Endpoints {
        dynamodb: dynamodb_tls.endpoint(),
        s3: s3_tls.endpoint(),
        polly: polly_tls.endpoint(),
        ca: Some(ca.bundle()),
    };
    let mut plain_subjects = subjects(&setup, &plain)?;
    let mut tls_subjects = subjects(&setup, &tls)?;
    // Ours over TLS with the DynamoDB connection opened at init, and without, said explicitly
    // whatever the binaries' default is.
    let mut warm_up_subjects = Vec::new();
    for subject in &tls_subjects {
        if subject.runtime == "Rust" && DYNAMODB_FUNCTIONS.contains(&subject.function) {
            for (variant, value) in [(AT_INIT, "true"), (BY_FIRST_REQUEST, "false")] {
                let mut variant_subject = subject.clone();
                variant_subject.variant = variant;
                variant_subject
                    .env
                    .push((CONNECT_AT_INIT.to_owned(), value.to_owned()));
                warm_up_subjects.push(variant_subject);
            }
        }
    }
    if let Some(only) = &options.only {
        let keep = |subject: &Subject| only.iter().any(|name| name == subject.function);
        plain_subjects.retain(keep);
        tls_subjects.retain(keep);
        warm_up_subjects.retain(keep);
    }

    // One set of interleaved rounds for all three, so that plain HTTP, TLS and the connection
    // opened at init are compared under the same conditions.
    eprintln!(
        "plain HTTP to DynamoDB Local, and TLS as in AWS (with and without the DynamoDB connection opened at init):"
    );
    let mut plain_cold = measure_cold(
        &plain_subjects
            .iter()
            .chain(&tls_subjects)
            .chain(&warm_up_subjects)
            .collect::<Vec<_>>(),
        options.cold,
    )
    .await?;
    let mut tls_cold = plain_cold.split_off(plain_subjects.len());
    let warm_up_cold = tls_cold.split_off(tls_subjects.len());
    let tls_warm = measure_warm(
        &tls_subjects.iter().collect::<Vec<_>>(),
        options.warm,
        &[&dynamodb_tls, &s3_tls, &polly_tls],
    )
    .await?;
    eprintln!(
        "  dictate: {} synthesis by the local Polly (then reused)",
        polly.synthesis_count()
    );
    let measurements: Vec<Measurement> = tls_subjects
        .iter()
        .zip(plain_cold)
        .zip(tls_cold)
        .zip(tls_warm)
        .map(|(((subject, plain), tls), warm)| Measurement {
            function: subject.function,
            runtime: subject.runtime,
            plain,
            tls,
            warm,
            binary_bytes: subject.binary_bytes,
            zip_bytes: subject.zip_bytes,
        })
        .collect();
    let mut warm_up = Vec::new();
    for (pair, cold) in warm_up_subjects.chunks(2).zip(warm_up_cold.chunks(2)) {
        if let ([at_init, _], [with, without]) = (pair, cold) {
            warm_up.push(WarmUpComparison {
                function: at_init.function,
                at_init: with.clone(),
                by_first_request: without.clone(),
            });
        }
    }
    for m in &measurements {
        eprintln!(
            "  {} ({}): cold start median {:.1} ms plain, {:.1} ms TLS; warm p50 {:.2} ms, own {:.2} ms",
            m.function,
            m.runtime,
            median(&m.plain.cold_start_ms),
            median(&m.tls.cold_start_ms),
            median(&m.warm.duration_ms),
            median(&m.warm.own_ms()),
        );
    }
    drop((dynamodb_tls, s3_tls, polly_tls));

    if options.only.is_some() {
        let results = Results::new(
            options.cold,
            options.warm,
            measurements,
            warm_up,
            Vec::new(),
            Vec::new(),
        );
        println!("{}", results.markdown());
        return Ok(());
    }

    eprintln!("cost growth: POST /post with 10, 1,000 and 10,000 existing posts");
    let proxy = RecordingProxy::start(&endpoint, None)
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
            env_for(&ours, proxy.endpoint(), None, None),
            post_event.clone(),
        )?;
        let theirs_subject = python_subject(
            "post",
            &env_for(&theirs, proxy.endpoint(), Some(&baseline_table), None),
            None,
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
            env_for(&ours, &endpoint, None, None),
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
            &env_for(&theirs, &endpoint, Some(&table), None),
            None,
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

    let results = Results::new(
        options.cold,
        options.warm,
        measurements,
        warm_up,
        cost,
        lost,
    );
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
    proxy: &RecordingProxy,
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
    let usage = proxy.take().usage;
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
