//! HTTP helpers of the server and binary tests: a blocking TAXII client, the
//! `Authorization` values they send, and a self-signed certificate with a
//! client that trusts it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use reqwest::blocking::Client;

/// The TAXII 2.1 media type (TAXII 2.1 §1.6.8), sent as `Accept`.
pub const TAXII: &str = "application/taxii+json;version=2.1";

/// An HTTP Basic `Authorization` value (RFC 7617).
pub fn basic(user: &str, pw: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))
    )
}

fn builder() -> reqwest::blocking::ClientBuilder {
    Client::builder()
        .default_headers(
            [(
                reqwest::header::ACCEPT,
                reqwest::header::HeaderValue::from_static(TAXII),
            )]
            .into_iter()
            .collect(),
        )
        .timeout(Duration::from_secs(30))
}

/// A blocking client with a 30 s timeout, sending `Accept` for TAXII 2.1.
pub fn client() -> Client {
    builder().build().expect("HTTP client")
}

/// A certificate for `localhost` and `127.0.0.1`, signed by itself, written
/// as PEM files.
#[derive(Debug)]
pub struct TestCert {
    /// The certificate's PEM file (`cert.pem`).
    pub cert: PathBuf,
    /// Its private key's PEM file (`key.pem`).
    pub key: PathBuf,
    /// The certificate in PEM, for a client to trust.
    pub pem: String,
}

impl TestCert {
    /// Makes one and writes `cert.pem` and `key.pem` into `dir`.
    pub fn write(dir: &Path) -> TestCert {
        let c = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("self-signed certificate");
        let pem = c.cert.pem();
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert, &pem).expect("write cert.pem");
        std::fs::write(&key, c.signing_key.serialize_pem()).expect("write key.pem");
        TestCert { cert, key, pem }
    }

    /// [`client`] trusting this certificate.
    pub fn client(&self) -> Client {
        builder()
            .add_root_certificate(
                reqwest::Certificate::from_pem(self.pem.as_bytes()).expect("PEM certificate"),
            )
            .build()
            .expect("HTTP client")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7617 §2's example.
    #[test]
    fn basic_is_rfc_7617() {
        assert_eq!(
            basic("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    #[test]
    fn the_certificate_files_are_pem() {
        let dir =
            std::env::temp_dir().join(format!("sightline-testkit-cert-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let c = TestCert::write(&dir);
        let cert = std::fs::read_to_string(&c.cert).expect("read");
        assert_eq!(cert, c.pem);
        assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
        let key = std::fs::read_to_string(&c.key).expect("read");
        assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"), "{key}");
        drop(c.client());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
