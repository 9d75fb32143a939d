//! The reader of a crate's source: its files by module, their text with comments and
//! strings blanked, and every path they name, `use` trees expanded and re-exports
//! followed to the file that defines what a path names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The source folders of the workspace's crates, each read on its own.
pub fn crate_roots() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut roots = vec![root.join("src")];
    if let Ok(dir) = std::fs::read_dir(root.join("crates")) {
        let mut more: Vec<PathBuf> = dir
            .flatten()
            .map(|e| e.path().join("src"))
            .filter(|p| p.is_dir())
            .collect();
        more.sort();
        roots.extend(more);
    }
    roots
}

pub fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// A crate's files by module path (`import::plan` for src/import/plan.rs), as text.
pub fn read_crate(src: &Path) -> BTreeMap<Vec<String>, String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files
        .into_iter()
        .filter_map(|f| {
            let rel = f.strip_prefix(src).ok()?;
            let text = std::fs::read_to_string(&f).ok()?;
            Some((module_of(rel), text))
        })
        .collect()
}

pub fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The text with comments, strings and character literals blanked (newlines kept), so
/// that a path in a doc comment or a message is not read as an arrow.
pub fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let rest = &text[i..];
        let skip = if rest.starts_with("//") {
            rest.find('\n').unwrap_or(rest.len())
        } else if rest.starts_with("/*") {
            rest.find("*/").map_or(rest.len(), |e| e + 2)
        } else if let Some(len) = raw_string_len(rest) {
            len
        } else if rest.starts_with('"') {
            string_len(rest)
        } else if rest.starts_with('\'') && rest[1..].chars().nth(1) == Some('\'') {
            1 + rest[1..].chars().next().map_or(0, char::len_utf8) + 1
        } else if rest.starts_with("'\\") {
            rest[1..].find('\'').map_or(1, |e| e + 2)
        } else {
            0
        };
        if skip == 0 {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        } else {
            out.extend(rest[..skip].chars().filter(|&c| c == '\n'));
            out.push(' ');
            i += skip;
        }
    }
    out
}

/// A file's unit tests (`#[cfg(test)] mod tests { use super::*; }`) name the file itself
/// through `super`; they are left out rather than read as an arrow to the parent.
pub fn without_tests(code: &str) -> String {
    let mut at = 0;
    while let Some(found) = code[at..].find("#[cfg(test)]") {
        let start = at + found;
        let after = code[start + 12..].trim_start();
        if after.starts_with("mod ") {
            return code[..start].to_string();
        }
        at = start + 12;
    }
    code.to_string()
}

pub fn string_len(rest: &str) -> usize {
    let b = rest.as_bytes();
    let mut j = 1;
    while j < b.len() && b[j] != b'"' {
        j += if b[j] == b'\\' { 2 } else { 1 };
    }
    (j + 1).min(b.len())
}

pub fn raw_string_len(rest: &str) -> Option<usize> {
    let body = rest.strip_prefix('r').or_else(|| rest.strip_prefix("br"))?;
    let hashes = body.len() - body.trim_start_matches('#').len();
    let after = body[hashes..].strip_prefix('"')?;
    let close = format!("\"{}", "#".repeat(hashes));
    let end = after.find(&close)?;
    Some(rest.len() - after.len() + end + close.len())
}

/// Every path the code names, `use` trees expanded (the caller keeps those of the crate).
pub fn paths_in(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before_ok = at == 0 || !is_ident(rest.as_bytes()[at - 1] as char);
        let tail = &rest[at + 4..];
        let end = tail.find(';').unwrap_or(tail.len());
        if before_ok {
            expand_tree(&[], tail[..end].trim(), &mut out);
        }
        rest = &tail[end.min(tail.len())..];
    }
    out.extend(inline_paths(&strip_uses(code)));
    out
}

pub fn strip_uses(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before_ok = at == 0 || !is_ident(rest.as_bytes()[at - 1] as char);
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if before_ok {
            let end = tail.find(';').map_or(tail.len(), |e| e + 1);
            rest = &tail[end..];
        } else {
            out.push_str("use ");
            rest = &tail[4..];
        }
    }
    out.push_str(rest);
    out
}

pub fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// `a::{b::C, d as e, self}` under `prefix` into whole paths.
pub fn expand_tree(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim().trim_start_matches("::");
    if let Some(open) = tree.find('{') {
        let head: Vec<String> = segments(&tree[..open]);
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let base: Vec<String> = prefix.iter().cloned().chain(head).collect();
        for part in split_top(inner) {
            expand_tree(&base, part, out);
        }
        return;
    }
    let plain = tree.split(" as ").next().unwrap_or(tree);
    let mut path: Vec<String> = prefix.to_vec();
    for s in segments(plain) {
        if s != "self" || path.is_empty() {
            path.push(s);
        }
    }
    if !path.is_empty() {
        out.push(path);
    }
}

pub fn segments(s: &str) -> Vec<String> {
    s.split("::")
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

pub fn split_top(s: &str) -> Vec<&str> {
    let (mut depth, mut start, mut parts) = (0, 0, Vec::new());
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

pub fn inline_paths(code: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts = i == 0 || !is_ident(chars[i - 1]) && chars[i - 1] != ':';
        if starts && is_ident(chars[i]) {
            let mut path = Vec::new();
            let mut j = i;
            loop {
                let s = j;
                while j < chars.len() && is_ident(chars[j]) {
                    j += 1;
                }
                path.push(chars[s..j].iter().collect::<String>());
                if j + 2 < chars.len()
                    && chars[j] == ':'
                    && chars[j + 1] == ':'
                    && is_ident(chars[j + 2])
                {
                    j += 2;
                } else {
                    break;
                }
            }
            if path.len() > 1 {
                out.push(path);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// A crate's files and what each re-exports (`pub use x::Name` in a parent names a child).
pub struct Crate {
    files: BTreeMap<Vec<String>, String>,
    reexports: BTreeMap<Vec<String>, BTreeMap<String, Vec<String>>>,
}

impl Crate {
    pub fn new(files: BTreeMap<Vec<String>, String>) -> Self {
        let files: BTreeMap<_, _> = files
            .into_iter()
            .map(|(m, t)| (m, without_tests(&code_only(&t))))
            .collect();
        let mut reexports = BTreeMap::new();
        for (module, code) in &files {
            let mut names = BTreeMap::new();
            // Any `use` in a module lets its children name the item through it (`super::X`).
            for line in use_trees(code) {
                let mut paths = Vec::new();
                expand_tree(&[], &line, &mut paths);
                for p in paths {
                    let absolute = absolute(module, &p);
                    if let Some(name) = alias_or_last(&line, &p) {
                        names.insert(name, absolute);
                    }
                }
            }
            reexports.insert(module.clone(), names);
        }
        Crate { files, reexports }
    }

    /// The file a path's item is defined in: the deepest module file it names, following
    /// a parent's re-export of the next name down to the file that holds it.
    pub fn file_of(&self, path: &[String], depth: usize) -> Option<Vec<String>> {
        let mut best = None;
        for n in (0..=path.len()).rev() {
            if self.files.contains_key(&path[..n]) {
                best = Some(n);
                break;
            }
        }
        let n = best?;
        let module = path[..n].to_vec();
        let target = path
            .get(n)
            .filter(|_| depth < 8)
            .and_then(|next| self.reexports.get(&module)?.get(next))
            .filter(|t| t.starts_with(&module) && t.len() > module.len());
        if let Some(target) = target {
            let mut whole = target.clone();
            whole.extend(path[n + 1..].iter().cloned());
            return self.file_of(&whole, depth + 1).or(Some(module));
        }
        Some(module)
    }

    pub fn arrows(&self) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
        let mut arrows = BTreeMap::new();
        for (module, code) in &self.files {
            let mut to = BTreeSet::new();
            // A parent's `pub use child::Name` is its public face, like `mod child`, not
            // a use of the child: what names it through the parent is led to the child.
            let face: Vec<Vec<String>> = self.reexports[module]
                .values()
                .filter(|t| !(t.starts_with(module) && t.len() > module.len()))
                .cloned()
                .collect();
            for p in paths_in(&strip_pub_uses(code)).into_iter().chain(face) {
                let keyword = matches!(p[0].as_str(), "crate" | "super" | "self");
                let child = [module.as_slice(), &p[..1]].concat();
                if !keyword && !self.files.contains_key(&child) {
                    continue;
                }
                let abs = absolute(module, &p);
                if let Some(f) = self.file_of(&abs, 0) {
                    to.insert(f);
                }
            }
            to.remove(module);
            arrows.insert(module.clone(), to);
        }
        arrows
    }
}

pub fn strip_pub_uses(code: &str) -> String {
    let mut out = code.to_string();
    for line in pub_uses(code) {
        for head in ["pub use ", "pub(crate) use "] {
            out = out.replace(&format!("{head}{line};"), "");
        }
    }
    out
}

pub fn use_trees(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let starts = at == 0 || !is_ident(rest.as_bytes()[at - 1] as char);
        let tail = &rest[at + 4..];
        let end = tail.find(';').unwrap_or(tail.len());
        if starts {
            out.push(tail[..end].to_string());
        }
        rest = &tail[end..];
    }
    out
}

pub fn pub_uses(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("pub use ") {
        let tail = &rest[at + 8..];
        let end = tail.find(';').unwrap_or(tail.len());
        out.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    let mut rest = code;
    while let Some(at) = rest.find("pub(crate) use ") {
        let tail = &rest[at + 15..];
        let end = tail.find(';').unwrap_or(tail.len());
        out.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    out
}

pub fn alias_or_last(line: &str, p: &[String]) -> Option<String> {
    let last = p.last()?.clone();
    let renamed = format!("{last} as ");
    match line.find(&renamed) {
        Some(at) => line[at + renamed.len()..]
            .split(|c: char| !is_ident(c))
            .next()
            .map(String::from),
        None => Some(last),
    }
}

/// A `crate::`, `super::` or `self::` path (or a child's name) made absolute.
pub fn absolute(module: &[String], p: &[String]) -> Vec<String> {
    let mut base: Vec<String> = module.to_vec();
    let mut rest = p;
    match p.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &p[1..];
        }
        Some("self") => rest = &p[1..],
        Some("super") => {
            while rest.first().map(String::as_str) == Some("super") {
                base.pop();
                rest = &rest[1..];
            }
        }
        _ => {}
    }
    base.extend(rest.iter().cloned());
    base
}

pub fn name(m: &[String]) -> String {
    if m.is_empty() {
        "lib".into()
    } else {
        m.join("::")
    }
}
