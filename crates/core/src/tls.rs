//! The TLS client settings usher's own connections share (the directory's LDAP, the
//! relay's implicit TLS): rustls with ring, and the roots a site gives in a CA file.

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Adds every certificate of a PEM file's text to `roots`; a file with none is refused.
pub(crate) fn add_pem(roots: &mut RootCertStore, pem: &[u8]) -> Result<(), String> {
    let mut added = 0;
    for cert in CertificateDer::pem_slice_iter(pem) {
        roots
            .add(cert.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        added += 1;
    }
    if added == 0 {
        return Err("no certificate in it".into());
    }
    Ok(())
}

/// A client configuration that trusts `roots`.
pub(crate) fn client_config(roots: RootCertStore) -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
