//! What goes wrong reading a directory, in words that name the server, DN or file.

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The server cannot be reached, or TLS with it failed.
    #[error("cannot reach the directory {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The connection dropped part-way: nothing read is used.
    #[error("the directory {url} stopped answering part-way ({reason}); nothing was changed")]
    Dropped { url: String, reason: String },
    #[error(
        "the directory refused the bind as {dn} (LDAP code {rc}{})",
        said(text)
    )]
    Bind { dn: String, rc: u32, text: String },
    /// The search ended with an error, a size or time limit among them: a directory read
    /// in part is not planned on.
    #[error(
        "the search under {base} ended with LDAP code {rc}{} after {read} entries; nothing was changed{}",
        said(text),
        hint(*rc)
    )]
    Search {
        base: String,
        rc: u32,
        text: String,
        read: u64,
    },
    #[error("source '{source_name}': the group {dn} is not in the directory")]
    NoGroup { source_name: String, dn: String },
    /// The source's own settings (password, CA file) are wrong.
    #[error("{0}")]
    Setup(String),
}

fn said(text: &str) -> String {
    let text = crate::domain::sanitize::escape_for_display(text.trim());
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// What to do about the codes a sysadmin meets: a size or time limit on the bind DN, a
/// base that does not exist.
fn hint(rc: u32) -> &'static str {
    match rc {
        3 | 4 | 11 => {
            " (raise the directory's size and time limits for the bind DN; usher reads in pages)"
        }
        32 => " (the base DN does not exist)",
        _ => "",
    }
}
