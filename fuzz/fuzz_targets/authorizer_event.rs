//! Fuzzes the authorizer's whole token path: event decoding, the `Authorization` value, token
//! shape, header, key lookup, signature and claims checks. Seeded from `events/authorizer*.json`
//! plus a token that is valid until 2100 for the key in `seeds/jwks.json` (whose private half
//! was thrown away), so mutations start past the signature check too.
#![no_main]

use std::sync::OnceLock;

use authorizer::{Config, JwksSource, KeySet, Verifier};
use libfuzzer_sys::fuzz_target;

fn verifier() -> &'static Verifier {
    static VERIFIER: OnceLock<Verifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
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
        Verifier::new(config, JwksSource::Static(keys))
    })
}

fuzz_target!(|data: &[u8]| {
    let verifier = verifier();
    // The event as the runtime decodes it. Input that is not JSON (the runtime refuses it before
    // the handler) still exercises the token path, as the token.
    let event = serde_json::from_slice(data).unwrap_or_else(|_| {
        serde_json::json!({
            "type": "TOKEN",
            "authorizationToken": String::from_utf8_lossy(data),
            "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef123/Prod/GET/notes"
        })
    });
    // Every refusal is `Unauthorized` by type; what reaches API Gateway is its wire form.
    if let Err(refusal) = authorizer::handle(verifier, event) {
        assert_eq!(
            serde_json::to_string(&refusal).ok().as_deref(),
            Some(r#"{"errorType":"Unauthorized","errorMessage":"Unauthorized"}"#)
        );
    }
});
