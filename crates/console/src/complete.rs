//! Completion of what is typed: a path on disk (with `~` for home), or a word among
//! known candidates.

/// `~` and `~/...` are the operator's home.
pub fn expand_home(path: &str) -> String {
    match (path.strip_prefix('~'), std::env::var("HOME")) {
        (Some(rest), Ok(home)) if rest.is_empty() || rest.starts_with('/') => {
            format!("{home}{rest}")
        }
        _ => path.to_owned(),
    }
}

/// Completes a path to the longest prefix the directory's entries share (a directory
/// gets its slash).
pub fn complete_path(text: &str) -> String {
    let expanded = expand_home(text);
    let (dir, prefix) = match expanded.rfind('/') {
        Some(i) => (&expanded[..=i], &expanded[i + 1..]),
        None => ("./", expanded.as_str()),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return text.to_owned();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| {
            let e = e.ok()?;
            let mut name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with(prefix) || (name.starts_with('.') && !prefix.starts_with('.')) {
                return None;
            }
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                name.push('/');
            }
            Some(name)
        })
        .collect();
    names.sort();
    let Some(first) = names.first() else {
        return text.to_owned();
    };
    let mut common = first.clone();
    for n in &names[1..] {
        while !n.starts_with(&common) {
            common.pop();
        }
    }
    let completed = format!(
        "{}{}",
        if dir == "./" && !expanded.starts_with("./") {
            ""
        } else {
            dir
        },
        common
    );
    // Keep the operator's `~` rather than showing the expanded home.
    match (text.starts_with('~'), std::env::var("HOME")) {
        (true, Ok(home)) => completed.replacen(&home, "~", 1),
        _ => completed,
    }
}

/// The text completed to the longest common prefix of the candidates it starts (any
/// case); the text itself when none does.
pub fn complete_from<S: AsRef<str>>(text: &str, candidates: &[S]) -> String {
    let lower = text.to_lowercase();
    let matches: Vec<&str> = candidates
        .iter()
        .map(AsRef::as_ref)
        .filter(|c| c.to_lowercase().starts_with(&lower))
        .collect();
    let Some(first) = matches.first() else {
        return text.to_owned();
    };
    let mut prefix: Vec<char> = first.chars().collect();
    for m in &matches[1..] {
        let n = prefix
            .iter()
            .zip(m.chars())
            .take_while(|(a, b)| a.to_lowercase().eq(b.to_lowercase()))
            .count();
        prefix.truncate(n);
    }
    if prefix.len() > text.chars().count() {
        prefix.into_iter().collect()
    } else {
        text.to_owned()
    }
}
