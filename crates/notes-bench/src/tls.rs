//! The TLS of the run: a CA made for this run alone (root, intermediate, and a server
//! certificate for `127.0.0.1` and `localhost`, as AWS serves a leaf and an intermediate under a
//! root the client holds), and the server configuration of the TLS endpoints that stand in front
//! of the local services. Subjects trust this root and nothing else.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The run's CA: the root's PEM file (what subjects are told to trust) and the servers' config.
#[derive(Debug)]
pub(crate) struct RunCa {
    dir: PathBuf,
    bundle: PathBuf,
    server: Arc<ServerConfig>,
}

fn ca_params(name: &str) -> Result<CertificateParams, String> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(params)
}

impl RunCa {
    /// A fresh CA, its root written to `dir/ca.pem` (created, and removed on drop).
    pub(crate) fn generate(dir: &Path) -> Result<Self, String> {
        let error = |e: rcgen::Error| format!("the run's CA: {e}");
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;

        let root_key = KeyPair::generate().map_err(error)?;
        let root_params = ca_params("notes-bench root CA (this run only)")?;
        let root = root_params.self_signed(&root_key).map_err(error)?;
        let root_issuer = Issuer::new(root_params, root_key);

        let intermediate_key = KeyPair::generate().map_err(error)?;
        let intermediate_params = ca_params("notes-bench intermediate CA")?;
        let intermediate = intermediate_params
            .signed_by(&intermediate_key, &root_issuer)
            .map_err(error)?;
        let intermediate_issuer = Issuer::new(intermediate_params, intermediate_key);

        let server_key = KeyPair::generate().map_err(error)?;
        // `new` turns "127.0.0.1" into an IP address name: the subjects connect by address.
        let mut server_params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .map_err(error)?;
        server_params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        server_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server = server_params
            .signed_by(&server_key, &intermediate_issuer)
            .map_err(error)?;

        let bundle = dir.join("ca.pem");
        std::fs::write(&bundle, root.pem()).map_err(|e| format!("{}: {e}", bundle.display()))?;

        let chain: Vec<CertificateDer<'static>> =
            vec![server.der().clone(), intermediate.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        // Explicitly ring, as the functions' clients: no process-wide default to depend on.
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| format!("the run's server certificate: {e}"))?;
        // HTTP/1.1, as DynamoDB speaks to the SDKs.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            dir: dir.to_path_buf(),
            bundle,
            server: Arc::new(config),
        })
    }

    /// The root certificate's PEM file.
    pub(crate) fn bundle(&self) -> &Path {
        &self.bundle
    }

    pub(crate) fn server_config(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.server)
    }
}

impl Drop for RunCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
