//! The local API over real HTTP: every route and every authorizer outcome, API keys, the
//! authorizer cache, CORS, API Gateway's own errors, two users' isolation, the WAF web ACL's
//! per-caller rate limit, and the README's walkthrough executed as written; and the HTTP API
//! flavour (`make dev API=http`).

use std::time::Duration;

use notes_devkit::binaries::function_binary;
use std::sync::Arc;

use notes_devkit::issuer::{
    JwksServer, LOCAL_CLIENT_ID, LOCAL_ISSUER, SigningKey, TokenSpec, authorizer_env, jwks,
};
use notes_devkit::jwt_authorizer::JwtAuthorizer;
use notes_devkit::local_api::{
    ApiSpec, DEFAULT_AUTHORIZER_CACHE_TTL, Front, LocalApi, LocalApiConfig,
};
use notes_devkit::tables::template_path;
use notes_devkit::testing::{HttpReply, fresh_tables, http_request};
use notes_devkit::waf_rate_limit::{RETRY_AFTER_SECONDS, RateLimit, refusal_body};
use serde_json::{Value, json};

const ORIGIN: &str = "http://localhost:3000";
/// A second allowed origin, as `make dev` allows several (the labs' dev server and our page).
const SECOND_ORIGIN: &str = "http://127.0.0.1:8080";

struct Api {
    api: LocalApi,
    key: SigningKey,
    _jwks: JwksServer,
    _s3: notes_devkit::testing::TestAudio,
}

struct Options {
    api_key: Option<&'static str>,
    cache_ttl: Duration,
    authorizer_extra: Vec<(String, String)>,
    key: Option<SigningKey>,
    port: u16,
    allowed_origins: Option<&'static str>,
    /// Serve the HTTP API (API Gateway's JWT authorizer) instead of the REST API.
    http: bool,
    /// The web ACL's per-caller limit in front of the REST API.
    rate_limit: Option<RateLimit>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            api_key: None,
            cache_ttl: DEFAULT_AUTHORIZER_CACHE_TTL,
            authorizer_extra: Vec::new(),
            key: None,
            port: 0,
            allowed_origins: None,
            http: false,
            rate_limit: None,
        }
    }
}

async fn start(options: Options) -> Api {
    let key = match options.key {
        Some(key) => key,
        None => SigningKey::generate().unwrap(),
    };
    let jwks_server = JwksServer::start(jwks(&[&key])).await.unwrap();
    let tables = fresh_tables().await.unwrap();
    let binaries_dir = function_binary("list")
        .unwrap()
        .parent()
        .unwrap()
        .to_owned();
    let (s3, function_env) = crate::with_audio_bucket(tables.function_env()).await;
    let mut authorizer = authorizer_env(&jwks_server.url());
    authorizer.extend(options.authorizer_extra);
    let api = LocalApi::start(LocalApiConfig {
        port: options.port,
        spec: ApiSpec::from_template(&template_path()).unwrap(),
        binaries_dir,
        function_env,
        authorizer_env: authorizer,
        api_key: options.api_key.map(str::to_owned),
        authorizer_cache_ttl: options.cache_ttl,
        allowed_origin: options.allowed_origins.map(str::to_owned),
        rate_limit: options.rate_limit,
        front: if options.http {
            Front::Http(Arc::new(JwtAuthorizer::new(
                LOCAL_ISSUER,
                &[LOCAL_CLIENT_ID.to_owned()],
                &jwks_server.url(),
            )))
        } else {
            Front::Rest
        },
    })
    .await
    .unwrap();
    Api {
        api,
        key,
        _jwks: jwks_server,
        _s3: s3,
    }
}

type Reply = HttpReply;

/// What the matrix reads of a reply besides [`HttpReply`]'s own.
trait NextLink {
    /// The URL of `Link: <…>; rel="next"`; `None` on the last page.
    fn next_link(&self) -> Option<&str>;
}

impl NextLink for HttpReply {
    fn next_link(&self) -> Option<&str> {
        self.header("link")
            .and_then(notes_http::fixtures::next_link)
    }
}

impl Api {
    /// The path and query of an absolute URL on this server; any other URL fails the test.
    fn local_path(&self, url: &str) -> String {
        url.strip_prefix(&self.api.url())
            .unwrap_or_else(|| panic!("{url} is not on {}", self.api.url()))
            .to_owned()
    }

    fn token(&self, user: &str) -> String {
        format!("Bearer {}", TokenSpec::new(user).mint(&self.key).unwrap())
    }

    /// One HTTP request with a real client (blocking ureq, off the async runtime).
    async fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        let url = format!("{}{path}", self.api.url());
        http_request(method, &url, headers, body.map(|b| b.as_bytes().to_vec()))
            .await
            .unwrap()
    }

    async fn as_user(&self, user: &str, method: &str, path: &str, body: Option<Value>) -> Reply {
        let token = self.token(user);
        let body = body.map(|b| b.to_string());
        self.call(
            method,
            path,
            &[
                ("Authorization", &token),
                ("Content-Type", "application/json"),
            ],
            body.as_deref(),
        )
        .await
    }
}

fn note_ids(reply: &Reply) -> Vec<String> {
    crate::note_ids(&reply.body)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_through_http() {
    let api = start(Options::default()).await;

    let created = api
        .as_user("alice", "POST", "/notes", Some(json!({"Note": "Buy milk"})))
        .await;
    assert_eq!(created.status, 201, "{created:?}");
    let id = created.body["NoteId"].as_str().unwrap().to_owned();
    // Where the note is on this server (no stage: the local API serves at the root).
    assert_eq!(
        created.header("location"),
        Some(format!("/notes/{id}").as_str())
    );
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(created.header("content-type"), Some("application/json"));

    let listed = api.as_user("alice", "GET", "/notes?limit=10", None).await;
    assert_eq!((listed.status, note_ids(&listed)), (200, vec![id.clone()]));
    let found = api
        .as_user("alice", "GET", "/notes/search?text=MILK", None)
        .await;
    assert_eq!(note_ids(&found), [id.as_str()]);
    let read = api
        .as_user("alice", "GET", &format!("/notes/{id}"), None)
        .await;
    assert_eq!(
        (read.status, read.body["Note"].as_str()),
        (200, Some("Buy milk"))
    );

    let token = api.token("alice");
    let update = json!({"NoteId": id, "Note": "Buy oat milk"}).to_string();
    let headers = [
        ("Authorization", token.as_str()),
        ("Content-Type", "application/json"),
        ("If-Match", "\"1\""),
    ];
    assert_eq!(
        api.call("POST", "/notes", &headers, Some(&update))
            .await
            .status,
        200
    );
    assert_eq!(
        api.call("POST", "/notes", &headers, Some(&update))
            .await
            .status,
        409,
        "stale If-Match"
    );

    assert_eq!(
        api.as_user("alice", "DELETE", &format!("/notes/{id}"), None)
            .await
            .status,
        204
    );
    let again = api
        .as_user("alice", "DELETE", &format!("/notes/{id}"), None)
        .await;
    assert_eq!(
        (again.status, again.body["message"].is_string()),
        (404, true)
    );

    let post = api
        .as_user(
            "alice",
            "POST",
            "/post",
            Some(json!({"title": "Hello", "contents": "First"})),
        )
        .await;
    assert_eq!(
        (
            post.status,
            post.body["id"].as_u64(),
            post.body["author"].as_str()
        ),
        (201, Some(1), Some("alice"))
    );
    let posts = api.as_user("bob", "GET", "/post", None).await;
    assert_eq!(posts.body[0]["title"], "Hello");

    // The functions' own 4xx come through unchanged.
    let bad = api
        .call(
            "POST",
            "/notes",
            &[("Authorization", &token), ("Content-Type", "text/plain")],
            Some("hi"),
        )
        .await;
    assert_eq!(bad.status, 415);
    let invalid = api
        .call(
            "POST",
            "/notes",
            &[("Authorization", &token)],
            Some("{\"Note\": 5}"),
        )
        .await;
    assert_eq!(invalid.status, 400);
    assert!(
        invalid.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Note:")
    );
}

/// Follows `Link` headers from `path` as a client would (with the absolute URLs as given): the
/// ids of every page, and the links.
async fn every_page(api: &Api, user: &str, path: &str) -> (Vec<Vec<String>>, Vec<String>) {
    let (mut pages, mut links) = (Vec::new(), Vec::new());
    let mut path = path.to_owned();
    loop {
        let page = api.as_user(user, "GET", &path, None).await;
        assert_eq!(page.status, 200, "{path}: {page:?}");
        pages.push(note_ids(&page));
        let Some(link) = page.next_link() else {
            assert_eq!(page.header("link"), None, "no other Link on the last page");
            break;
        };
        links.push(link.to_owned());
        path = api.local_path(link);
        assert!(pages.len() < 10, "pagination does not end: {links:?}");
    }
    (pages, links)
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_are_bare_arrays_linked_by_absolute_urls_back_to_this_server() {
    let api = start(Options::default()).await;
    let mut created = Vec::new();
    for text in ["Buy milk", "Call mum", "Oat milk & honey"] {
        let reply = api
            .as_user("alice", "POST", "/notes", Some(json!({"Note": text})))
            .await;
        assert_eq!(reply.status, 201, "{reply:?}");
        let id = reply.body["NoteId"].as_str().unwrap().to_owned();
        let number: u64 = id
            .parse()
            .unwrap_or_else(|_| panic!("{id} is not an integer"));
        assert!(number <= notes_domain::MAX_SAFE_INTEGER, "{id}");
        created.push(id);
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();

    // One note per page: each exactly once, newest first, and the last page has no Link.
    let (pages, links) = every_page(&api, "alice", "/notes?limit=1").await;
    assert_eq!(pages.concat(), newest_first);
    assert_eq!(pages.len(), 3);
    let base = format!("{}/notes?limit=1&next=", api.api.url());
    assert!(links.iter().all(|l| l.starts_with(&base)), "{links:?}");

    // The labs' cleared search box: every note, paged the same way.
    let (pages, links) = every_page(&api, "alice", "/notes/search?text=&limit=2").await;
    assert_eq!(pages.concat(), newest_first);
    assert_eq!(pages.len(), 2);
    let base = format!("{}/notes/search?limit=2&text=&next=", api.api.url());
    assert!(links.iter().all(|l| l.starts_with(&base)), "{links:?}");
    let cleared = api
        .as_user("alice", "GET", "/notes/search?text=", None)
        .await;
    assert_eq!(note_ids(&cleared), newest_first);
    assert_eq!(cleared.next_link(), None);

    // A search text that needs encoding survives the round trip through the Link.
    let (pages, links) = every_page(&api, "alice", "/notes/search?text=milk%20%26&limit=1").await;
    assert_eq!(pages.concat(), [created[2].clone()]);
    assert!(links.is_empty(), "{links:?}");
    let (pages, links) = every_page(&api, "alice", "/notes/search?text=MILK&limit=1").await;
    assert_eq!(pages.concat(), [created[2].clone(), created[0].clone()]);
    assert!(links[0].contains("?limit=1&text=MILK&next="), "{links:?}");

    // A client cannot choose the scheme of the links: the gateway says how it was called.
    let spoofed = api
        .call(
            "GET",
            "/notes?limit=1",
            &[
                ("Authorization", &api.token("alice")),
                ("X-Forwarded-Proto", "https"),
            ],
            None,
        )
        .await;
    assert!(
        spoofed
            .next_link()
            .unwrap()
            .starts_with("http://127.0.0.1:"),
        "{spoofed:?}"
    );

    // Posts page the same way.
    for title in ["one", "two"] {
        let reply = api
            .as_user(
                "bob",
                "POST",
                "/post",
                Some(json!({"title": title, "contents": "c"})),
            )
            .await;
        assert_eq!(reply.status, 201);
    }
    let first = api.as_user("alice", "GET", "/post?limit=1", None).await;
    assert_eq!(first.body.as_array().unwrap().len(), 1, "{first:?}");
    let second = api
        .as_user(
            "alice",
            "GET",
            &api.local_path(first.next_link().unwrap()),
            None,
        )
        .await;
    assert_eq!(
        (second.body[0]["title"].as_str(), second.next_link()),
        (Some("one"), None)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn authorizer_outcomes_and_gateway_errors() {
    let api = start(Options {
        authorizer_extra: vec![("REQUIRED_GROUP".into(), "writers".into())],
        ..Options::default()
    })
    .await;
    let writer = format!(
        "Bearer {}",
        TokenSpec {
            groups: vec!["writers".into()],
            ..TokenSpec::new("alice")
        }
        .mint(&api.key)
        .unwrap()
    );
    let outsider = api.token("bob");
    let expired = format!(
        "Bearer {}",
        TokenSpec {
            expires_in: -600,
            ..TokenSpec::new("alice")
        }
        .mint(&api.key)
        .unwrap()
    );

    type Headers<'a> = Vec<(&'a str, &'a str)>;
    let cases: Vec<(&str, &str, Headers, u16, &str)> = vec![
        ("GET", "/notes", vec![], 401, "Unauthorized"),
        (
            "GET",
            "/notes",
            vec![("Authorization", "Bearer garbage")],
            401,
            "Unauthorized",
        ),
        (
            "GET",
            "/notes",
            vec![("Authorization", expired.as_str())],
            401,
            "Unauthorized",
        ),
        (
            "GET",
            "/notes",
            vec![("Authorization", outsider.as_str())],
            403,
            "User is not authorized to access this resource with an explicit deny",
        ),
        (
            "GET",
            "/nowhere",
            vec![("Authorization", writer.as_str())],
            403,
            "Missing Authentication Token",
        ),
        (
            "PUT",
            "/notes",
            vec![("Authorization", writer.as_str())],
            403,
            "Missing Authentication Token",
        ),
    ];
    for (method, path, mut headers, status, message) in cases {
        // A browser always names its origin on a cross-origin request.
        headers.push(("Origin", ORIGIN));
        let reply = api.call(method, path, &headers, None).await;
        assert_eq!(
            reply.status, status,
            "{method} {path} {headers:?}: {reply:?}"
        );
        assert_eq!(reply.body["message"], message, "{method} {path}");
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some(ORIGIN),
            "CORS on gateway errors"
        );
    }
    let ok = api
        .call(
            "GET",
            "/notes",
            &[("Authorization", &writer), ("Origin", ORIGIN)],
            None,
        )
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some(ORIGIN),
        "CORS on success"
    );

    let preflight = api
        .call(
            "OPTIONS",
            "/notes/abc",
            &[
                ("Origin", ORIGIN),
                ("Access-Control-Request-Method", "DELETE"),
            ],
            None,
        )
        .await;
    assert_eq!(preflight.status, 200);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some(ORIGIN)
    );
    assert!(
        preflight
            .header("access-control-allow-methods")
            .unwrap()
            .contains("DELETE")
    );
    assert!(
        preflight
            .header("access-control-allow-headers")
            .unwrap()
            .contains("Authorization")
    );

    let huge = "x".repeat(10 * 1024 * 1024 + 1);
    let too_long = api
        .call("POST", "/notes", &[("Authorization", &writer)], Some(&huge))
        .await;
    assert_eq!(too_long.status, 413);
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_and_the_authorizer_cache() {
    let api = start(Options {
        api_key: Some("local-key"),
        ..Options::default()
    })
    .await;
    let token = api.token("alice");
    let missing = api
        .call("GET", "/notes", &[("Authorization", &token)], None)
        .await;
    assert_eq!(
        (missing.status, missing.body["message"].as_str()),
        (403, Some("Forbidden"))
    );
    let wrong = api
        .call(
            "GET",
            "/notes",
            &[("Authorization", &token), ("x-api-key", "nope")],
            None,
        )
        .await;
    assert_eq!(wrong.status, 403);
    let before = api.api.authorizer_invocations();
    for _ in 0..3 {
        let ok = api
            .call(
                "GET",
                "/notes",
                &[("Authorization", &token), ("x-api-key", "local-key")],
                None,
            )
            .await;
        assert_eq!(ok.status, 200);
    }
    assert_eq!(
        api.api.authorizer_invocations(),
        before,
        "one token, one authorizer call while cached"
    );

    let uncached = start(Options {
        cache_ttl: Duration::ZERO,
        ..Options::default()
    })
    .await;
    let token = uncached.token("alice");
    for _ in 0..3 {
        assert_eq!(
            uncached
                .call("GET", "/notes", &[("Authorization", &token)], None)
                .await
                .status,
            200
        );
    }
    assert_eq!(
        uncached.api.authorizer_invocations(),
        3,
        "TTL 0 disables the cache"
    );
}

/// Issue 22, finding 4: the usage plan's daily quota and the stage's throttle were shared by
/// every caller of the one public API key, so one caller could spend them for all. With the
/// web ACL in front, a caller over its limit is refused while another caller, and the same
/// address with another token, still get through.
#[tokio::test(flavor = "multi_thread")]
async fn one_caller_over_its_limit_leaves_the_others_theirs() {
    const LIMIT: u32 = 10;
    let api = start(Options {
        rate_limit: Some(RateLimit::per_five_minutes(LIMIT)),
        ..Options::default()
    })
    .await;
    let (alice, bob) = (api.token("alice"), api.token("bob"));
    let list = |token: String| {
        let api = &api;
        async move {
            api.call(
                "GET",
                "/notes",
                &[("Authorization", &token), ("Origin", ORIGIN)],
                None,
            )
            .await
        }
    };
    for n in 1..=LIMIT {
        let reply = list(alice.clone()).await;
        assert_eq!(
            reply.status, 200,
            "alice's request {n} of {LIMIT}: {reply:?}"
        );
    }
    let refused = list(alice.clone()).await;
    assert_eq!(refused.status, 429, "{refused:?}");
    assert_eq!(
        refused.body,
        serde_json::from_str::<Value>(&refusal_body(LIMIT)).unwrap(),
        "the web ACL's JSON body"
    );
    assert_eq!(refused.header("content-type"), Some("application/json"));
    assert_eq!(
        refused.header("retry-after"),
        Some(RETRY_AFTER_SECONDS.to_string().as_str())
    );
    // A browser can read it: the same CORS grant as API Gateway's own answers.
    assert_eq!(refused.header("access-control-allow-origin"), Some(ORIGIN));
    let invocations = api.api.authorizer_invocations();
    let again = list(alice.clone()).await;
    assert_eq!(again.status, 429, "still over: refused requests count too");
    assert_eq!(
        api.api.authorizer_invocations(),
        invocations,
        "refused before the authorizer runs"
    );

    // Bob, from the same address, is untouched: the key is the token, not the address.
    for n in 1..=LIMIT {
        let reply = list(bob.clone()).await;
        assert_eq!(reply.status, 200, "bob's request {n} of {LIMIT}: {reply:?}");
    }
    assert_eq!(list(bob).await.status, 429, "bob has the same limit");

    // Without an Authorization header the caller is the address, with a budget of its own:
    // the authorizer's 401s count there, then the web ACL refuses.
    for n in 1..=LIMIT {
        let reply = api.call("GET", "/notes", &[], None).await;
        assert_eq!(reply.status, 401, "anonymous request {n}: {reply:?}");
    }
    let anonymous = api.call("GET", "/notes", &[], None).await;
    assert_eq!(anonymous.status, 429);
    // A new token still gets through from that address.
    let carol = api.token("carol");
    assert_eq!(list(carol).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_http_api_has_no_per_caller_limit() {
    // WAF cannot be associated with an HTTP API: the local API refuses to pretend otherwise.
    let key = SigningKey::generate().unwrap();
    let jwks_server = JwksServer::start(jwks(&[&key])).await.unwrap();
    let binaries_dir = function_binary("list")
        .unwrap()
        .parent()
        .unwrap()
        .to_owned();
    let refused = LocalApi::start(LocalApiConfig {
        port: 0,
        spec: ApiSpec::from_template(&template_path()).unwrap(),
        binaries_dir,
        function_env: Vec::new(),
        authorizer_env: authorizer_env(&jwks_server.url()),
        api_key: None,
        authorizer_cache_ttl: DEFAULT_AUTHORIZER_CACHE_TTL,
        allowed_origin: None,
        rate_limit: Some(RateLimit::per_five_minutes(10)),
        front: Front::Http(Arc::new(JwtAuthorizer::new(
            LOCAL_ISSUER,
            &[LOCAL_CLIENT_ID.to_owned()],
            &jwks_server.url(),
        ))),
    })
    .await;
    let error = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("HTTP API"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_users_never_see_each_other() {
    let api = start(Options::default()).await;
    let created = api
        .as_user(
            "alice",
            "POST",
            "/notes",
            Some(json!({"NoteId": "shared-name", "Note": "alice's secret"})),
        )
        .await;
    assert_eq!(created.status, 201);
    for i in 0..3 {
        api.as_user(
            "alice",
            "POST",
            "/notes",
            Some(json!({"Note": format!("more {i}")})),
        )
        .await;
    }
    assert!(note_ids(&api.as_user("bob", "GET", "/notes", None).await).is_empty());
    assert!(
        note_ids(
            &api.as_user("bob", "GET", "/notes/search?text=secret", None)
                .await
        )
        .is_empty()
    );
    assert_eq!(
        api.as_user("bob", "GET", "/notes/shared-name", None)
            .await
            .status,
        404
    );
    assert_eq!(
        api.as_user("bob", "DELETE", "/notes/shared-name", None)
            .await
            .status,
        404
    );
    // Bob writing "the same" id writes his own note.
    let bobs = api
        .as_user(
            "bob",
            "POST",
            "/notes",
            Some(json!({"NoteId": "shared-name", "Note": "bob's"})),
        )
        .await;
    assert_eq!(bobs.status, 201);
    let alices = api
        .as_user("alice", "GET", "/notes/shared-name", None)
        .await;
    assert_eq!(alices.body["Note"], "alice's secret");
    // Alice's cursor is useless to bob.
    let page = api.as_user("alice", "GET", "/notes?limit=1", None).await;
    let link = api.local_path(page.next_link().unwrap());
    let stolen = api.as_user("bob", "GET", &link, None).await;
    assert_eq!(stolen.status, 400);
    // A UserId in the body is refused, not used.
    let smuggled = api
        .as_user(
            "bob",
            "POST",
            "/notes",
            Some(json!({"Note": "x", "UserId": "alice"})),
        )
        .await;
    assert_eq!(smuggled.status, 400);
    assert_eq!(
        note_ids(&api.as_user("alice", "GET", "/notes?limit=100", None).await).len(),
        4
    );

    let logs = api.api.logs().into_values().collect::<String>();
    assert!(
        !logs.contains("alice's secret"),
        "note text in the function logs"
    );
    eprintln!(
        "drill isolation: over HTTP, bob tried alice's notes by listing, search, id, delete, a same-id write and her cursor, and alice's UserId in a body: 0 of alice's notes seen or changed; function logs hold no note text"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_allowed_origin_and_no_other_can_read_responses() {
    let api = start(Options {
        allowed_origins: Some("http://localhost:3000,http://127.0.0.1:8080"),
        ..Options::default()
    })
    .await;
    let token = api.token("alice");
    for (origin, allowed) in [
        (ORIGIN, true),
        (SECOND_ORIGIN, true),
        ("http://evil.example", false),
        ("http://localhost:3001", false),
    ] {
        // A function's answer, the gateway's own 401, and the preflight: each as a browser
        // checks it.
        let replies = [
            (
                "function 200",
                api.call(
                    "GET",
                    "/notes",
                    &[("Authorization", &token), ("Origin", origin)],
                    None,
                )
                .await,
            ),
            (
                "gateway 401",
                api.call("GET", "/notes", &[("Origin", origin)], None).await,
            ),
            (
                "preflight",
                api.call(
                    "OPTIONS",
                    "/notes",
                    &[
                        ("Origin", origin),
                        ("Access-Control-Request-Method", "POST"),
                        (
                            "Access-Control-Request-Headers",
                            "authorization,content-type,idempotency-key,if-match",
                        ),
                    ],
                    None,
                )
                .await,
            ),
        ];
        for (what, reply) in &replies {
            let granted = reply.header("access-control-allow-origin");
            if allowed {
                assert_eq!(granted, Some(origin), "{what} from {origin}: {reply:?}");
            } else {
                assert_eq!(granted, None, "{what} from {origin} must not be readable");
            }
            assert!(
                reply.header("vary").is_some_and(|v| v.contains("Origin")),
                "{what} from {origin}: Vary: Origin keeps caches from mixing origins"
            );
        }
        let exposed = replies[0].1.header("access-control-expose-headers");
        for name in [
            "ETag",
            "Location",
            "Link",
            "Retry-After",
            "Idempotent-Replayed",
        ] {
            assert!(
                exposed.is_some_and(|v| v.contains(name)),
                "{name} exposed to {origin}"
            );
        }
        let allow_headers = replies[2]
            .1
            .header("access-control-allow-headers")
            .unwrap_or_default()
            .to_ascii_lowercase();
        for name in [
            "authorization",
            "content-type",
            "if-match",
            "idempotency-key",
        ] {
            assert!(allow_headers.contains(name), "preflight allows {name}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_http_api_checks_jwts_as_api_gateway_does_and_sends_payload_2_0() {
    let api = start(Options {
        http: true,
        ..Options::default()
    })
    .await;
    let json = ("Content-Type", "application/json");
    let origin = ("Origin", ORIGIN);

    // A bare token works as well as `Bearer <token>`; ID and access tokens alike.
    let bare = TokenSpec::new("alice").mint(&api.key).unwrap();
    let created = api
        .call(
            "POST",
            "/notes",
            &[("Authorization", &bare), json, origin],
            Some(r#"{"Note": "Buy milk"}"#),
        )
        .await;
    assert_eq!(created.status, 201, "{created:?}");
    assert_eq!(created.header("access-control-allow-origin"), Some(ORIGIN));
    let location = created.header("location").unwrap();
    let id = created.body["NoteId"].as_str().unwrap().to_owned();
    assert_eq!(
        location,
        format!("/notes/{id}"),
        "no stage prefix: the $default stage"
    );
    let access = format!(
        "Bearer {}",
        TokenSpec::new("alice").access().mint(&api.key).unwrap()
    );
    let listed = api
        .call("GET", "/notes?limit=1", &[("Authorization", &access)], None)
        .await;
    assert_eq!(listed.status, 200, "{listed:?}");
    assert_eq!(note_ids(&listed), [id.as_str()]);
    let bobs = api
        .as_user("bob", "GET", &format!("/notes/{id}"), None)
        .await;
    assert_eq!(bobs.status, 404, "bob cannot read alice's note");

    // Refused before any function runs: 401 with API Gateway's body and WWW-Authenticate.
    let expired = format!(
        "Bearer {}",
        TokenSpec {
            expires_in: -60,
            ..TokenSpec::new("alice")
        }
        .mint(&api.key)
        .unwrap()
    );
    let other_client = format!(
        "Bearer {}",
        TokenSpec {
            client_id: "someone-else".into(),
            ..TokenSpec::new("alice")
        }
        .mint(&api.key)
        .unwrap()
    );
    let foreign = format!(
        "Bearer {}",
        TokenSpec::new("alice")
            .mint(&SigningKey::generate().unwrap())
            .unwrap()
    );
    for authorization in [
        None,
        Some("Bearer garbage"),
        Some(expired.as_str()),
        Some(other_client.as_str()),
        Some(foreign.as_str()),
    ] {
        let mut headers = vec![origin];
        if let Some(value) = authorization {
            headers.push(("Authorization", value));
        }
        let refused = api.call("GET", "/notes", &headers, None).await;
        assert_eq!(refused.status, 401, "{authorization:?}");
        assert_eq!(refused.body, json!({"message": "Unauthorized"}));
        assert_eq!(refused.header("www-authenticate"), Some("Bearer"));
        assert_eq!(
            refused.header("access-control-allow-origin"),
            Some(ORIGIN),
            "readable by the page"
        );
    }
    // A route the API does not have: the HTTP API's 404 (the REST API's is a 403).
    let missing = api.as_user("alice", "GET", "/nothing-here", None).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body, json!({"message": "Not Found"}));
    // Preflight is answered by the API itself.
    let preflight = api
        .call(
            "OPTIONS",
            "/notes",
            &[origin, ("Access-Control-Request-Method", "POST")],
            None,
        )
        .await;
    assert!(preflight.status < 300, "{preflight:?}");
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some(ORIGIN)
    );
    let logs = api.api.logs();
    assert!(
        !logs.values().any(|log| log.contains(&bare)),
        "a token reached a log"
    );
}

/// Issue 22, finding 1: Cognito frees a username when its user is deleted, so a new sign-up under
/// the same name (a new `sub`) must inherit nothing: notes, idempotency records and cursors are
/// keyed by the `sub`, and the board shows the name only. On both fronts: the REST API (TOKEN
/// authorizer's `principalId`) and the HTTP API (`jwt.claims.sub`).
#[tokio::test(flavor = "multi_thread")]
async fn a_username_signed_up_again_inherits_nothing() {
    for http in [false, true] {
        let api = start(Options {
            http,
            ..Options::default()
        })
        .await;
        let front = if http { "HTTP API" } else { "REST API" };
        let bearer = |spec: TokenSpec| format!("Bearer {}", spec.mint(&api.key).unwrap());
        let old_carol = bearer(TokenSpec::new("carol"));
        let new_carol = bearer(TokenSpec {
            sub: "5b0b7c9e-0000-4000-8000-00000000ca01".into(),
            ..TokenSpec::new("carol")
        });
        let json = ("Content-Type", "application/json");
        let body = r#"{"NoteId": "77", "Note": "My bank PIN is 4419"}"#;
        let with_key = |token: &str| {
            [
                ("Authorization", token.to_owned()),
                ("Content-Type", "application/json".to_owned()),
                ("Idempotency-Key", "retry-1".to_owned()),
            ]
        };
        let headers = with_key(&old_carol);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let created = api.call("POST", "/notes", &headers, Some(body)).await;
        assert_eq!(created.status, 201, "{front}: {created:?}");
        for i in 0..2 {
            let more = format!(r#"{{"Note": "more {i}"}}"#);
            let reply = api
                .call(
                    "POST",
                    "/notes",
                    &[("Authorization", &old_carol), json],
                    Some(&more),
                )
                .await;
            assert_eq!(reply.status, 201, "{front}");
        }
        let page = api
            .call(
                "GET",
                "/notes?limit=1",
                &[("Authorization", &old_carol)],
                None,
            )
            .await;
        let old_cursor = api.local_path(page.next_link().unwrap());

        let as_new = |method: &'static str, path: String| {
            let token = new_carol.clone();
            let api = &api;
            async move {
                api.call(method, &path, &[("Authorization", &token)], None)
                    .await
            }
        };
        let listed = as_new("GET", "/notes".into()).await;
        assert_eq!(
            (listed.status, note_ids(&listed).len()),
            (200, 0),
            "{front}: the new carol lists the old carol's notes"
        );
        let searched = as_new("GET", "/notes/search?text=PIN".into()).await;
        assert!(note_ids(&searched).is_empty(), "{front}: search");
        assert_eq!(
            as_new("GET", "/notes/77".into()).await.status,
            404,
            "{front}"
        );
        assert_eq!(
            as_new("GET", old_cursor).await.status,
            400,
            "{front}: cursor"
        );
        // The same Idempotency-Key and body: a create of her own, not the old carol's replay.
        let headers = with_key(&new_carol);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let own = api.call("POST", "/notes", &headers, Some(body)).await;
        assert_eq!(own.status, 201, "{front}: {own:?}");
        assert_eq!(own.header("idempotent-replayed"), None, "{front}: replayed");
        assert_eq!(own.body["Version"], 1, "{front}");
        assert_eq!(
            as_new("DELETE", "/notes/77".into()).await.status,
            204,
            "{front}: deletes her own 77"
        );
        let old = api
            .call("GET", "/notes/77", &[("Authorization", &old_carol)], None)
            .await;
        assert_eq!(
            old.body["Note"], "My bank PIN is 4419",
            "{front}: old 77 kept"
        );

        // The board shows the name; the id behind it is not on the wire.
        let post = api
            .call(
                "POST",
                "/post",
                &[("Authorization", &new_carol), json],
                Some(r#"{"title": "Hi", "contents": "I am new"}"#),
            )
            .await;
        assert_eq!(post.body["author"], "carol", "{front}");
        assert!(
            !post.body.to_string().contains("ca01"),
            "{front}: the sub is not shown"
        );
    }
}
