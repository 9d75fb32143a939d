//! The shape of the house, checked on every test run:
//!
//! - no loop between the files of a crate: every `crate::`, `super::` and `self::` path is
//!   an arrow from the file that writes it to the file that defines what it names, and
//!   the arrows never come back round (`reader`, `graph`);
//! - no function over 100 lines without a `// long:` comment above it saying why
//!   (`functions`);
//! - the core crate depends on no terminal, HTTP or command-line crate, neither in its
//!   manifest nor anywhere in its `cargo tree`.
//!
//! The reader is a small one of its own (comments and strings blanked, `use` trees
//! expanded, re-exports followed), tested below on made-up files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod functions;
mod graph;
mod reader;

use std::path::Path;

use functions::long_functions;
use graph::loops;
use reader::{Crate, crate_roots, module_of, name, read_crate};

const LONGEST: usize = 100;
/// Crates of a terminal, HTTP or command-line front end, which the core never uses.
const FRONT_ENDS: [&str; 7] = [
    "ratatui",
    "crossterm",
    "axum",
    "tower",
    "hyper",
    "clap",
    "indicatif",
];

#[test]
fn no_loop_between_the_files_of_a_crate() {
    let mut found = Vec::new();
    for root in crate_roots() {
        let krate = Crate::new(read_crate(&root));
        let arrows = krate.arrows();
        for group in loops(&arrows) {
            let names: Vec<String> = group.iter().map(|m| name(m)).collect();
            found.push(format!("{}: {}", root.display(), names.join(" <-> ")));
            for from in &group {
                let to: Vec<String> = arrows[from]
                    .iter()
                    .filter(|t| group.contains(t))
                    .map(|t| name(t))
                    .collect();
                found.push(format!("    {} -> {}", name(from), to.join(", ")));
            }
        }
    }
    assert!(
        found.is_empty(),
        "loops between files:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_long_function_without_a_reason() {
    let mut found = Vec::new();
    for root in crate_roots() {
        for (module, text) in read_crate(&root) {
            for (f, len) in long_functions(&text) {
                found.push(format!("{}::{f}: {len} lines", name(&module)));
            }
        }
    }
    assert!(
        found.is_empty(),
        "functions over {LONGEST} lines:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_core_names_no_front_end_crate() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/core/Cargo.toml");
    let Ok(text) = std::fs::read_to_string(&manifest) else {
        panic!("the core crate's manifest is at {}", manifest.display());
    };
    let deps = text.split("[dependencies]").nth(1).unwrap_or("");
    let deps = deps.split("\n[").next().unwrap_or("");
    for front in [
        "ratatui",
        "crossterm",
        "axum",
        "tower",
        "hyper",
        "clap",
        "indicatif",
    ] {
        let named = deps.lines().any(|l| l.trim_start().starts_with(front));
        assert!(!named, "the core depends on {front}");
    }
}

/// The same through every dependency of the core, as `cargo tree` resolves them.
#[test]
fn nothing_the_core_depends_on_is_a_front_end_crate() {
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-p",
            "usher-core",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.lines().count() > 50, "{tree}");
    for line in tree.lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        assert!(
            !FRONT_ENDS
                .iter()
                .any(|f| name == *f || name.starts_with(&format!("{f}-"))),
            "the core pulls in {line}"
        );
    }
}

fn made_up(files: &[(&str, &str)]) -> Crate {
    Crate::new(
        files
            .iter()
            .map(|(p, t)| (module_of(Path::new(p)), t.to_string()))
            .collect(),
    )
}

#[test]
fn the_reader_finds_a_loop_through_a_parent_and_not_through_a_reexport() {
    let looped = made_up(&[
        ("lib.rs", "mod a;"),
        (
            "a/mod.rs",
            "mod b; pub struct Top; pub fn low() -> b::Low { b::Low }",
        ),
        ("a/b.rs", "use super::Top; pub struct Low;"),
    ]);
    let groups = loops(&looped.arrows());
    assert_eq!(groups.len(), 1, "{groups:?}");
    let fine = made_up(&[
        ("lib.rs", "mod a; mod c;"),
        ("a/mod.rs", "mod b; pub use b::Low;"),
        (
            "a/b.rs",
            "// use crate::c::X;\npub struct Low; fn f() -> &'static str { \"crate::c::X\" }",
        ),
        ("c.rs", "use crate::a::Low; pub struct X;"),
    ]);
    assert!(loops(&fine.arrows()).is_empty(), "{:?}", fine.arrows());
    let across = made_up(&[
        ("lib.rs", "mod a; mod c;"),
        ("a.rs", "use crate::{c::{X, self}}; pub struct A;"),
        ("c.rs", "pub struct X; fn f() { let _ = crate::a::A; }"),
    ]);
    assert_eq!(loops(&across.arrows()).len(), 1);
}

#[test]
fn the_reader_measures_a_function_and_reads_its_reason() {
    let body = "    let x = 1;\n".repeat(LONGEST);
    let text = format!(
        "fn long() {{\n{body}}}\n\n// long: one match over every key\nfn reasoned() {{\n{body}}}\nfn short() {{ let s = \"{{\"; }}\n"
    );
    let found = long_functions(&text);
    assert_eq!(found, vec![("long".to_string(), LONGEST + 2)]);
}
