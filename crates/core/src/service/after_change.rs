//! The site's commands after a change the mail server must see at once
//! (docs/mailserver.md): Dovecot caches logins, so a suspension or a new password may
//! need `doveadm auth cache flush` and `doveadm kick`. Each command's outcome is in the
//! audit log; a failure never undoes the change, which is committed already.

use std::process::Stdio;

use serde_json::json;
use tokio::io::AsyncReadExt;

use super::Usher;
use crate::config::AfterChange;
use crate::domain::sanitize::escape_for_display;
use crate::store::NewAudit;

/// Failures named in one audit row; the rest are counted.
const FAILURES_SHOWN: usize = 5;

/// How one run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ran {
    Ok,
    Failed(String),
}

impl Usher {
    /// Runs each configured command for each login, after `why` (the change's audit
    /// action), and records one audit row per command.
    pub(super) async fn after_change(&self, why: &str, logins: &[String]) {
        let hook = &self.settings.after_change;
        if hook.commands.is_empty() || logins.is_empty() {
            return;
        }
        for command in &hook.commands {
            let mut failures = Vec::new();
            for login in logins {
                if let Ran::Failed(how) = run_once(hook, command, login).await {
                    failures.push(json!({"login": login, "outcome": how}));
                }
            }
            let failed = failures.len();
            failures.truncate(FAILURES_SHOWN);
            let details = json!({
                "after": why,
                "command": command,
                "logins": logins.len(),
                "failed": failed,
                "failures": failures,
            });
            if let Err(e) = self.audit_after_change(command, details).await {
                tracing::warn!("the after-change command's outcome was not recorded: {e}");
            }
        }
    }

    /// The same after an import or its undo: for the users it suspended, removed, renamed
    /// or changed the type of. Read only when the site has commands to run.
    pub(super) async fn after_import(&self, why: &str, batch_id: i64) {
        if self.settings.after_change.commands.is_empty() {
            return;
        }
        let changes = async {
            let mut tx = self.store.read().await?;
            tx.batch_user_changes(batch_id).await
        };
        match changes.await {
            Ok(changes) => self.after_change(why, &logins_changed(&changes)).await,
            Err(e) => tracing::warn!(
                "the import's users could not be read for the after-change commands: {e}"
            ),
        }
    }

    async fn audit_after_change(
        &self,
        command: &[String],
        details: serde_json::Value,
    ) -> crate::Result<()> {
        let mut tx = self.store.write().await?;
        tx.append_audit(&NewAudit {
            at: self.clock.now(),
            actor: &self.actor,
            action: "mailserver.after_change",
            target: &format!(
                "command:{}",
                command.first().map(String::as_str).unwrap_or_default()
            ),
            details,
        })
        .await?;
        tx.commit().await
    }
}

/// One command for one login: the placeholder filled in, no shell, bounded in time.
async fn run_once(hook: &AfterChange, command: &[String], login: &str) -> Ran {
    // A login read as an option would make the command do something else.
    if login.starts_with('-') {
        return Ran::Failed("not run: the login starts with '-'".into());
    }
    let argv: Vec<String> = command
        .iter()
        .map(|a| a.replace(crate::config::AFTER_CHANGE_LOGIN, login))
        .collect();
    let Some((program, args)) = argv.split_first() else {
        return Ran::Failed("no program".into());
    };
    let child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return Ran::Failed(format!("cannot start {program}: {e}")),
    };
    let mut stderr = child.stderr.take();
    let waited = tokio::time::timeout(hook.timeout, async {
        let mut said = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.take(4096).read_to_end(&mut said).await;
        }
        (child.wait().await, said)
    })
    .await;
    match waited {
        Ok((Ok(status), _)) if status.success() => Ran::Ok,
        Ok((Ok(status), said)) => {
            let said = escape_for_display(String::from_utf8_lossy(&said).trim());
            Ran::Failed(format!("{status}: {said}"))
        }
        Ok((Err(e), _)) => Ran::Failed(format!("{program}: {e}")),
        Err(_) => Ran::Failed(format!("killed after {} s", hook.timeout.as_secs())),
    }
}

/// The logins a mail server must see changed: suspended and removed users, and updated
/// ones whose address or type changed (the old address too, when it changed).
fn logins_changed(changes: &[crate::store::BatchUserChange]) -> Vec<String> {
    let mut out = std::collections::BTreeSet::new();
    for c in changes {
        let before: serde_json::Value = serde_json::from_str(&c.before).unwrap_or_default();
        let old = before["email"].as_str();
        match (c.kind.as_str(), &c.email) {
            ("suspend", Some(now)) => {
                out.insert(now.clone());
            }
            ("remove", _) => out.extend(old.map(str::to_owned)),
            ("update", Some(now)) => {
                let retyped = before["user_type"].as_str() != c.user_type.as_deref();
                if old.is_some_and(|o| o != now) {
                    out.extend(old.map(str::to_owned));
                    out.insert(now.clone());
                } else if retyped {
                    out.insert(now.clone());
                }
            }
            _ => {}
        }
    }
    out.into_iter().collect()
}
