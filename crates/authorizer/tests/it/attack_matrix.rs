//! Tokens an attacker (or a broken client) could send, each run through the real verification
//! code. Zero invalid tokens may pass; valid ID and access tokens must pass with the right
//! identity.

// Multi-threaded runtimes: `refresh_keys` and `verify` block (a JWKS fetch), and the JWKS server
// they call is served by the same runtime, on another worker.

use std::time::Duration;

use authorizer::{Effect, Rejection, TokenUse, Unauthorized};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use notes_testkit::issuer::{SigningKey, TokenSpec, unix_now};
use serde_json::{Value, json};

use crate::Pool;

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// Re-signs arbitrary claims with the pool's key: a token the pool could have issued.
fn signed(pool: &Pool, claims: &Value) -> String {
    pool.key.sign(claims).unwrap()
}

fn id_claims() -> Value {
    TokenSpec::new("alice").claims()
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

/// Replaces the payload of a signed token and keeps its signature.
fn tamper_claims(token: &str, claims: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!("{}.{}.{}", parts[0], b64(claims), parts[2])
}

fn tamper_signature(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let last = bytes.len() - 5;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn no_invalid_token_passes_and_valid_ones_do() {
    let pool = Pool::start().await;
    let verifier = pool.verifier(&[], authorizer::REFETCH_INTERVAL);
    let attacker = SigningKey::generate().unwrap();
    let valid = TokenSpec::new("alice").mint(&pool.key).unwrap();
    let now = unix_now();

    // Valid tokens, in every accepted form.
    let accepted: Vec<(String, TokenUse, &str)> = vec![
        (
            format!("Bearer {valid}"),
            TokenUse::Id,
            "ID token with Bearer",
        ),
        (valid.clone(), TokenUse::Id, "bare ID token"),
        (format!("bearer {valid}"), TokenUse::Id, "lower-case scheme"),
        (
            format!(
                "Bearer {}",
                TokenSpec::new("alice").access().mint(&pool.key).unwrap()
            ),
            TokenUse::Access,
            "access token",
        ),
        (
            signed(&pool, &with(id_claims(), "exp", json!(now - 2))),
            TokenUse::Id,
            "expired 2 s ago, within the 5 s leeway",
        ),
    ];
    for (header, token_use, why) in &accepted {
        let identity = verifier
            .verify(header)
            .unwrap_or_else(|e| panic!("{why}: refused: {e}"));
        assert_eq!(identity.username, "alice", "{why}");
        assert_eq!(identity.token_use, *token_use, "{why}");
        assert_eq!(
            identity.sub,
            notes_testkit::issuer::user_sub("alice"),
            "{why}"
        );
    }

    let hs256_with_public_key = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(pool.key.kid().to_owned());
        jsonwebtoken::encode(
            &header,
            &id_claims(),
            &EncodingKey::from_secret(pool.key.public_pem().as_bytes()),
        )
        .unwrap()
    };
    let rs512 = {
        let mut header = Header::new(Algorithm::RS512);
        header.kid = Some(pool.key.kid().to_owned());
        let pem = pool_private_pem(&pool);
        jsonwebtoken::encode(
            &header,
            &id_claims(),
            &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        )
        .unwrap()
    };
    let no_kid = {
        let pem = pool_private_pem(&pool);
        jsonwebtoken::encode(
            &Header::new(Algorithm::RS256),
            &id_claims(),
            &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        )
        .unwrap()
    };
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "kid": pool.key.kid()})),
        b64(&id_claims())
    );
    let alg_none_with_signature = format!(
        "{}.{}.c2ln",
        b64(&json!({"alg": "none", "kid": pool.key.kid()})),
        b64(&id_claims())
    );
    let same_kid_other_key =
        SigningKey::from_pem(pool.key.kid(), &attacker_pem(&attacker)).unwrap();
    let other_pool_claims = with(
        id_claims(),
        "iss",
        json!("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other1"),
    );

    let rejected: Vec<(String, &str)> = vec![
        (String::new(), "empty string"),
        ("Bearer".into(), "Bearer alone"),
        ("Bearer    ".into(), "Bearer and spaces"),
        ("Basic YWxpY2U6cGFzcw==".into(), "another scheme"),
        ("not-a-jwt".into(), "one part"),
        ("abc.def".into(), "two parts"),
        ("%%%.$$$.###".into(), "garbage, not base64url"),
        (format!("{valid}.extra"), "four parts"),
        (alg_none, "alg none, empty signature"),
        (alg_none_with_signature, "alg none with a signature"),
        (
            hs256_with_public_key,
            "HS256 signed with the RSA public key",
        ),
        (rs512, "RS512: an algorithm other than RS256"),
        (no_kid, "no kid"),
        (
            tamper_claims(&valid, &with(id_claims(), "cognito:username", json!("bob"))),
            "tampered username",
        ),
        (
            tamper_claims(&valid, &with(id_claims(), "exp", json!(now + 86_400 * 365))),
            "tampered expiry",
        ),
        (tamper_signature(&valid), "tampered signature"),
        (
            TokenSpec::new("alice").mint(&attacker).unwrap(),
            "unknown kid (attacker's key)",
        ),
        (
            same_kid_other_key.sign(&id_claims()).unwrap(),
            "the pool's kid, signed with another key",
        ),
        (
            signed(&pool, &with(id_claims(), "exp", json!(now - 60))),
            "expired a minute ago",
        ),
        (
            signed(&pool, &with(id_claims(), "nbf", json!(now + 600))),
            "not valid before ten minutes from now",
        ),
        (
            signed(&pool, &with(id_claims(), "iat", json!(now + 600))),
            "issued in the future",
        ),
        (
            signed(
                &pool,
                &with(id_claims(), "iss", json!("https://evil.example.com/pool")),
            ),
            "wrong issuer",
        ),
        (
            attacker.sign(&other_pool_claims).unwrap(),
            "a token of another pool",
        ),
        (
            signed(&pool, &other_pool_claims),
            "another pool's issuer with this pool's key",
        ),
        (
            signed(&pool, &with(id_claims(), "aud", json!("some-other-client"))),
            "ID token for another app client",
        ),
        (
            signed(
                &pool,
                &with(
                    TokenSpec::new("alice").access().claims(),
                    "client_id",
                    json!("some-other-client"),
                ),
            ),
            "access token for another app client",
        ),
        (
            signed(&pool, &without(id_claims(), "aud")),
            "ID token without aud",
        ),
        (signed(&pool, &without(id_claims(), "sub")), "missing sub"),
        (
            signed(&pool, &with(id_claims(), "sub", json!(""))),
            "empty sub",
        ),
        (
            signed(&pool, &without(id_claims(), "token_use")),
            "missing token_use",
        ),
        (
            signed(&pool, &with(id_claims(), "token_use", json!("refresh"))),
            "unknown token_use",
        ),
        (
            signed(&pool, &without(id_claims(), "cognito:username")),
            "ID token without cognito:username",
        ),
        (
            signed(&pool, &with(id_claims(), "cognito:username", json!(""))),
            "empty username",
        ),
        (
            signed(
                &pool,
                &without(TokenSpec::new("alice").access().claims(), "username"),
            ),
            "access token without username",
        ),
        (signed(&pool, &without(id_claims(), "exp")), "missing exp"),
        (signed(&pool, &without(id_claims(), "iss")), "missing iss"),
        (signed(&pool, &without(id_claims(), "iat")), "missing iat"),
        (
            signed(&pool, &with(id_claims(), "exp", json!("tomorrow"))),
            "exp of the wrong type",
        ),
        (
            signed(&pool, &with(id_claims(), "aud", json!(42))),
            "aud of the wrong type",
        ),
        (
            signed(&pool, &with(id_claims(), "cognito:groups", json!("admins"))),
            "groups of the wrong type",
        ),
        (
            signed(&pool, &with(id_claims(), "email", json!(["a@b.c"]))),
            "email of the wrong type",
        ),
        (
            signed(
                &pool,
                &with(id_claims(), "padding", json!("x".repeat(9000))),
            ),
            "over 8 KiB, validly signed",
        ),
    ];
    let mut passed = Vec::new();
    for (header, why) in &rejected {
        if let Ok(identity) = verifier.verify(header) {
            passed.push(format!("{why}: accepted as {}", identity.username));
        }
    }
    assert!(
        passed.is_empty(),
        "invalid tokens accepted:\n{}",
        passed.join("\n")
    );
    assert!(rejected.len() + accepted.len() >= 25);
    eprintln!(
        "attack matrix: {} invalid tokens refused, {} valid tokens accepted",
        rejected.len(),
        accepted.len()
    );
}

fn pool_private_pem(pool: &Pool) -> String {
    pool.key.private_pem().to_owned()
}

fn attacker_pem(key: &SigningKey) -> String {
    key.private_pem().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_production_configuration_never_accepts_local_tokens() {
    let pool = Pool::start().await;
    // Even pointed at the local issuer's keys, an authorizer configured for a real user pool
    // refuses local tokens: their issuer is not the pool's.
    let production = authorizer::Config::from_lookup(|name| match name {
        "AWS_REGION" => Some("us-east-1".into()),
        "USER_POOL_ID" => Some("us-east-1_AbC123".into()),
        "USER_POOL_CLIENT_IDS" => Some(notes_testkit::issuer::LOCAL_CLIENT_ID.into()),
        "JWKS_URL" => Some(pool.server.url()),
        _ => None,
    })
    .unwrap();
    let verifier = authorizer::Verifier::new(
        production.clone(),
        authorizer::JwksSource::http(&production.jwks_url),
    );
    verifier.refresh_keys().unwrap();
    let local = TokenSpec::new("alice").mint(&pool.key).unwrap();
    assert_eq!(verifier.verify(&local), Err(Rejection::WrongIssuer));
}

#[tokio::test(flavor = "multi_thread")]
async fn token_use_restrictions() {
    let pool = Pool::start().await;
    let id_token = format!(
        "Bearer {}",
        TokenSpec::new("alice").mint(&pool.key).unwrap()
    );
    let access_token = format!(
        "Bearer {}",
        TokenSpec::new("alice").access().mint(&pool.key).unwrap()
    );

    let access_only = pool.verifier(&[("TOKEN_USE", "access")], authorizer::REFETCH_INTERVAL);
    assert_eq!(
        access_only.verify(&id_token),
        Err(Rejection::WrongTokenUse),
        "ID token where only access is allowed"
    );
    assert!(access_only.verify(&access_token).is_ok());

    let id_only = pool.verifier(&[("TOKEN_USE", "id")], authorizer::REFETCH_INTERVAL);
    assert_eq!(
        id_only.verify(&access_token),
        Err(Rejection::WrongTokenUse),
        "access token where only ID is allowed"
    );
    assert!(id_only.verify(&id_token).is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn key_rotation_is_picked_up_and_removed_keys_stop_working() {
    let pool = Pool::start().await;
    let verifier = pool.verifier(&[], Duration::ZERO);
    let old = format!(
        "Bearer {}",
        TokenSpec::new("alice").mint(&pool.key).unwrap()
    );
    assert!(verifier.verify(&old).is_ok());

    let new_key = SigningKey::generate().unwrap();
    pool.server
        .set_document(notes_testkit::issuer::jwks(&[&new_key]));
    let new = format!("Bearer {}", TokenSpec::new("alice").mint(&new_key).unwrap());
    assert!(
        verifier.verify(&new).is_ok(),
        "new kid accepted after a refetch"
    );
    assert!(
        verifier.verify(&old).is_err(),
        "old kid refused once removed from the JWKS"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_of_unknown_kids_fetches_the_jwks_at_most_once_per_interval() {
    let pool = Pool::start().await;
    let verifier = pool.verifier(&[], authorizer::REFETCH_INTERVAL);
    let after_init = pool.server.fetches();
    for _ in 0..50 {
        let stranger = SigningKey::from_pem(&uuid_like(), pool.key.private_pem()).unwrap();
        let token = TokenSpec::new("alice").mint(&stranger).unwrap();
        assert!(verifier.verify(&token).is_err());
    }
    let fetches = pool.server.fetches() - after_init;
    assert!(fetches <= 1, "{fetches} JWKS fetches for 50 unknown kids");
}

fn uuid_like() -> String {
    format!("kid-{}", unix_now_nanos())
}

fn unix_now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_jwks_outage_keeps_cached_keys_and_without_keys_refuses() {
    let pool = Pool::start().await;
    let verifier = pool.verifier(&[], Duration::ZERO);
    let token = format!(
        "Bearer {}",
        TokenSpec::new("alice").mint(&pool.key).unwrap()
    );
    pool.server.set_available(false);
    assert!(
        verifier.verify(&token).is_ok(),
        "cached keys keep working while the JWKS is down"
    );

    let config = pool.config(&[]);
    let cold = authorizer::Verifier::with_refetch_interval(
        config.clone(),
        authorizer::JwksSource::http(&config.jwks_url),
        Duration::ZERO,
    );
    assert!(cold.refresh_keys().is_err());
    assert_eq!(cold.verify(&token), Err(Rejection::KeysUnavailable));
    pool.server.set_available(true);
    assert!(
        cold.verify(&token).is_ok(),
        "serves again once the JWKS is back"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn policy_is_stage_wide_and_a_missing_group_is_an_explicit_deny() {
    let pool = Pool::start().await;
    let verifier = pool.verifier(
        &[("REQUIRED_GROUP", "editors")],
        authorizer::REFETCH_INTERVAL,
    );
    let event = |token: &str| {
        json!({
            "type": "TOKEN",
            "authorizationToken": format!("Bearer {token}"),
            "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef123/Prod/GET/notes"
        })
    };
    let member = TokenSpec {
        groups: vec!["editors".into()],
        ..TokenSpec::new("alice")
    }
    .mint(&pool.key)
    .unwrap();
    let outsider = TokenSpec::new("bob").mint(&pool.key).unwrap();

    let allowed = authorizer::handle(&verifier, event(&member)).unwrap();
    assert_eq!(allowed.policy_document.statement[0].effect, Effect::Allow);
    assert_eq!(
        allowed.policy_document.statement[0].resource,
        "arn:aws:execute-api:us-east-1:123456789012:abcdef123/Prod/*/*"
    );
    assert_eq!(allowed.context["username"], "alice");

    let denied = authorizer::handle(&verifier, event(&outsider)).unwrap();
    assert_eq!(denied.policy_document.statement[0].effect, Effect::Deny);

    assert_eq!(
        authorizer::handle(&verifier, event("garbage")).unwrap_err(),
        Unauthorized
    );
    assert_eq!(
        authorizer::handle(
            &verifier,
            json!({"type": "TOKEN", "authorizationToken": member}),
        )
        .unwrap_err(),
        Unauthorized
    );
}
