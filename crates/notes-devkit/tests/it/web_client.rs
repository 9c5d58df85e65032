//! The web client's dev-kit side: `notes-dev web-config` on a recorded `describe-stacks` answer
//! (no AWS is reachable here), and the static server `make dev` serves `web/` with.

use std::path::PathBuf;
use std::time::Duration;

use notes_devkit::web_client::{
    WebConfig, WebServer, WebServerConfig, cognito_library_file, local_content_security_policy,
};
use serde_json::Value;

fn recorded_outputs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
        .join("describe-stacks.json")
}

fn temp_file(name: &str) -> PathBuf {
    std::env::temp_dir()
        .join(format!("notes-web-{}", uuid::Uuid::new_v4().simple()))
        .join(name)
}

/// The JSON inside `window.NOTES_CONFIG = Object.freeze(...);`.
fn config_of(script: &str) -> Value {
    let (_, rest) = script.split_once("Object.freeze(").unwrap();
    let (json_text, _) = rest.rsplit_once(");").unwrap();
    serde_json::from_str(json_text).unwrap()
}

#[test]
fn the_recorded_outputs_document_has_every_output_of_the_template() {
    let template: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(notes_devkit::template_path()).unwrap())
            .unwrap();
    let mut expected: Vec<String> = template["Outputs"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    let recorded: Value =
        serde_json::from_str(&std::fs::read_to_string(recorded_outputs()).unwrap()).unwrap();
    let mut keys: Vec<String> = recorded["Stacks"][0]["Outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["OutputKey"].as_str().unwrap().to_owned())
        .collect();
    expected.sort();
    keys.sort();
    assert_eq!(
        keys, expected,
        "tests/data/describe-stacks.json must follow template.yaml's Outputs"
    );
}

#[test]
fn web_config_writes_the_page_configuration_from_a_stack_s_outputs() {
    let binary = env!("CARGO_BIN_EXE_notes-dev");
    let run = |args: &[&str]| {
        std::process::Command::new(binary)
            .arg("web-config")
            .args(args)
            .output()
            .unwrap()
    };
    let outputs = recorded_outputs();
    let outputs = outputs.to_str().unwrap();

    let rest_file = temp_file("config.js");
    let rest = run(&["--outputs", outputs, "--out", rest_file.to_str().unwrap()]);
    assert!(rest.status.success(), "{rest:?}");
    let stderr = String::from_utf8_lossy(&rest.stderr);
    assert!(
        stderr.contains("ApiKeyRequired=false"),
        "the REST API without a key is explained: {stderr}"
    );
    assert_eq!(
        config_of(&std::fs::read_to_string(&rest_file).unwrap()),
        serde_json::json!({
            "apiUrl": "https://r8m2n4p6qs.execute-api.eu-west-1.amazonaws.com/Prod",
            "apiKey": "",
            "region": "eu-west-1",
            "userPoolId": "eu-west-1_Xy7Zq9WvR",
            "clientId": "5f2kq8r1t3v6x9z0b4d7g2j5m8",
            "cognitoEndpoint": null,
        })
    );

    let http_file = temp_file("config.js");
    let http = run(&[
        "--outputs",
        outputs,
        "--api",
        "http",
        "--out",
        http_file.to_str().unwrap(),
    ]);
    assert!(http.status.success(), "{http:?}");
    let http_config = config_of(&std::fs::read_to_string(&http_file).unwrap());
    assert_eq!(
        http_config["apiUrl"],
        "https://k3v9q2w7xa.execute-api.eu-west-1.amazonaws.com/Prod"
    );

    // A document that is not a stack's: a clear refusal, and no file.
    let wrong = temp_file("wrong.json");
    std::fs::create_dir_all(wrong.parent().unwrap()).unwrap();
    std::fs::write(
        &wrong,
        r#"{"Stacks": [{"StackName": "other", "Outputs": []}]}"#,
    )
    .unwrap();
    let not_written = temp_file("config.js");
    let refused = run(&[
        "--outputs",
        wrong.to_str().unwrap(),
        "--out",
        not_written.to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("no output ApiUrl"), "{stderr}");
    assert!(!not_written.exists());
}

#[tokio::test]
async fn the_static_server_serves_the_page_its_config_and_the_cognito_library_only() {
    let config_file = temp_file("config.js");
    WebConfig::local(
        "http://127.0.0.1:4000",
        None,
        "us-east-1_abc",
        "client1",
        "http://127.0.0.1:9229",
    )
    .write(&config_file)
    .unwrap();
    let server = WebServer::start(WebServerConfig {
        port: 0,
        root: notes_devkit::workspace_root().join("web"),
        config_file: config_file.clone(),
        cognito_library: cognito_library_file(),
        content_security_policy: local_content_security_policy(4000, 9229),
    })
    .await
    .unwrap();
    let origin = server.origin();
    let answers = tokio::task::spawn_blocking(move || {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .new_agent();
        let mut answers = Vec::new();
        for (method, path, expected_status) in [
            ("GET", "/", 200),
            ("GET", "/config.js", 200),
            ("GET", "/vendor/amazon-cognito-identity.min.js", 200),
            ("GET", "/js/app.js", 200),
            ("GET", "/css/app.css", 200),
            ("GET", "/../Cargo.toml", 404),
            ("GET", "/%2e%2e/Cargo.toml", 404),
            ("GET", "/.gitignore", 404),
            ("GET", "/no-such-file.js", 404),
            ("POST", "/", 405),
        ] {
            let url = format!("{origin}{path}");
            let response = match method {
                "POST" => agent.post(&url).send_empty(),
                _ => agent.get(&url).call(),
            };
            let mut response = response.unwrap();
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            };
            let (content_type, nosniff, csp, referrer) = (
                header("content-type"),
                header("x-content-type-options"),
                header("content-security-policy"),
                header("referrer-policy"),
            );
            let status = response.status().as_u16();
            let body = response.body_mut().read_to_string().unwrap_or_default();
            answers.push((
                path,
                expected_status,
                status,
                content_type,
                (nosniff, csp, referrer),
                body,
            ));
        }
        answers
    })
    .await
    .unwrap();
    // The whole policy, exactly: loopback origins of this make dev only (its API on 4000, moto
    // on 9229 as Cognito and S3), never a wildcard port or another host, and never framed.
    let expected_csp = "default-src 'self'; script-src 'self'; style-src 'self'; \
                        img-src 'self' data:; media-src http://127.0.0.1:9229; \
                        connect-src 'self' http://127.0.0.1:4000 http://127.0.0.1:9229; \
                        object-src 'none'; base-uri 'none'; form-action 'self'; \
                        frame-ancestors 'none'";
    for (path, expected, status, content_type, (nosniff, csp, referrer), body) in &answers {
        assert_eq!(status, expected, "{path}: {body}");
        if *status == 200 {
            assert_eq!(nosniff, "nosniff", "{path}");
            assert_eq!(csp, expected_csp, "{path}");
            assert_eq!(referrer, "no-referrer", "{path}");
            let wanted = match *path {
                "/" => "text/html; charset=utf-8",
                "/css/app.css" => "text/css; charset=utf-8",
                _ => "text/javascript; charset=utf-8",
            };
            assert_eq!(content_type, wanted, "{path}");
        }
    }
    let by_path = |wanted: &str| {
        answers
            .iter()
            .find(|(path, _, status, ..)| *path == wanted && *status == 200)
            .map(|answer| answer.5.clone())
            .unwrap()
    };
    let page = by_path("/");
    assert!(page.contains("PollyNotes"), "the page itself");
    // The header is the page's one policy: a `<meta>` policy would be enforced as well, and the
    // page's files are the same for every deployment, so it could name no deployment's origins.
    assert!(
        !page.contains("Content-Security-Policy"),
        "no <meta> policy in index.html"
    );
    assert_eq!(
        config_of(&by_path("/config.js"))["clientId"],
        "client1",
        "config.js is the file make dev wrote"
    );
    assert!(by_path("/vendor/amazon-cognito-identity.min.js").contains("CognitoUserPool"));
    let _ = std::fs::remove_dir_all(config_file.parent().unwrap());
}

/// While `make dev` starts, the page's configuration is not written yet: `/config.js` tells the
/// page that the backend is starting (and not that it has no configuration), then serves the
/// configuration as soon as it is written, without a restart of the server.
#[tokio::test]
async fn config_js_says_starting_until_the_configuration_is_written() {
    let config_file = temp_file("config.js");
    let server = WebServer::start(WebServerConfig {
        port: 0,
        root: notes_devkit::workspace_root().join("web"),
        config_file: config_file.clone(),
        cognito_library: cognito_library_file(),
        content_security_policy: local_content_security_policy(4000, 9229),
    })
    .await
    .unwrap();
    let url = format!("{}/config.js", server.origin());
    let fetch = |url: String| {
        tokio::task::spawn_blocking(move || {
            let mut response = ureq::get(&url).call().unwrap();
            response.body_mut().read_to_string().unwrap()
        })
    };
    let starting = fetch(url.clone()).await.unwrap();
    assert_eq!(starting, notes_devkit::web_client::BACKEND_STARTING_SCRIPT);
    assert!(starting.contains("window.NOTES_BACKEND_STARTING = true"));
    WebConfig::local(
        "http://127.0.0.1:4000",
        None,
        "us-east-1_abc",
        "client1",
        "http://127.0.0.1:9229",
    )
    .write(&config_file)
    .unwrap();
    let configured = fetch(url).await.unwrap();
    assert!(configured.contains("NOTES_CONFIG"), "{configured}");
    assert!(
        !configured.contains("NOTES_BACKEND_STARTING"),
        "{configured}"
    );
}
