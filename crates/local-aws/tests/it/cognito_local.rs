//! moto as the local Cognito: the template's pool created through the wire API, the labs' CLI
//! flow (sign-up, admin confirm, USER_PASSWORD_AUTH), and the real authorizer binary trusting
//! that pool's tokens exactly as `make dev` wires it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use local_aws::cognito_local::{CognitoLocal, LocalPool, UserPoolTemplate};
use local_lambda::runtime_api::{LambdaSandbox, Outcome};
use serde_json::Value;

/// Satisfies the template's policy (12+, lower, upper, digit, symbol).
const PASSWORD: &str = "Correct-Horse-9!";

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn authorizer_event(token: &str) -> Value {
    let path = local_aws::workspace_root()
        .join("events")
        .join("authorizer.json");
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["authorizationToken"] = format!("Bearer {token}").into();
    event
}

/// The same token with one claim changed and the original signature.
fn tampered(token: &str, claim: &str, value: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload = claims(token);
    payload[claim] = value.into();
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap());
    format!("{}.{payload}.{}", parts[0], parts[2])
}

fn start_pool() -> (CognitoLocal, LocalPool) {
    let moto = CognitoLocal::start(None).unwrap();
    let template = UserPoolTemplate::from_template(&local_aws::template_path()).unwrap();
    let pool = moto.client().ensure_pool(&template).unwrap();
    (moto, pool)
}

#[test]
fn the_pool_is_ensured_idempotently_and_issues_cognito_shaped_tokens() {
    let (moto, pool) = start_pool();
    let template = UserPoolTemplate::from_template(&local_aws::template_path()).unwrap();
    let again = moto.client().ensure_pool(&template).unwrap();
    assert_eq!(
        (again.pool_id(), again.client_id()),
        (pool.pool_id(), pool.client_id()),
        "a second ensure reuses the pool and the client"
    );
    assert!(
        pool.pool_id().starts_with("us-east-1_"),
        "{}",
        pool.pool_id()
    );

    // The password policy of the template is enforced on sign-up.
    for (weak, why) in [
        ("Short-9!", "shorter than 12"),
        ("correct-horse-9!", "no upper case"),
        ("Correct-Horse-!!", "no digit"),
        ("CorrectHorse999", "no symbol"),
    ] {
        let refused = pool.ensure_user("weak", "weak@example.com", weak);
        assert_eq!(
            refused.as_ref().err().and_then(|e| e.service_error_type()),
            Some("InvalidPasswordException"),
            "{why}: {refused:?}"
        );
    }

    assert!(
        pool.ensure_user("student", "student@example.com", PASSWORD)
            .unwrap(),
        "created"
    );
    assert!(
        !pool
            .ensure_user("student", "student@example.com", PASSWORD)
            .unwrap(),
        "the second time the user exists and stays confirmed"
    );
    let wrong = pool.sign_in("student", "Wrong-Horse-9!");
    assert_eq!(
        wrong.as_ref().err().and_then(|e| e.service_error_type()),
        Some("NotAuthorizedException"),
        "USER_PASSWORD_AUTH checks the password: {wrong:?}"
    );

    let tokens = pool.sign_in("student", PASSWORD).unwrap();
    let id = claims(&tokens.id_token);
    assert_eq!(
        id["iss"],
        format!(
            "https://cognito-idp.us-east-1.amazonaws.com/{}",
            pool.pool_id()
        )
    );
    assert_eq!(id["iss"], pool.issuer());
    assert_eq!(id["aud"], pool.client_id());
    assert_eq!(id["token_use"], "id");
    assert_eq!(id["cognito:username"], "student");
    let access = claims(&tokens.access_token);
    assert_eq!(access["client_id"], pool.client_id());
    assert_eq!(access["token_use"], "access");

    pool.ensure_group_member("student", "editors").unwrap();
    pool.ensure_group_member("student", "editors").unwrap();
    let grouped = pool.sign_in("student", PASSWORD).unwrap();
    assert_eq!(
        claims(&grouped.id_token)["cognito:groups"],
        serde_json::json!(["editors"]),
        "groups reach the ID token"
    );
}

/// The dev kit's moto has `RevokeToken` (crates/local-aws/python/moto_server.py), which the
/// web client's sign-out calls: after it, the refresh token and the access tokens issued from it
/// are refused, as Cognito refuses them.
#[test]
fn revoke_token_ends_the_refresh_token_and_its_access_tokens() {
    let (moto, pool) = start_pool();
    pool.ensure_user("leaver", "leaver@example.com", PASSWORD)
        .unwrap();
    let client = moto.client();
    let signed_in = client
        .call(
            "InitiateAuth",
            &serde_json::json!({
                "ClientId": pool.client_id(),
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": "leaver", "PASSWORD": PASSWORD},
            }),
        )
        .unwrap();
    let refresh_token = signed_in["AuthenticationResult"]["RefreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let access_token = signed_in["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let refresh = || {
        client.call(
            "InitiateAuth",
            &serde_json::json!({
                "ClientId": pool.client_id(),
                "AuthFlow": "REFRESH_TOKEN_AUTH",
                "AuthParameters": {"REFRESH_TOKEN": refresh_token},
            }),
        )
    };
    let get_user = || client.call("GetUser", &serde_json::json!({"AccessToken": access_token}));
    let refreshed = refresh().unwrap();
    assert!(
        refreshed["AuthenticationResult"]["IdToken"].is_string(),
        "the refresh token works before: {refreshed}"
    );
    assert!(get_user().is_ok(), "the access token works before");

    let error_type = |result: Result<Value, local_aws::cognito_local::CognitoLocalError>| {
        result
            .err()
            .and_then(|e| e.service_error_type().map(str::to_owned))
    };
    let other_client = client.call(
        "RevokeToken",
        &serde_json::json!({"Token": refresh_token, "ClientId": "another-client"}),
    );
    assert_eq!(
        error_type(other_client).as_deref(),
        Some("UnauthorizedException"),
        "another app client cannot revoke it"
    );
    assert!(refresh().is_ok(), "a refused revocation changes nothing");
    let missing = client.call(
        "RevokeToken",
        &serde_json::json!({"ClientId": pool.client_id()}),
    );
    assert_eq!(
        error_type(missing).as_deref(),
        Some("InvalidParameterException")
    );

    client
        .call(
            "RevokeToken",
            &serde_json::json!({"Token": refresh_token, "ClientId": pool.client_id()}),
        )
        .unwrap();
    assert_eq!(
        error_type(refresh()).as_deref(),
        Some("NotAuthorizedException"),
        "a revoked refresh token is refused"
    );
    assert_eq!(
        error_type(get_user()).as_deref(),
        Some("NotAuthorizedException"),
        "so is an access token issued from it"
    );
    client
        .call(
            "RevokeToken",
            &serde_json::json!({"Token": refresh_token, "ClientId": pool.client_id()}),
        )
        .unwrap();
}

/// "Send a new code" in the web client calls `ResendConfirmationCode`, which the dev kit's moto
/// answers as Cognito does: where the code went (masked), refusals by meaning.
#[test]
fn resend_confirmation_code_answers_as_cognito() {
    let (moto, pool) = start_pool();
    let client = moto.client();
    client
        .call(
            "SignUp",
            &serde_json::json!({
                "ClientId": pool.client_id(),
                "Username": "newcomer",
                "Password": PASSWORD,
                "UserAttributes": [{"Name": "email", "Value": "newcomer@example.com"}],
            }),
        )
        .unwrap();
    let resend = |username: &str, client_id: &str| {
        client.call(
            "ResendConfirmationCode",
            &serde_json::json!({"ClientId": client_id, "Username": username}),
        )
    };
    let sent = resend("newcomer", pool.client_id()).unwrap();
    assert_eq!(
        sent["CodeDeliveryDetails"],
        serde_json::json!({"Destination": "n***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"})
    );
    let error_type = |result: Result<Value, local_aws::cognito_local::CognitoLocalError>| {
        result
            .err()
            .and_then(|e| e.service_error_type().map(str::to_owned))
    };
    assert_eq!(
        error_type(resend("nobody", pool.client_id())).as_deref(),
        Some("UserNotFoundException")
    );
    assert_eq!(
        error_type(resend("newcomer", "no-such-client")).as_deref(),
        Some("ResourceNotFoundException")
    );
    pool.ensure_user("settled", "settled@example.com", PASSWORD)
        .unwrap();
    assert_eq!(
        error_type(resend("settled", pool.client_id())).as_deref(),
        Some("InvalidParameterException"),
        "a confirmed user needs no code"
    );
}

#[test]
fn the_env_file_names_the_pool_and_goes_stale_with_its_server() {
    let (moto, pool) = start_pool();
    let path = std::env::temp_dir().join(format!(
        "notes-devkit-cognito-{}.env",
        uuid::Uuid::new_v4().simple()
    ));
    pool.write_env_file(&path).unwrap();
    let read = LocalPool::from_env_file(&path).unwrap();
    assert_eq!(
        (read.pool_id(), read.client_id(), read.endpoint()),
        (pool.pool_id(), pool.client_id(), moto.endpoint())
    );
    drop(moto);
    let message = LocalPool::from_env_file(&path)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        message.contains("make dev"),
        "a stopped server says what to do: {message}"
    );
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn the_real_authorizer_trusts_the_pool_as_make_dev_wires_it() {
    let (moto, pool) = tokio::task::spawn_blocking(|| {
        let (moto, pool) = start_pool();
        pool.ensure_user("student", "student@example.com", PASSWORD)
            .unwrap();
        (moto, pool)
    })
    .await
    .unwrap();
    let signed_in = pool.clone();
    let tokens = tokio::task::spawn_blocking(move || signed_in.sign_in("student", PASSWORD))
        .await
        .unwrap()
        .unwrap();

    let binary =
        tokio::task::spawn_blocking(|| local_lambda::binaries::function_binary("authorizer"))
            .await
            .unwrap()
            .unwrap();
    let sandbox = LambdaSandbox::start(&binary, &pool.authorizer_env())
        .await
        .unwrap();

    for (token, kind) in [(&tokens.id_token, "id"), (&tokens.access_token, "access")] {
        let Outcome::Response(response) = sandbox
            .invoke(&authorizer_event(token))
            .await
            .unwrap()
            .outcome
        else {
            panic!("the pool's {kind} token was refused:\n{}", sandbox.logs());
        };
        assert_eq!(
            response["policyDocument"]["Statement"][0]["Effect"],
            "Allow"
        );
        assert_eq!(response["context"]["username"], "student");
        assert_eq!(response["context"]["tokenUse"], kind);
    }

    for (token, why) in [
        (
            tampered(&tokens.id_token, "cognito:username", "mallory"),
            "a changed username",
        ),
        (
            tampered(&tokens.id_token, "aud", "another-client"),
            "another client",
        ),
        (format!("{}x", tokens.id_token), "a changed signature"),
    ] {
        match sandbox
            .invoke(&authorizer_event(&token))
            .await
            .unwrap()
            .outcome
        {
            Outcome::Error { error_message, .. } => {
                assert_eq!(error_message, "Unauthorized", "{why}")
            }
            Outcome::Response(response) => panic!("{why}: accepted: {response}"),
        }
    }
    sandbox.stop().await;
    drop(moto);
}

/// `make dev` with its data kept on disk keeps the pool's users too: after moto is stopped and
/// started again on the same file, the same password signs in, the user keeps their `sub` (the
/// key of their data), the name stays taken, and the pool and app client keep their ids (so the
/// page's configuration and the tokens issued before stay valid).
#[test]
fn users_survive_a_restart_when_kept_in_a_file() {
    let dir = std::env::temp_dir().join(format!(
        "notes-cognito-users-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let users_file = dir.join("users.json");
    let template = UserPoolTemplate::from_template(&local_aws::template_path()).unwrap();
    let first = CognitoLocal::start_keeping_users(None, Some(&users_file)).unwrap();
    let pool = first.client().ensure_pool(&template).unwrap();
    assert!(
        pool.ensure_user("kept", "kept@example.com", PASSWORD)
            .unwrap()
    );
    pool.ensure_group_member("kept", "editors").unwrap();
    let before = claims(&pool.sign_in("kept", PASSWORD).unwrap().id_token);
    let (pool_id, client_id) = (pool.pool_id().to_owned(), pool.client_id().to_owned());
    drop(first);
    assert!(users_file.is_file(), "the users were written down");

    let second = CognitoLocal::start_keeping_users(None, Some(&users_file)).unwrap();
    let pool = second.client().ensure_pool(&template).unwrap();
    assert_eq!((pool.pool_id(), pool.client_id()), (&*pool_id, &*client_id));
    assert!(
        !pool
            .ensure_user("kept", "kept@example.com", PASSWORD)
            .unwrap(),
        "the user is still there"
    );
    let after = claims(&pool.sign_in("kept", PASSWORD).unwrap().id_token);
    assert_eq!(after["sub"], before["sub"], "the same person");
    assert_eq!(after["cognito:groups"], serde_json::json!(["editors"]));
    let wrong = pool.sign_in("kept", "Wrong-Horse-9!");
    assert_eq!(
        wrong.as_ref().err().and_then(|e| e.service_error_type()),
        Some("NotAuthorizedException"),
        "{wrong:?}"
    );
    drop(second);

    // Without the file (IN_MEMORY=1), a restart starts with no users.
    let fresh = CognitoLocal::start(None).unwrap();
    let pool = fresh.client().ensure_pool(&template).unwrap();
    assert!(
        pool.ensure_user("kept", "kept@example.com", PASSWORD)
            .unwrap(),
        "in memory, nothing is kept"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// The web client's account operations beyond sign-in: "Forgot your password?"
/// (`ForgotPassword`, `ConfirmForgotPassword`, which the dev kit's moto checks against the
/// pool's policy as Cognito does), "Change password" (`ChangePassword`) and "Sign out
/// everywhere" (`GlobalSignOut`), through the wire API as the browser library calls them.
#[test]
fn the_account_operations_answer_as_cognito() {
    let (moto, pool) = start_pool();
    let client = moto.client();
    pool.ensure_user("forgetful", "forgetful@example.com", PASSWORD)
        .unwrap();
    let error_type = |result: Result<Value, local_aws::cognito_local::CognitoLocalError>| {
        result
            .err()
            .and_then(|e| e.service_error_type().map(str::to_owned))
    };
    let sign_in = |password: &str| {
        client.call(
            "InitiateAuth",
            &serde_json::json!({
                "ClientId": pool.client_id(),
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": "forgetful", "PASSWORD": password},
            }),
        )
    };

    let sent = client
        .call(
            "ForgotPassword",
            &serde_json::json!({"ClientId": pool.client_id(), "Username": "forgetful"}),
        )
        .unwrap();
    assert_eq!(sent["CodeDeliveryDetails"]["Destination"], "f***@e***");
    let confirm = |password: &str| {
        client.call(
            "ConfirmForgotPassword",
            &serde_json::json!({
                "ClientId": pool.client_id(),
                "Username": "forgetful",
                "ConfirmationCode": "123456",
                "Password": password,
            }),
        )
    };
    assert_eq!(
        error_type(confirm("weakpassword")).as_deref(),
        Some("InvalidPasswordException"),
        "the new password meets the pool's policy"
    );
    sign_in(PASSWORD).expect("a refused reset changes nothing");
    confirm("Reset-Horse-42!").unwrap();
    assert_eq!(
        error_type(sign_in(PASSWORD)).as_deref(),
        Some("NotAuthorizedException"),
        "the old password is gone"
    );
    let tokens = sign_in("Reset-Horse-42!").unwrap();
    let access = tokens["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let refresh = tokens["AuthenticationResult"]["RefreshToken"]
        .as_str()
        .unwrap()
        .to_owned();

    let change = |previous: &str, proposed: &str| {
        client.call(
            "ChangePassword",
            &serde_json::json!({"AccessToken": access, "PreviousPassword": previous, "ProposedPassword": proposed}),
        )
    };
    assert_eq!(
        error_type(change("Wrong-Horse-42!", "Changed-Horse-7!")).as_deref(),
        Some("NotAuthorizedException")
    );
    assert_eq!(
        error_type(change("Reset-Horse-42!", "weak")).as_deref(),
        Some("InvalidPasswordException")
    );
    change("Reset-Horse-42!", "Changed-Horse-7!").unwrap();
    sign_in("Changed-Horse-7!").unwrap();

    client
        .call("GlobalSignOut", &serde_json::json!({"AccessToken": access}))
        .unwrap();
    let refreshed = client.call(
        "InitiateAuth",
        &serde_json::json!({
            "ClientId": pool.client_id(),
            "AuthFlow": "REFRESH_TOKEN_AUTH",
            "AuthParameters": {"REFRESH_TOKEN": refresh},
        }),
    );
    assert_eq!(
        error_type(refreshed).as_deref(),
        Some("NotAuthorizedException"),
        "signed out everywhere: the refresh token is refused"
    );
    assert_eq!(
        error_type(client.call("GetUser", &serde_json::json!({"AccessToken": access}))).as_deref(),
        Some("NotAuthorizedException"),
        "and the access token"
    );
}

/// RFC 4648 base32 (Cognito's SecretCode, unpadded) to bytes.
fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut value, mut out) = (0u32, 0u64, Vec::new());
    for c in text.trim_end_matches('=').bytes() {
        let digit = ALPHABET
            .iter()
            .position(|&a| a == c)
            .expect("a base32 digit");
        value = (value << 5) | digit as u64;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((value >> bits) as u8);
            value &= (1 << bits) - 1;
        }
    }
    out
}

/// The six-digit TOTP code of `secret` for 30-second step `step` (RFC 6238 with HMAC-SHA1), as
/// an authenticator app computes it.
fn totp(secret: &str, step: u64) -> String {
    let key = ring::hmac::Key::new(
        ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        &base32_decode(secret),
    );
    let digest = ring::hmac::sign(&key, &step.to_be_bytes());
    let digest = digest.as_ref();
    let offset = usize::from(digest[19] & 0x0f);
    let number = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", number % 1_000_000)
}

fn current_step() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 30
}

#[test]
fn totp_helper_meets_rfc_6238() {
    // RFC 6238, appendix B, SHA-1 key "12345678901234567890": the last six of its eight digits.
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    assert_eq!(totp(secret, 59 / 30), "287082");
    assert_eq!(totp(secret, 1_111_111_109 / 30), "081804");
}

/// TOTP two-factor as the web client sets it up and signs in with it, which the dev kit's moto
/// answers as Cognito does (crates/local-aws/python/cognito_totp.py): a secret of the user's
/// own, a wrong code refused at verification and at sign-in, a sign-in code not taken twice.
#[test]
fn totp_two_factor_answers_as_cognito() {
    let (moto, pool) = start_pool();
    let client = moto.client();
    pool.ensure_user("twofactor", "twofactor@example.com", PASSWORD)
        .unwrap();
    pool.ensure_user("other", "other@example.com", PASSWORD)
        .unwrap();
    let error_type = |result: Result<Value, local_aws::cognito_local::CognitoLocalError>| {
        result
            .err()
            .and_then(|e| e.service_error_type().map(str::to_owned))
    };
    let sign_in = |username: &str| {
        client.call(
            "InitiateAuth",
            &serde_json::json!({
                "ClientId": pool.client_id(),
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": username, "PASSWORD": PASSWORD},
            }),
        )
    };
    let access_of = |answer: &Value| {
        answer["AuthenticationResult"]["AccessToken"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let access = access_of(&sign_in("twofactor").unwrap());
    let other_access = access_of(&sign_in("other").unwrap());
    let associate = |token: &str| {
        client
            .call(
                "AssociateSoftwareToken",
                &serde_json::json!({"AccessToken": token}),
            )
            .unwrap()["SecretCode"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let secret = associate(&access);
    assert_eq!(secret.len(), 52, "256 bits in base32: {secret}");
    assert!(
        secret
            .bytes()
            .all(|c| c.is_ascii_uppercase() || (b'2'..=b'7').contains(&c)),
        "{secret}"
    );
    assert_ne!(
        associate(&other_access),
        secret,
        "each user has a secret of their own"
    );
    assert_eq!(
        error_type(client.call(
            "AssociateSoftwareToken",
            &serde_json::json!({"AccessToken": "not-a-token"})
        ))
        .as_deref(),
        Some("NotAuthorizedException")
    );

    let prefer_totp = || {
        client.call(
            "SetUserMFAPreference",
            &serde_json::json!({
                "AccessToken": access,
                "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true},
            }),
        )
    };
    assert_eq!(
        error_type(prefer_totp()).as_deref(),
        Some("InvalidParameterException"),
        "not before a code of the secret is verified"
    );
    let verify = |code: &str| {
        client.call(
            "VerifySoftwareToken",
            &serde_json::json!({"AccessToken": access, "UserCode": code, "FriendlyDeviceName": "phone"}),
        )
    };
    let wrong = totp(&secret, current_step() + 10);
    assert_eq!(
        error_type(verify(&wrong)).as_deref(),
        Some("EnableSoftwareTokenMFAException"),
        "a code of another time is refused"
    );
    assert_eq!(
        error_type(verify("12ab56")).as_deref(),
        Some("InvalidParameterException")
    );
    let verified = verify(&totp(&secret, current_step())).unwrap();
    assert_eq!(verified["Status"], "SUCCESS");
    prefer_totp().unwrap();
    let user = client
        .call("GetUser", &serde_json::json!({"AccessToken": access}))
        .unwrap();
    assert_eq!(
        user["UserMFASettingList"],
        serde_json::json!(["SOFTWARE_TOKEN_MFA"])
    );
    assert_eq!(user["PreferredMfaSetting"], "SOFTWARE_TOKEN_MFA");

    // Sign-in now asks for a code after the password.
    let challenge = sign_in("twofactor").unwrap();
    assert_eq!(
        challenge["ChallengeName"], "SOFTWARE_TOKEN_MFA",
        "{challenge}"
    );
    assert!(challenge.get("AuthenticationResult").is_none());
    let session = challenge["Session"].as_str().unwrap().to_owned();
    let answer = |session: &str, code: &str| {
        client.call(
            "RespondToAuthChallenge",
            &serde_json::json!({
                "ClientId": pool.client_id(),
                "ChallengeName": "SOFTWARE_TOKEN_MFA",
                "Session": session,
                "ChallengeResponses": {"USERNAME": "twofactor", "SOFTWARE_TOKEN_MFA_CODE": code},
            }),
        )
    };
    assert_eq!(
        error_type(answer(&session, &wrong)).as_deref(),
        Some("CodeMismatchException")
    );
    assert_eq!(
        error_type(answer("no-such-session", &totp(&secret, current_step()))).as_deref(),
        Some("NotAuthorizedException")
    );
    let code = totp(&secret, current_step());
    let signed_in = answer(&session, &code).unwrap();
    assert!(
        signed_in["AuthenticationResult"]["IdToken"].is_string(),
        "the right code after a wrong one signs in: {signed_in}"
    );
    let again = sign_in("twofactor").unwrap();
    let again_session = again["Session"].as_str().unwrap().to_owned();
    assert_eq!(
        error_type(answer(&again_session, &code)).as_deref(),
        Some("ExpiredCodeException"),
        "a code already used to sign in is refused"
    );
    // The other user, without two-factor, signs in with the password alone.
    assert!(sign_in("other").unwrap()["AuthenticationResult"]["IdToken"].is_string());
}

/// A user's two-factor key is kept with the users (`make dev` without IN_MEMORY): after a
/// restart, sign-in still asks for the code and takes one of the same key.
#[test]
fn two_factor_survives_a_restart_when_users_are_kept() {
    let dir = std::env::temp_dir().join(format!(
        "notes-cognito-totp-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let users_file = dir.join("users.json");
    let template = UserPoolTemplate::from_template(&local_aws::template_path()).unwrap();
    let sign_in = |moto: &CognitoLocal, client_id: &str| {
        moto.client().call(
            "InitiateAuth",
            &serde_json::json!({
                "ClientId": client_id,
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": "keyholder", "PASSWORD": PASSWORD},
            }),
        )
    };

    let first = CognitoLocal::start_keeping_users(None, Some(&users_file)).unwrap();
    let pool = first.client().ensure_pool(&template).unwrap();
    pool.ensure_user("keyholder", "keyholder@example.com", PASSWORD)
        .unwrap();
    let client_id = pool.client_id().to_owned();
    let access = sign_in(&first, &client_id).unwrap()["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = first
        .client()
        .call(
            "AssociateSoftwareToken",
            &serde_json::json!({"AccessToken": access}),
        )
        .unwrap()["SecretCode"]
        .as_str()
        .unwrap()
        .to_owned();
    first
        .client()
        .call(
            "VerifySoftwareToken",
            &serde_json::json!({"AccessToken": access, "UserCode": totp(&secret, current_step())}),
        )
        .unwrap();
    first
        .client()
        .call(
            "SetUserMFAPreference",
            &serde_json::json!({
                "AccessToken": access,
                "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true},
            }),
        )
        .unwrap();
    drop(first);

    let second = CognitoLocal::start_keeping_users(None, Some(&users_file)).unwrap();
    let pool = second.client().ensure_pool(&template).unwrap();
    assert_eq!(pool.client_id(), client_id);
    let challenge = sign_in(&second, &client_id).unwrap();
    assert_eq!(
        challenge["ChallengeName"], "SOFTWARE_TOKEN_MFA",
        "{challenge}"
    );
    let signed_in = second
        .client()
        .call(
            "RespondToAuthChallenge",
            &serde_json::json!({
                "ClientId": client_id,
                "ChallengeName": "SOFTWARE_TOKEN_MFA",
                "Session": challenge["Session"],
                "ChallengeResponses": {
                    "USERNAME": "keyholder",
                    "SOFTWARE_TOKEN_MFA_CODE": totp(&secret, current_step()),
                },
            }),
        )
        .unwrap();
    assert!(
        signed_in["AuthenticationResult"]["IdToken"].is_string(),
        "{signed_in}"
    );
    drop(second);
    let _ = std::fs::remove_dir_all(dir);
}
