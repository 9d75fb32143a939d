//! `cargo bench --bench sync`: a directory of USHER_BENCH_ENTRIES people (default
//! 100,000; AD-like entries in Debian's slapd, loaded with slapadd), synced on each
//! backend (PostgreSQL too when USHER_TEST_POSTGRES_URL is set). Times the read alone
//! (entries a second), the first preview and apply (everyone invited), a run with
//! nothing to change, and a run after an admin's day of changes (1 % renamed, 0.5 %
//! disabled, 0.5 % gone), with the process's peak memory. Without `--bench` (as `cargo
//! test --benches` runs it) it syncs 500 entries, to check that it works.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/common/slapd.rs"]
mod slapd;

use std::io::Write;
use std::time::Instant;

use common::{TestDb, account};
use slapd::{Shape, Slapd, ad_person};
use usher::config::{Config, Overrides, SyncSource};
use usher::service::{RunOptions, RunOutcome};
use usher::store::Backend;

fn peak_rss_mib() -> f64 {
    common::proc_status_mib("VmHWM:")
}

/// Person `i`'s entry: AD-like, enabled, with a GUID of its own.
fn entry(i: usize, uac: u32) -> String {
    let mut e = ad_person(
        0,
        &format!("P{i}"),
        &format!("Staff{}", i % 977),
        &mail(i),
        uac,
    );
    // A GUID of its own: the helper's differs only in its last byte.
    let guid = {
        use base64::Engine;
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&(i as u64).to_le_bytes());
        b[8..].copy_from_slice(&0x5a5a_5a5a_5a5a_5a5a_u64.to_le_bytes());
        base64::engine::general_purpose::STANDARD.encode(b)
    };
    let at = e.find("objectGUID:: ").unwrap();
    let end = e[at..].find('\n').unwrap() + at;
    e.replace_range(at..end, &format!("objectGUID:: {guid}"));
    e
}

fn mail(i: usize) -> String {
    format!("p{i}.staff@acme.test")
}

fn dn(i: usize) -> String {
    format!("cn=P{i} Staff{},ou=people,{}", i % 977, slapd::SUFFIX)
}

/// USHER_BENCH_CREATE=direct: new people created at once, each mailed a link, so that the
/// day's changes meet users rather than pending invitations.
fn source(ldap: &Slapd) -> SyncSource {
    let create = std::env::var("USHER_BENCH_CREATE").unwrap_or_else(|_| "invite".into());
    let toml = ldap.source_toml(
        "corp",
        // Limits a site of this size would set: the day's 1,000 suspensions pass.
        &format!("page_size = 1000\ncreate = \"{create}\"\n[sync.source.limits]\nsuspend = 2000\n"),
    );
    Config::from_toml(
        &toml,
        &Overrides::default(),
        &[("USHER_DATA_DIR", "/tmp/x")],
    )
    .unwrap()
    .sync
    .remove(0)
}

/// An admin's day: 1 % renamed, 0.5 % disabled, 0.5 % deleted, by ldapmodify and
/// ldapdelete.
fn a_day_of_changes(ldap: &Slapd, n: usize) {
    let mut ldif = String::new();
    for i in (0..n).step_by(100) {
        ldif.push_str(&format!(
            "dn: {}\nchangetype: modify\nreplace: mail\nmail: renamed{i}@acme.test\n\n",
            dn(i)
        ));
    }
    for i in (1..n).step_by(200) {
        ldif.push_str(&format!(
            "dn: {}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 514\n\n",
            dn(i)
        ));
    }
    for i in (2..n).step_by(200) {
        ldif.push_str(&format!("dn: {}\nchangetype: delete\n\n", dn(i)));
    }
    ldap.modify(&ldif);
}

/// One backend's account, kept between the first sync and the day after.
struct Site {
    name: String,
    _db: TestDb,
    u: usher::Usher,
    clock: usher::domain::ManualClock,
}

async fn first_sync(backend: Backend, ldap: &Slapd, n: usize) -> Option<Site> {
    let db = TestDb::open(backend).await?;
    let (u, clock) = account(&db, n as i64 + 10).await;
    let s = source(ldap);
    let o = RunOptions::default();
    let name = format!("{backend:?}").to_lowercase();

    let t = Instant::now();
    let mut quiet = |_: u64| {};
    let read = usher::sync::read(&s, &s.filter, &mut quiet).await.unwrap();
    let read_s = t.elapsed().as_secs_f64();
    let entries = read.entries.len();
    drop(read);
    let t = Instant::now();
    let p = u.sync_preview(&s, &o).await.unwrap();
    let preview_s = t.elapsed().as_secs_f64();
    assert_eq!(p.entries as usize, n);
    drop(p);
    clock.advance_ms(60_000);
    let t = Instant::now();
    let first = u.sync_apply(&s, &o).await.unwrap();
    let first_s = t.elapsed().as_secs_f64();
    let out = first.applied.as_ref().unwrap();
    assert_eq!(out.invited + out.created, n);
    clock.advance_ms(60_000);
    let t = Instant::now();
    let again = u.sync_apply(&s, &o).await.unwrap();
    let again_s = t.elapsed().as_secs_f64();
    assert_eq!(again.outcome, RunOutcome::Unchanged);
    println!(
        "{name:<9} read {entries} entries {read_s:.2} s ({:.0}/s); first preview {preview_s:.2} s; \
         first apply ({}) {first_s:.2} s; in step {again_s:.2} s",
        entries as f64 / read_s,
        out.summary()
    );
    Some(Site {
        name,
        _db: db,
        u,
        clock,
    })
}

/// The run after a day of changes, on the state the first sync left.
async fn after_a_day(site: &Site, ldap: &Slapd) {
    let s = source(ldap);
    let o = RunOptions::default();
    site.clock.advance_ms(86_400_000);
    let t = Instant::now();
    let p = site.u.sync_preview(&s, &o).await.unwrap();
    let preview_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let r = site.u.sync_apply(&s, &o).await.unwrap();
    let apply_s = t.elapsed().as_secs_f64();
    let out = r.applied.clone().unwrap_or_default();
    println!(
        "{:<9} a day later: preview {preview_s:.2} s ({} changes, {} suspensions); \
         apply {apply_s:.2} s ({}: {})",
        site.name,
        p.losses.changes,
        p.losses.suspend,
        r.outcome.as_str(),
        out.summary()
    );
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let n: usize = if quick {
        500
    } else {
        common::env_or("USHER_BENCH_ENTRIES", 100_000)
    };
    if !slapd::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.ldif");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    f.write_all(Slapd::base().as_bytes()).unwrap();
    for i in 0..n {
        f.write_all(entry(i, 512).as_bytes()).unwrap();
    }
    drop(f);
    let slapd_dir = dir.path().join("slapd");
    std::fs::create_dir_all(&slapd_dir).unwrap();
    let t = Instant::now();
    let ldap = Slapd::start_loaded(&slapd_dir, Shape::Ad, &path);
    println!(
        "slapd loaded with {n} entries in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // USHER_BENCH_ONLY=sqlite or =postgres runs one backend.
    let only = std::env::var("USHER_BENCH_ONLY").unwrap_or_default();
    rt.block_on(async {
        let mut sites = Vec::new();
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let name = format!("{backend:?}").to_lowercase();
            if !only.is_empty() && only != name {
                continue;
            }
            match first_sync(backend, &ldap, n).await {
                Some(site) => sites.push(site),
                None => println!("{name:<9} skipped (set USHER_TEST_POSTGRES_URL)"),
            }
        }
        let t = Instant::now();
        a_day_of_changes(&ldap, n);
        println!(
            "the day's changes made with ldapmodify in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        for site in &sites {
            after_a_day(site, &ldap).await;
        }
    });
    println!("peak memory {:.0} MiB", peak_rss_mib());
}
