//! The authorizer's configuration, read once at init from the environment.

use std::time::Duration;

/// Which kinds of Cognito token are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenUses {
    pub id: bool,
    pub access: bool,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The exact `iss` a token must carry.
    pub issuer: String,
    /// Where the pool's signing keys are published.
    pub jwks_url: String,
    /// App client ids: an ID token's `aud`, an access token's `client_id`, must be one of them.
    pub client_ids: Vec<String>,
    pub token_uses: TokenUses,
    /// When set, a valid token whose `cognito:groups` lacks this group gets an explicit Deny.
    pub required_group: Option<String>,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
}

/// Default and upper bound of `TOKEN_LEEWAY_SECONDS`: a few seconds of clock skew, never enough
/// to stretch a token's lifetime noticeably.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(5);
pub const MAX_LEEWAY: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}: {problem}")]
pub struct ConfigError {
    name: &'static str,
    problem: String,
}

fn problem(name: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        name,
        problem: problem.into(),
    }
}

impl Config {
    /// Reads `USER_POOL_ID`, `USER_POOL_CLIENT_IDS`, `AWS_REGION` and the optional `TOKEN_ISSUER`,
    /// `JWKS_URL`, `TOKEN_USE`, `REQUIRED_GROUP`, `TOKEN_LEEWAY_SECONDS`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// The same, from any lookup (tests pass a map instead of mutating the process environment).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let issuer = match get("TOKEN_ISSUER") {
            Some(issuer) => issuer,
            None => {
                let region = get("AWS_REGION")
                    .ok_or_else(|| problem("AWS_REGION", "not set (Lambda sets it)"))?;
                let pool = get("USER_POOL_ID").ok_or_else(|| {
                    problem(
                        "USER_POOL_ID",
                        "not set: the Cognito user pool id, e.g. us-east-1_AbC123",
                    )
                })?;
                if !valid_pool_id(&pool) || !pool.starts_with(&format!("{region}_")) {
                    return Err(problem(
                        "USER_POOL_ID",
                        format!("{pool:?} is not a user pool id of region {region} (REGION_Id)"),
                    ));
                }
                format!("https://cognito-idp.{region}.amazonaws.com/{pool}")
            }
        };
        let jwks_url = get("JWKS_URL").unwrap_or_else(|| format!("{issuer}/.well-known/jwks.json"));
        if !secure_or_loopback(&jwks_url) {
            return Err(problem(
                "JWKS_URL",
                "must be https:// (plain http:// only for 127.0.0.1 or localhost)",
            ));
        }
        let client_ids: Vec<String> = get("USER_POOL_CLIENT_IDS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect();
        if client_ids.is_empty() {
            return Err(problem(
                "USER_POOL_CLIENT_IDS",
                "not set: the app client ids whose tokens are accepted, comma-separated",
            ));
        }
        let token_uses = match get("TOKEN_USE").as_deref().map(str::trim) {
            None | Some("id,access" | "access,id" | "any") => TokenUses {
                id: true,
                access: true,
            },
            Some("id") => TokenUses {
                id: true,
                access: false,
            },
            Some("access") => TokenUses {
                id: false,
                access: true,
            },
            Some(other) => {
                return Err(problem(
                    "TOKEN_USE",
                    format!("{other:?}: expected id, access or id,access"),
                ));
            }
        };
        let leeway = match get("TOKEN_LEEWAY_SECONDS") {
            None => DEFAULT_LEEWAY,
            Some(raw) => raw
                .trim()
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs)
                .filter(|leeway| *leeway <= MAX_LEEWAY)
                .ok_or_else(|| {
                    problem(
                        "TOKEN_LEEWAY_SECONDS",
                        format!("expected 0 to {} seconds", MAX_LEEWAY.as_secs()),
                    )
                })?,
        };
        Ok(Self {
            issuer,
            jwks_url,
            client_ids,
            token_uses,
            required_group: get("REQUIRED_GROUP"),
            leeway,
        })
    }
}

fn valid_pool_id(pool: &str) -> bool {
    match pool.split_once('_') {
        Some((region, id)) => {
            !region.is_empty()
                && !id.is_empty()
                && region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && id.bytes().all(|b| b.is_ascii_alphanumeric())
        }
        None => false,
    }
}

/// Keys fetched over plain HTTP could be swapped by anyone on the path; only a loopback issuer
/// (local development and tests) may use it.
fn secure_or_loopback(url: &str) -> bool {
    if url.starts_with("https://") {
        return true;
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    const BASE: &[(&str, &str)] = &[
        ("AWS_REGION", "us-east-1"),
        ("USER_POOL_ID", "us-east-1_AbC123"),
        ("USER_POOL_CLIENT_IDS", "client-a, client-b"),
    ];

    #[test]
    fn derives_the_cognito_issuer_and_jwks_url() {
        let config = config(BASE).unwrap();
        assert_eq!(
            config.issuer,
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123"
        );
        assert_eq!(
            config.jwks_url,
            format!("{}/.well-known/jwks.json", config.issuer)
        );
        assert_eq!(config.client_ids, ["client-a", "client-b"]);
        assert_eq!(
            config.token_uses,
            TokenUses {
                id: true,
                access: true
            }
        );
        assert_eq!(config.leeway, DEFAULT_LEEWAY);
        assert!(config.required_group.is_none());
    }

    #[test]
    fn refuses_unusable_configuration_naming_the_variable() {
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut pairs: Vec<(&str, &str)> = BASE.to_vec();
            pairs.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
            pairs.extend(extra.iter().filter(|(_, v)| !v.is_empty()));
            config(&pairs)
        };
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("USER_POOL_ID", "")], "USER_POOL_ID"),
            (&[("USER_POOL_ID", "eu-west-1_AbC123")], "USER_POOL_ID"),
            (&[("USER_POOL_ID", "not a pool")], "USER_POOL_ID"),
            (&[("USER_POOL_CLIENT_IDS", " , ")], "USER_POOL_CLIENT_IDS"),
            (&[("TOKEN_USE", "refresh")], "TOKEN_USE"),
            (&[("TOKEN_LEEWAY_SECONDS", "3600")], "TOKEN_LEEWAY_SECONDS"),
            (&[("TOKEN_LEEWAY_SECONDS", "-1")], "TOKEN_LEEWAY_SECONDS"),
            (
                &[("JWKS_URL", "http://evil.example.com/jwks.json")],
                "JWKS_URL",
            ),
            (
                &[("JWKS_URL", "http://127.0.0.1.evil.example.com/jwks.json")],
                "JWKS_URL",
            ),
            (&[("JWKS_URL", "file:///etc/keys")], "JWKS_URL"),
        ];
        for (extra, variable) in cases {
            let error = with(extra).unwrap_err();
            assert!(error.to_string().contains(variable), "{extra:?}: {error}");
        }
    }

    #[test]
    fn local_overrides() {
        let config = config(&[
            ("TOKEN_ISSUER", "https://local-issuer.invalid/notes"),
            ("JWKS_URL", "http://127.0.0.1:4566/.well-known/jwks.json"),
            ("USER_POOL_CLIENT_IDS", "local-client"),
            ("TOKEN_USE", "access"),
            ("REQUIRED_GROUP", "editors"),
            ("TOKEN_LEEWAY_SECONDS", "0"),
        ])
        .unwrap();
        assert_eq!(config.issuer, "https://local-issuer.invalid/notes");
        assert_eq!(
            config.token_uses,
            TokenUses {
                id: false,
                access: true
            }
        );
        assert_eq!(config.required_group.as_deref(), Some("editors"));
        assert_eq!(config.leeway, Duration::ZERO);
    }
}
