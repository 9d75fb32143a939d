//! TLS to the directory: ldaps:// and StartTLS against slapd with a certificate from an
//! internal CA, trusted through the source's `ca_file`; without it the certificate is
//! refused and nothing is read.

use usher::Kind;
use usher::service::RunOptions;

use crate::common::ca::internal_ca;
use crate::common::{TestDb, account};
use crate::slapd::{self, Shape, Slapd, person};
use crate::source;

crate::on_both_backends!(ldaps_and_starttls_with_an_internal_ca);

async fn ldaps_and_starttls_with_an_internal_ca(db: &TestDb) {
    if !slapd::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = internal_ca(dir.path());
    let ldap = Slapd::start_tls(&dir.path().join("slapd"), Shape::Plain, &cert, &key);
    ldap.add(&person("ann", "Ann", "Lee", "ann@acme.test"));
    let (u, _clock) = account(db, 5).await;
    let plain = ldap.source_toml("corp", "");
    let tls_port = ldap.tls_port.unwrap();
    let with = |url: &str, extra: &str| {
        source(&plain.replace(
            &format!("url = \"{}\"", ldap.url()),
            &format!("url = \"{url}\"\nca_file = \"{}\"\n{extra}", ca.display()),
        ))
    };
    let o = RunOptions::default();
    let ldaps = with(&format!("ldaps://localhost:{tls_port}"), "");
    assert_eq!(u.sync_preview(&ldaps, &o).await.unwrap().entries, 1);
    let starttls = with(
        &format!("ldap://localhost:{}", ldap.port),
        "starttls = true",
    );
    assert_eq!(u.sync_preview(&starttls, &o).await.unwrap().entries, 1);
    // The system's roots do not know the internal CA: refused, nothing read.
    let untrusted = source(&plain.replace(
        &format!("url = \"{}\"", ldap.url()),
        &format!("url = \"ldaps://localhost:{tls_port}\""),
    ));
    let e = u.sync_preview(&untrusted, &o).await.unwrap_err();
    assert_eq!(e.kind(), Kind::Unavailable, "{e}");
    assert!(e.to_string().contains("cannot reach the directory"), "{e}");
}
