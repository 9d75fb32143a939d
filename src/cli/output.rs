//! Tables for people, JSON (stable field names, RFC 3339 times) for scripts. Untrusted
//! text is escaped before it reaches the terminal; JSON escapes it by itself.

use clap::Args;
use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;

/// `--json`, which every listing and report takes.
#[derive(Debug, Clone, Args)]
pub struct JsonFlag {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

use usher::domain::Timestamp;
use usher::domain::sanitize::escape_for_display;
use usher::store::{AuditEntry, Invitation, OutboxMessage, User};

pub fn json<T: Serialize>(value: &T) -> String {
    let text =
        serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    json_terminal_safe(&text)
}

/// serde_json escapes C0 controls but writes C1 and bidi characters as they are, and a
/// terminal may act on them. Escaped as `\uXXXX` they are still the same JSON string to
/// any parser. Outside strings the only such character is the layout's newline.
fn json_terminal_safe(text: &str) -> String {
    use usher::domain::sanitize::is_unsafe_char;
    if !text.chars().any(|c| c != '\n' && is_unsafe_char(c)) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if c != '\n' && is_unsafe_char(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.iter().map(|h| h.to_uppercase()));
    for r in rows {
        t.add_row(r.iter().map(|c| escape_for_display(c)));
    }
    t.to_string()
}

fn time(t: Option<i64>) -> String {
    t.map(|t| Timestamp(t).human()).unwrap_or_default()
}

fn rfc(t: Option<i64>) -> Option<String> {
    t.map(|t| Timestamp(t).rfc3339())
}

#[derive(Serialize, Debug)]
pub struct InvitationJson {
    id: i64,
    email: String,
    first_name: String,
    last_name: String,
    user_type: String,
    status: String,
    inviter: String,
    created_at: Option<String>,
    sent_at: Option<String>,
    expires_at: Option<String>,
    resend_count: i64,
    delivery: Option<String>,
    last_error: Option<String>,
}

impl From<&Invitation> for InvitationJson {
    fn from(i: &Invitation) -> Self {
        Self {
            id: i.id,
            email: i.email_display.clone(),
            first_name: i.first_name.clone(),
            last_name: i.last_name.clone(),
            user_type: i.user_type.to_string(),
            status: i.status.to_string(),
            inviter: i.inviter.clone(),
            created_at: rfc(Some(i.created_at)),
            sent_at: rfc(i.sent_at),
            expires_at: rfc(Some(i.expires_at)),
            resend_count: i.resend_count,
            delivery: i.delivery.map(|d| d.to_string()),
            last_error: i.last_error.clone(),
        }
    }
}

pub fn invitations(list: &[Invitation], as_json: bool) -> String {
    if as_json {
        return json(&list.iter().map(InvitationJson::from).collect::<Vec<_>>());
    }
    table(
        &[
            "id", "email", "name", "type", "status", "sent", "expires", "delivery", "error",
        ],
        list.iter()
            .map(|i| {
                vec![
                    i.id.to_string(),
                    i.email_display.clone(),
                    format!("{} {}", i.first_name, i.last_name)
                        .trim()
                        .to_owned(),
                    i.user_type.to_string(),
                    i.status.to_string(),
                    time(i.sent_at),
                    time(Some(i.expires_at)),
                    i.delivery.map(|d| d.to_string()).unwrap_or_default(),
                    i.last_error.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    )
}

#[derive(Serialize, Debug)]
pub struct UserJson {
    id: i64,
    email: String,
    first_name: String,
    last_name: String,
    display_name: String,
    unique_ref: Option<String>,
    user_type: String,
    status: String,
    created_at: Option<String>,
}

pub fn users(list: &[User], as_json: bool) -> String {
    if as_json {
        let rows: Vec<UserJson> = list
            .iter()
            .map(|u| UserJson {
                id: u.id,
                email: u.email_display.clone(),
                first_name: u.first_name.clone(),
                last_name: u.last_name.clone(),
                display_name: u.display_name.clone(),
                unique_ref: u.unique_ref.clone(),
                user_type: u.user_type.to_string(),
                status: u.status.to_string(),
                created_at: rfc(Some(u.created_at)),
            })
            .collect();
        return json(&rows);
    }
    table(
        &["id", "email", "first name", "last name", "type", "status"],
        list.iter()
            .map(|u| {
                vec![
                    u.id.to_string(),
                    u.email_display.clone(),
                    u.first_name.clone(),
                    u.last_name.clone(),
                    u.user_type.to_string(),
                    u.status.to_string(),
                ]
            })
            .collect(),
    )
}

pub fn outbox(list: &[OutboxMessage], as_json: bool) -> String {
    if as_json {
        return json(&list);
    }
    table(
        &[
            "id",
            "to",
            "subject",
            "state",
            "attempts",
            "next attempt",
            "sent",
            "error",
        ],
        list.iter()
            .map(|m| {
                vec![
                    m.id.to_string(),
                    m.env_to.clone(),
                    m.subject.clone(),
                    m.state.to_string(),
                    m.attempts.to_string(),
                    time(Some(m.next_attempt_at)),
                    time(m.sent_at),
                    m.last_error.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    )
}

pub fn audit(list: &[AuditEntry], as_json: bool) -> String {
    if as_json {
        return json(&list);
    }
    table(
        &["id", "time", "actor", "action", "target", "details"],
        list.iter()
            .map(|a| {
                vec![
                    a.id.to_string(),
                    Timestamp(a.at).human(),
                    a.actor.clone(),
                    a.action.clone(),
                    a.target.clone(),
                    a.details.clone(),
                ]
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_what_a_terminal_acts_on_and_parses_back_the_same() -> serde_json::Result<()> {
        let name = "Eve\u{1b}[2J\u{202e}gnp\u{9b}31m\u{2028}\u{feff}";
        let text = json(&serde_json::json!({ "name": name }));
        assert!(
            !text
                .chars()
                .any(|c| c != '\n' && usher::domain::sanitize::is_unsafe_char(c)),
            "{text:?}"
        );
        let back: serde_json::Value = serde_json::from_str(&text)?;
        assert_eq!(back["name"], name);
        Ok(())
    }
}
