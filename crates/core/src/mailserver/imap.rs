//! A login over IMAP, as a mail client would try it: the check that the mail server reads
//! usher's views. Plain IMAP only, for a server on the same host or a trusted network.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::error::{Error, Result};

/// What the server answered to LOGIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImapLogin {
    /// Logged in, and the inbox opened.
    Accepted,
    /// Refused, with the server's words.
    Refused(String),
    /// Logged in, but the inbox would not open (the mail location or its owner is
    /// wrong), with the server's words.
    NoInbox(String),
}

/// Logs in to the IMAP server at `addr` (host:port) as `user`, opens the inbox (which
/// proves the user's mailbox is found as well as their password), then logs out.
pub async fn imap_login(
    addr: &str,
    user: &str,
    password: &str,
    wait: Duration,
) -> Result<ImapLogin> {
    let unavailable = |reason: String| Error::Unreachable(format!("IMAP at {addr}: {reason}"));
    let run = async {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        let greeting = next_line(&mut lines).await?;
        if !greeting.starts_with("* OK") {
            return Err(unavailable(format!("greeted with '{}'", clean(&greeting))));
        }
        let command = format!("a1 LOGIN {} {}\r\n", quoted(user)?, quoted(password)?);
        write
            .write_all(command.as_bytes())
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        let login = tagged(&mut lines, "a1 ").await?;
        if !login.starts_with("OK") {
            return Ok(ImapLogin::Refused(clean(&login)));
        }
        write
            .write_all(b"a2 SELECT INBOX\r\n")
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        let inbox = tagged(&mut lines, "a2 ").await?;
        let _ = write.write_all(b"a3 LOGOUT\r\n").await;
        Ok(if inbox.starts_with("OK") {
            ImapLogin::Accepted
        } else {
            ImapLogin::NoInbox(clean(&inbox))
        })
    };
    tokio::time::timeout(wait, run)
        .await
        .map_err(|_| unavailable(format!("no answer within {} s", wait.as_secs())))?
}

type Lines = tokio::io::Lines<BufReader<tokio::net::tcp::OwnedReadHalf>>;

/// The rest of the tagged answer to the command tagged `tag`, past untagged lines.
async fn tagged(lines: &mut Lines, tag: &str) -> Result<String> {
    loop {
        let line = next_line(lines).await?;
        if let Some(rest) = line.strip_prefix(tag) {
            return Ok(rest.to_owned());
        }
    }
}

async fn next_line(lines: &mut Lines) -> Result<String> {
    match lines.next_line().await {
        Ok(Some(l)) => Ok(l),
        Ok(None) => Err(Error::Unreachable(
            "the IMAP server closed the connection".into(),
        )),
        Err(e) => Err(Error::Unreachable(format!(
            "reading from the IMAP server: {e}"
        ))),
    }
}

/// An IMAP quoted string; what it cannot carry is refused rather than sent as a literal.
fn quoted(v: &str) -> Result<String> {
    if v.chars().any(|c| c.is_control() || !c.is_ascii()) {
        return Err(Error::invalid(
            "login",
            "the IMAP check takes ASCII logins and passwords without control characters",
        ));
    }
    Ok(format!(
        "\"{}\"",
        v.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

/// The server's words, made safe to print.
fn clean(s: &str) -> String {
    crate::domain::sanitize::escape_for_display(s.trim())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn quoting_escapes_what_imap_needs_and_refuses_the_rest() {
        assert_eq!(quoted(r#"a"b\c"#).unwrap(), r#""a\"b\\c""#);
        assert!(quoted("a\r\nb").is_err());
        assert!(quoted("zoë").is_err());
    }
}
