//! `--web.config.file`: the web configuration file of the Prometheus
//! exporter toolkit (`tls_server_config`, `basic_auth_users`), read once
//! at start.
//!
//! Supported: `cert_file`/`key_file` (or inline `cert`/`key`),
//! `client_auth_type` (`NoClientCert`, `VerifyClientCertIfGiven`,
//! `RequireAndVerifyClientCert`) with `client_ca_file`, `min_version` and
//! `max_version` (`TLS12`, `TLS13`), and `basic_auth_users` (bcrypt
//! hashes). Any other key is an error naming it. Relative file names are
//! relative to the configuration file's directory, as in the toolkit.

use crate::fail::{Failure, Result};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    tls_server_config: Option<Tls>,
    #[serde(default)]
    basic_auth_users: BTreeMap<String, String>,
}

/// `tls_server_config`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Tls {
    cert: Option<String>,
    cert_file: Option<PathBuf>,
    key: Option<String>,
    key_file: Option<PathBuf>,
    client_auth_type: Option<String>,
    client_ca_file: Option<PathBuf>,
    min_version: Option<String>,
    max_version: Option<String>,
}

/// The configuration, ready to serve with.
pub(crate) struct WebConfig {
    /// The TLS configuration, when `tls_server_config` is given.
    pub(crate) tls: Option<Arc<ServerConfig>>,
    /// User name to bcrypt hash; empty when no authentication is asked.
    pub(crate) users: BTreeMap<String, String>,
}

/// Reads and checks the file at `path`.
pub(crate) fn load(path: &Path) -> Result<WebConfig> {
    let fail = |e: &dyn std::fmt::Display| Failure(format!("{}: {e}", path.display()));
    let bytes = std::fs::read(path).map_err(|e| fail(&e))?;
    let text = std::str::from_utf8(&bytes).map_err(|e| fail(&e))?;
    let file: File = if text.trim().is_empty() {
        File::default()
    } else {
        serde_norway::from_str(text).map_err(|e| fail(&e))?
    };
    for (user, hash) in &file.basic_auth_users {
        if user.contains(':') {
            return Err(fail(&format_args!(
                "basic_auth_users: user {user:?} has a ':', which basic auth cannot carry"
            )));
        }
        if hash.parse::<bcrypt::HashParts>().is_err() {
            return Err(fail(&format_args!(
                "basic_auth_users: the password of {user:?} is not a bcrypt hash"
            )));
        }
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let tls = match file.tls_server_config {
        Some(tls) => Some(Arc::new(server_config(&tls, dir).map_err(|e| fail(&e))?)),
        None => None,
    };
    Ok(WebConfig {
        tls,
        users: file.basic_auth_users,
    })
}

/// PEM text, inline or from a file relative to `dir`.
fn pem(inline: &Option<String>, file: &Option<PathBuf>, dir: &Path, what: &str) -> Result<Vec<u8>> {
    match (inline, file) {
        (Some(_), Some(_)) => Err(Failure(format!(
            "tls_server_config: both {what} and {what}_file are given"
        ))),
        (Some(text), None) => Ok(text.clone().into_bytes()),
        (None, Some(file)) => {
            let file = dir.join(file);
            std::fs::read(&file).map_err(|e| Failure(format!("{}: {e}", file.display())))
        }
        (None, None) => Err(Failure(format!(
            "tls_server_config: {what}_file (or {what}) is required"
        ))),
    }
}

/// A PEM parse error, naming the item.
fn bad_pem(what: &str, e: &dyn std::fmt::Display) -> Failure {
    Failure(format!("tls_server_config: {what}: {e}"))
}

/// The rustls configuration of `tls`.
fn server_config(tls: &Tls, dir: &Path) -> Result<ServerConfig> {
    let certs = CertificateDer::pem_slice_iter(&pem(&tls.cert, &tls.cert_file, dir, "cert")?)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| bad_pem("cert", &e))?;
    if certs.is_empty() {
        return Err(bad_pem("cert", &"no certificate in it"));
    }
    let key = PrivateKeyDer::from_pem_slice(&pem(&tls.key, &tls.key_file, dir, "key")?)
        .map_err(|e| bad_pem("key", &e))?;
    let versions = versions(tls)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&versions)
        .map_err(|e| bad_pem("min_version/max_version", &e))?;
    let required = match tls.client_auth_type.as_deref().unwrap_or("NoClientCert") {
        "NoClientCert" | "" => None,
        "VerifyClientCertIfGiven" => Some(false),
        "RequireAndVerifyClientCert" => Some(true),
        other => {
            return Err(Failure(format!(
                "tls_server_config: client_auth_type {other:?} is not supported \
                 (NoClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert)"
            )));
        }
    };
    let builder = match (required, &tls.client_ca_file) {
        (None, _) => builder.with_no_client_auth(),
        (Some(_), None) => {
            return Err(Failure(
                "tls_server_config: client_auth_type needs client_ca_file".into(),
            ));
        }
        (Some(required), Some(ca)) => {
            let ca = dir.join(ca);
            let mut roots = RootCertStore::empty();
            let bytes =
                std::fs::read(&ca).map_err(|e| Failure(format!("{}: {e}", ca.display())))?;
            for cert in CertificateDer::pem_slice_iter(&bytes) {
                roots
                    .add(cert.map_err(|e| bad_pem("client_ca_file", &e))?)
                    .map_err(|e| bad_pem("client_ca_file", &e))?;
            }
            let mut verifier = WebPkiClientVerifier::builder_with_provider(roots.into(), provider);
            if !required {
                verifier = verifier.allow_unauthenticated();
            }
            let verifier = verifier
                .build()
                .map_err(|e| bad_pem("client_ca_file", &e))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| bad_pem("cert_file/key_file", &e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The protocol versions between `min_version` (default TLS12) and
/// `max_version` (default TLS13).
fn versions(tls: &Tls) -> Result<Vec<&'static rustls::SupportedProtocolVersion>> {
    let rank = |v: &Option<String>, default: u8, key: &str| match v.as_deref() {
        None => Ok(default),
        Some("TLS12") => Ok(12),
        Some("TLS13") => Ok(13),
        Some(other) => Err(Failure(format!(
            "tls_server_config: {key} {other:?} is not supported (TLS12, TLS13)"
        ))),
    };
    let (min, max) = (
        rank(&tls.min_version, 12, "min_version")?,
        rank(&tls.max_version, 13, "max_version")?,
    );
    let all = [(12, &rustls::version::TLS12), (13, &rustls::version::TLS13)];
    let chosen: Vec<_> = all
        .into_iter()
        .filter(|(v, _)| (min..=max).contains(v))
        .map(|(_, p)| p)
        .collect();
    if chosen.is_empty() {
        return Err(Failure(
            "tls_server_config: min_version is above max_version".into(),
        ));
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::load;
    use cantal_testkit::TempDir;

    #[test]
    fn unknown_keys_are_named() {
        let dir = TempDir::new("webconfig");
        let path = dir.0.join("web.yml");
        std::fs::write(
            &path,
            "tls_server_config:\n  cert_file: a\n  cipher_suites: []\n",
        )
        .unwrap();
        let e = load(&path).err().unwrap().0;
        assert!(e.contains("cipher_suites") && e.contains("web.yml"), "{e}");
        std::fs::write(&path, "basic_auth_user:\n  a: b\n").unwrap();
        let e = load(&path).err().unwrap().0;
        assert!(e.contains("basic_auth_user"), "{e}");
    }

    #[test]
    fn users_need_bcrypt_hashes() {
        let dir = TempDir::new("webconfig");
        let path = dir.0.join("web.yml");
        std::fs::write(&path, "basic_auth_users:\n  alice: plain\n").unwrap();
        let e = load(&path).err().unwrap().0;
        assert!(e.contains("alice") && e.contains("bcrypt"), "{e}");
        std::fs::write(
            &path,
            "basic_auth_users:\n  alice: $2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze\n",
        )
        .unwrap();
        let config = load(&path).unwrap();
        assert!(config.tls.is_none());
        assert_eq!(config.users.len(), 1);
        std::fs::write(&path, "").unwrap();
        assert!(load(&path).unwrap().users.is_empty());
    }

    #[test]
    fn tls_needs_its_files() {
        let dir = TempDir::new("webconfig");
        let path = dir.0.join("web.yml");
        std::fs::write(
            &path,
            "tls_server_config:\n  cert_file: missing.crt\n  key_file: k\n",
        )
        .unwrap();
        let e = load(&path).err().unwrap().0;
        assert!(e.contains("missing.crt"), "{e}");
        std::fs::write(&path, "tls_server_config:\n  key_file: k\n").unwrap();
        let e = load(&path).err().unwrap().0;
        assert!(e.contains("cert_file"), "{e}");
    }
}
