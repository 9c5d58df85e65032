//! The signature check behind jsonwebtoken, limited to what the authorizer accepts: RS256.
//!
//! jsonwebtoken's `rust_crypto` backend links every algorithm it supports (ECDSA on P-256 and
//! P-384, Ed25519, HMAC) because it picks one at run time from the token's header, and verifies
//! RSA with a generic big-integer crate: about 0.4 ms per token, most of the authorizer's time
//! (`make bench`). The authorizer refuses every algorithm but RS256 before any cryptography, so
//! this provider verifies RS256 with ring (already linked for TLS; its RSA verification is
//! assembly-optimised and widely audited) and refuses the rest. No cryptography is written
//! here, only the dispatch.

use jsonwebtoken::crypto::{CryptoProvider, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{self, Verifier};
use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey};

static RS256_ONLY: CryptoProvider = CryptoProvider {
    // The authorizer never signs.
    signer_factory: |_, _| Err(ErrorKind::InvalidAlgorithm.into()),
    verifier_factory: rs256_verifier,
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes RS256-only verification the process's jsonwebtoken provider. Called once from `main`;
/// a second call (or a provider installed earlier, as in tests that also sign tokens) keeps the
/// one already installed.
pub fn install_rs256_only() {
    let _ = RS256_ONLY.install_default();
}

/// An RSA public key as the JWKS gives it (modulus and exponent), or as PKCS#1 DER.
enum Rs256Verifier {
    Components { n: Vec<u8>, e: Vec<u8> },
    Der(Vec<u8>),
}

impl Verifier<Vec<u8>> for Rs256Verifier {
    fn verify(
        &self,
        message: &[u8],
        signature: &Vec<u8>,
    ) -> std::result::Result<(), signature::Error> {
        // PKCS#1 v1.5 with SHA-256, keys of 2048 to 8192 bits (Cognito's are 2048).
        let verified = match self {
            Self::Components { n, e } => RsaPublicKeyComponents { n, e }.verify(
                &RSA_PKCS1_2048_8192_SHA256,
                message,
                signature,
            ),
            Self::Der(der) => {
                UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der).verify(message, signature)
            }
        };
        verified.map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for Rs256Verifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::RS256
    }
}

fn rs256_verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    if *algorithm != Algorithm::RS256 {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    let verifier = match key.kind() {
        DecodingKeyKind::RsaModulusExponent { n, e } => Rs256Verifier::Components {
            n: n.clone(),
            e: e.clone(),
        },
        // An HMAC secret is also "SecretOrDer": only an RSA key with a matching family may pass.
        DecodingKeyKind::SecretOrDer(der) if key.family() == jsonwebtoken::AlgorithmFamily::Rsa => {
            Rs256Verifier::Der(der.clone())
        }
        DecodingKeyKind::SecretOrDer(_) => {
            return Err(ErrorKind::InvalidRsaKey("not an RSA public key".into()).into());
        }
    };
    Ok(Box::new(verifier))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rs256_with_an_rsa_key_gets_a_verifier() {
        let hmac = DecodingKey::from_secret(b"secret");
        for algorithm in [
            Algorithm::HS256,
            Algorithm::ES256,
            Algorithm::EdDSA,
            Algorithm::PS256,
        ] {
            assert!(rs256_verifier(&algorithm, &hmac).is_err(), "{algorithm:?}");
        }
        assert!(
            rs256_verifier(&Algorithm::RS256, &hmac).is_err(),
            "an HMAC secret is not an RSA key"
        );
    }

    #[test]
    fn verifies_rs256_signatures_and_nothing_else() {
        use base64::Engine as _;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let key = notes_testkit::issuer::SigningKey::generate().unwrap();
        let token = notes_testkit::issuer::TokenSpec::new("alice")
            .mint(&key)
            .unwrap();
        let jwk = key.jwk();
        let decoding = DecodingKey::from_rsa_components(
            jwk["n"].as_str().unwrap(),
            jwk["e"].as_str().unwrap(),
        )
        .unwrap();
        let verifier = rs256_verifier(&Algorithm::RS256, &decoding).unwrap();
        let (message, signature) = token.rsplit_once('.').unwrap();
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        assert!(verifier.verify(message.as_bytes(), &signature).is_ok());
        let tampered = message.replacen('e', "f", 1);
        assert!(verifier.verify(tampered.as_bytes(), &signature).is_err());
        let other = notes_testkit::issuer::SigningKey::generate().unwrap();
        let forged = notes_testkit::issuer::TokenSpec::new("alice")
            .mint(&other)
            .unwrap();
        let (message, signature) = forged.rsplit_once('.').unwrap();
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        assert!(verifier.verify(message.as_bytes(), &signature).is_err());
    }
}
