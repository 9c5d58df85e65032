//! The authorizer against real tokens and a JWKS served on loopback: the attack matrix (through
//! the verification code) and the built binary through the Lambda Runtime API.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod attack_matrix;
mod init_fetch;
mod runtime;

use std::time::Duration;

use authorizer::{Config, JwksSource, Verifier};
use notes_testkit::issuer::{JwksServer, LOCAL_CLIENT_ID, LOCAL_ISSUER, SigningKey, jwks};

/// A user pool stand-in: one signing key published by a JWKS server.
#[derive(Debug)]
pub struct Pool {
    pub key: SigningKey,
    pub server: JwksServer,
}

impl Pool {
    pub async fn start() -> Self {
        let key = SigningKey::generate().unwrap();
        let server = JwksServer::start(jwks(&[&key])).await.unwrap();
        Self { key, server }
    }

    pub fn config(&self, extra: &[(&str, &str)]) -> Config {
        let url = self.server.url();
        let mut pairs: Vec<(String, String)> = vec![
            ("TOKEN_ISSUER".into(), LOCAL_ISSUER.into()),
            ("JWKS_URL".into(), url),
            ("USER_POOL_CLIENT_IDS".into(), LOCAL_CLIENT_ID.into()),
        ];
        pairs.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        Config::from_lookup(|name| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
        .unwrap()
    }

    /// A verifier with the keys loaded, as after init.
    pub fn verifier(&self, extra: &[(&str, &str)], refetch_interval: Duration) -> Verifier {
        let config = self.config(extra);
        let verifier = Verifier::with_refetch_interval(
            config.clone(),
            JwksSource::http(&config.jwks_url),
            refetch_interval,
        );
        verifier.refresh_keys().unwrap();
        verifier
    }
}
