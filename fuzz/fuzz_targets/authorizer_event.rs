//! Fuzzes the authorizer's whole token path: event decoding, the `Authorization` value, token
//! shape, header, key lookup, signature and claims checks. Seeded from `events/authorizer*.json`
//! plus a token that is valid until 2100 for the key in `seeds/jwks.json` (whose private half
//! was thrown away), so mutations start past the signature check too.
#![no_main]

use std::sync::OnceLock;

use authorizer::{Config, JwksSource, KeySet, Verifier};
use libfuzzer_sys::fuzz_target;

struct Harness {
    runtime: tokio::runtime::Runtime,
    verifier: Verifier,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        // As the binary's main does: RS256-only verification behind jsonwebtoken.
        authorizer::install_rs256_only();
        let keys = KeySet::from_json(include_bytes!("../seeds/jwks.json")).expect("seed JWKS");
        let config = Config::from_lookup(|name| match name {
            "TOKEN_ISSUER" => Some("https://local-issuer.invalid/notes-local-pool".into()),
            "JWKS_URL" => Some("http://127.0.0.1:9/.well-known/jwks.json".into()),
            "USER_POOL_CLIENT_IDS" => Some("notes-local-client".into()),
            "REQUIRED_GROUP" => Some("editors".into()),
            _ => None,
        })
        .expect("fuzz config");
        Harness {
            runtime: tokio::runtime::Builder::new_current_thread().build().expect("runtime"),
            verifier: Verifier::new(config, JwksSource::Static(keys)),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let harness = harness();
    // The event as the runtime would decode it; non-JSON input still exercises the token path.
    let event = serde_json::from_slice(data).unwrap_or_else(|_| {
        serde_json::json!({
            "type": "TOKEN",
            "authorizationToken": String::from_utf8_lossy(data),
            "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef123/Prod/GET/notes"
        })
    });
    let result = harness.runtime.block_on(authorizer::handle(&harness.verifier, event));
    if let Err(diagnostic) = result {
        assert_eq!(diagnostic.error_message, "Unauthorized");
    }
});
