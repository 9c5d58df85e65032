//! The key fetch started at init on its own thread: a token that arrives before it ends waits
//! for it, and is refused if it brought no keys. Never allowed without keys.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use authorizer::{Config, JwksSource, Rejection, Verifier};
use notes_testkit::issuer::{LOCAL_CLIENT_ID, LOCAL_ISSUER, SigningKey, TokenSpec, jwks};

/// A JWKS endpoint that answers its first request after `delay`, with `status` and `body`.
fn slow_jwks(status: u16, body: String, delay: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = [0_u8; 4096];
        let _ = stream.read(&mut request);
        std::thread::sleep(delay);
        let answer = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(answer.as_bytes());
    });
    url
}

fn verifier(url: &str) -> Verifier {
    let pairs = [
        ("TOKEN_ISSUER", LOCAL_ISSUER),
        ("JWKS_URL", url),
        ("USER_POOL_CLIENT_IDS", LOCAL_CLIENT_ID),
    ];
    let config = Config::from_lookup(|name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
    .unwrap();
    Verifier::new(config, JwksSource::http(url))
}

const DELAY: Duration = Duration::from_millis(300);

#[test]
fn a_token_that_arrives_during_the_init_fetch_waits_for_the_keys() {
    let key = SigningKey::generate().unwrap();
    let url = slow_jwks(200, jwks(&[&key]).to_string(), DELAY);
    let verifier = verifier(&url);
    let token = TokenSpec::new("alice").mint(&key).unwrap();
    std::thread::scope(|scope| {
        let started = Instant::now();
        verifier.fetch_keys_in_background(scope);
        assert!(started.elapsed() < DELAY, "init does not wait for the keys");
        let identity = verifier.verify(&format!("Bearer {token}"));
        assert!(started.elapsed() >= DELAY, "the token waited for the fetch");
        assert_eq!(identity.unwrap().username, "alice");
    });
}

#[test]
fn a_token_that_arrives_during_a_failing_init_fetch_is_refused() {
    let key = SigningKey::generate().unwrap();
    let url = slow_jwks(503, "unavailable".into(), DELAY);
    let verifier = verifier(&url);
    let token = TokenSpec::new("alice").mint(&key).unwrap();
    std::thread::scope(|scope| {
        let started = Instant::now();
        verifier.fetch_keys_in_background(scope);
        let refused = verifier.verify(&format!("Bearer {token}"));
        assert!(started.elapsed() >= DELAY, "the token waited for the fetch");
        assert_eq!(refused.unwrap_err(), Rejection::KeysUnavailable);
    });
}
