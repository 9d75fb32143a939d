//! Builds the RFC 5322 message that the outbox stores and the sender delivers unchanged,
//! so that a retry after a crash carries the same Message-ID.

use std::time::{Duration, SystemTime};

use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, SinglePart};

use crate::domain::Timestamp;
use crate::domain::sanitize::single_line;
use crate::domain::token::random_hex;
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct Composed {
    pub message_id: String,
    pub env_from: String,
    pub env_to: Vec<String>,
    pub subject: String,
    pub raw: Vec<u8>,
}

/// From is `from` (an address) with an optional display name.
pub fn mailbox(name: Option<&str>, address: &str) -> Result<Mailbox> {
    let addr = address
        .parse()
        .map_err(|e| Error::Message(format!("'{address}' is not a valid address: {e}")))?;
    Ok(Mailbox::new(
        name.map(single_line).filter(|n| !n.is_empty()),
        addr,
    ))
}

pub fn compose(
    from: &Mailbox,
    to_name: &str,
    to_address: &str,
    subject: &str,
    body: String,
    date: Timestamp,
) -> Result<Composed> {
    compose_with_id(
        from,
        to_name,
        to_address,
        subject,
        body,
        date,
        new_message_id(from)?,
    )
}

/// Message-IDs for many messages at once: one random prefix and a counter. Unique like
/// `new_message_id`'s, and they arrive in the outbox's index in order, so a million of
/// them append to it instead of landing on random pages.
#[derive(Debug)]
pub struct MessageIds {
    prefix: String,
    domain: String,
    next: u64,
}

impl MessageIds {
    pub fn new(from: &Mailbox) -> Result<Self> {
        Ok(Self {
            prefix: random_hex(12)?,
            domain: from.email.domain().to_owned(),
            next: 0,
        })
    }

    pub fn next_id(&mut self) -> String {
        self.next += 1;
        format!("<{}.{:010}@{}>", self.prefix, self.next, self.domain)
    }
}

/// A fresh Message-ID in the sender's domain.
pub fn new_message_id(from: &Mailbox) -> Result<String> {
    Ok(format!("<{}@{}>", random_hex(16)?, from.email.domain()))
}

/// The same, with the Message-ID given (a draft's, fixed when it was queued).
pub fn compose_with_id(
    from: &Mailbox,
    to_name: &str,
    to_address: &str,
    subject: &str,
    body: String,
    date: Timestamp,
    message_id: String,
) -> Result<Composed> {
    compose_alternative(
        from,
        to_name,
        to_address,
        subject,
        body,
        None,
        date,
        message_id,
        &Extras::default(),
    )
}

/// A rendered template as a message: plain text, with its HTML alternative when the
/// account gave one.
pub fn compose_rendered(
    from: &Mailbox,
    to_name: &str,
    to_address: &str,
    r: &crate::mail::template::Rendered,
    date: Timestamp,
    message_id: String,
) -> Result<Composed> {
    compose_with_extras(
        from,
        to_name,
        to_address,
        r,
        date,
        message_id,
        &Extras::default(),
    )
}

/// Copies and files one message carries besides its recipient (docs/rules.md#invitations:
/// an invitation's options).
#[derive(Debug, Clone, Default)]
pub struct Extras {
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub attachments: Vec<Attachment>,
}

/// The same, with copies (CC; and BCC, which is in the envelope but not in the headers)
/// and attachments.
pub fn compose_with_extras(
    from: &Mailbox,
    to_name: &str,
    to_address: &str,
    r: &crate::mail::template::Rendered,
    date: Timestamp,
    message_id: String,
    extras: &Extras,
) -> Result<Composed> {
    compose_alternative(
        from,
        to_name,
        to_address,
        &r.subject,
        r.body.clone(),
        r.html.clone(),
        date,
        message_id,
        extras,
    )
}

#[allow(clippy::too_many_arguments)]
fn compose_alternative(
    from: &Mailbox,
    to_name: &str,
    to_address: &str,
    subject: &str,
    body: String,
    html: Option<String>,
    date: Timestamp,
    message_id: String,
    extras: &Extras,
) -> Result<Composed> {
    let to = mailbox(Some(to_name), to_address)?;
    let subject = crate::mail::template::clamp_subject(subject);
    let when = SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(date.0).unwrap_or(0));
    let message = Message::builder()
        .message_id(Some(message_id.clone()))
        .from(from.clone())
        .to(to.clone())
        .subject(subject.clone())
        .date(when);
    let mut message = message;
    for a in &extras.cc {
        message = message.cc(mailbox(None, a)?);
    }
    for a in &extras.bcc {
        message = message.bcc(mailbox(None, a)?);
    }
    use lettre::message::{Attachment as Part, MultiPart};
    let text = || {
        SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(body.clone())
    };
    let alternative = html.map(|h| {
        MultiPart::alternative()
            .singlepart(text())
            .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(h))
    });
    let built = match (alternative, extras.attachments.is_empty()) {
        (None, true) => message.singlepart(text()),
        (Some(alt), true) => message.multipart(alt),
        (alt, false) => {
            let mut mixed = match alt {
                Some(a) => MultiPart::mixed().multipart(a),
                None => MultiPart::mixed().singlepart(text()),
            };
            for f in &extras.attachments {
                let mime = ContentType::parse(&f.mime)
                    .map_err(|e| Error::Message(format!("content type {}: {e}", f.mime)))?;
                // The name travels in a header: one line, no control characters.
                mixed = mixed
                    .singlepart(Part::new(single_line(&f.filename)).body(f.bytes.clone(), mime));
            }
            message.multipart(mixed)
        }
    }
    .map_err(|e| Error::Message(format!("cannot build the message: {e}")))?;
    Ok(Composed {
        message_id,
        env_from: from.email.to_string(),
        env_to: built
            .envelope()
            .to()
            .iter()
            .map(ToString::to_string)
            .collect(),
        subject,
        raw: built.formatted(),
    })
}

/// A file carried by a message.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub filename: String,
    pub mime: String,
    pub bytes: Vec<u8>,
}

impl Attachment {
    /// A file to attach, its type told by its extension (what mail clients go by).
    /// Reads a file to attach, refusing one over `max_bytes` before reading it (a disk
    /// image picked by mistake must not be read into memory).
    pub fn from_file(path: &std::path::Path, max_bytes: usize) -> Result<Self> {
        use std::io::Read;
        let bad = |e: String| Error::invalid("attachments", format!("{}: {e}", path.display()));
        let file = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
        let size = file.metadata().map_err(|e| bad(e.to_string()))?.len();
        let limit = u64::try_from(max_bytes).unwrap_or(u64::MAX);
        if size > limit {
            return Err(bad(format!(
                "{size} bytes, more than the {} KiB allowed in all",
                max_bytes / 1024
            )));
        }
        let mut bytes = Vec::new();
        file.take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| bad(e.to_string()))?;
        let filename = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "attachment".into());
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let mime = match ext.as_str() {
            "pdf" => "application/pdf",
            "txt" => "text/plain",
            "csv" => "text/csv",
            "png" => "image/png",
            "jpg" | "jpeg" => "image/jpeg",
            "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "zip" => "application/zip",
            _ => "application/octet-stream",
        };
        Ok(Self {
            filename,
            mime: mime.into(),
            bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_of_message_ids_is_unique_ordered_and_in_the_senders_domain() -> Result<()> {
        let from = mailbox(None, "it@acme.test")?;
        let mut a = MessageIds::new(&from)?;
        let mut b = MessageIds::new(&from)?;
        let ids: Vec<String> = (0..1000).map(|_| a.next_id()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(
            ids.iter()
                .all(|i| i.starts_with('<') && i.ends_with("@acme.test>"))
        );
        // Another series (another import) shares no id with the first.
        assert!(!ids.contains(&b.next_id()));
        Ok(())
    }

    #[test]
    fn headers_carry_no_injected_lines() -> Result<()> {
        let from = mailbox(Some("IT\r\nBcc: evil@x.org"), "it@acme.test")?;
        let c = compose(
            &from,
            "Ann\nBcc: evil@x.org",
            "ann@acme.test",
            "Hi\r\nX: y",
            "Body\n".into(),
            Timestamp(0),
        )?;
        let text = String::from_utf8_lossy(&c.raw);
        assert!(!text.contains("\nBcc:"), "{text}");
        assert!(!text.contains("\nX: y"), "{text}");
        assert!(
            text.contains(&format!("Message-ID: {}", c.message_id)),
            "{text}"
        );
        assert!(c.message_id.ends_with("@acme.test>"));
        assert_eq!(c.env_to, ["ann@acme.test"]);
        Ok(())
    }
}
