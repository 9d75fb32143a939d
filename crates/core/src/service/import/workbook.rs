//! A roles workbook's part of an import (docs/rules.md#import): its grants checked against
//! the account before the plan is made, and, when applied, users created directly with
//! their personal mailbox and grants, each step recorded for undo.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::json;

use crate::domain::{Permission, Timestamp};
use crate::error::{Clash, Error, Result};
use crate::import::plan::{AccountState, DEFAULT_TYPE};
use crate::import::workbook::leave_out;
use crate::import::{ImportRow, Parsed, RowError};
use crate::service::Usher;
use crate::service::access::check_guest;
use crate::service::mailboxes::personal_mailbox;
use crate::service::roles::{grantable, mailbox_id};
use crate::store::{Account, Grantable, Holder, Tx};

/// What checking a workbook against the account found.
pub(in crate::service) struct Checked {
    /// The rows without the users whose grants the account refuses; None when none is.
    pub parsed: Option<Parsed>,
    /// The grants each of its existing users holds, as the plan compares them.
    pub held: HashMap<i64, HashSet<String>>,
    /// Every role and permission the workbook names, resolved; apply grants from it.
    pub resolver: Resolver,
}

/// A role or permission resolved once per workbook, not once per user.
type Resolved = std::result::Result<(Grantable, Vec<Permission>, Option<i64>), String>;

async fn resolve(tx: &mut Tx, account: &Account, what: &str, mailbox: Option<&str>) -> Resolved {
    let m = match mailbox_id(tx, account, mailbox).await {
        Ok(m) => m,
        // Say how to fix it: a sheet names a mailbox that must exist first.
        Err(Error::NotFound(_)) => {
            let name = mailbox.unwrap_or_default();
            return Err(format!(
                "the mailbox {name} is not in the account: create it first (`usher \
                 mailboxes create {name}`, or b on the Domains tab), or name the sheet after \
                 an existing mailbox"
            ));
        }
        Err(e) => return Err(e.to_string()),
    };
    grantable(tx, account, what, m)
        .await
        .map(|(g, perms, _)| (g, perms, m))
        .map_err(|e| e.to_string())
}

/// Caches resolutions by (name, mailbox), in any case.
#[derive(Default)]
pub(in crate::service) struct Resolver(HashMap<(String, Option<String>), Resolved>);

impl Resolver {
    async fn get(
        &mut self,
        tx: &mut Tx,
        account: &Account,
        what: &str,
        mailbox: Option<&str>,
    ) -> &Resolved {
        let key = (what.to_lowercase(), mailbox.map(str::to_lowercase));
        if !self.0.contains_key(&key) {
            let r = resolve(tx, account, what, mailbox).await;
            self.0.insert(key.clone(), r);
        }
        &self.0[&key]
    }
}

impl Usher {
    /// Checks every grant a workbook asks for: a role or permission the account lacks, a
    /// mailbox it lacks, a scope that does not fit, or a permission the user's type may
    /// not hold leaves that user out, naming the sheet, row and column.
    pub(in crate::service) async fn check_workbook(
        &self,
        tx: &mut Tx,
        account: &Account,
        parsed: &Parsed,
        state: &AccountState,
    ) -> Result<Checked> {
        let mut out = Checked {
            parsed: None,
            held: HashMap::new(),
            resolver: Resolver::default(),
        };
        let Some(book) = &parsed.workbook else {
            return Ok(out);
        };
        let wanted: HashSet<&str> = parsed.rows.iter().map(|r| r.email()).collect();
        let existing: HashMap<&str, &crate::import::plan::Known> = state
            .users
            .iter()
            .filter(|u| wanted.contains(u.email()))
            .map(|u| (u.email(), u))
            .collect();
        let resolver = &mut out.resolver;
        let mut faults: BTreeMap<u64, RowError> = BTreeMap::new();
        for r in &parsed.rows {
            let user = existing.get(r.email());
            let user_type = r
                .user_type
                .or(user.map(|u| u.user_type))
                .unwrap_or(DEFAULT_TYPE);
            for w in book.of(r.row) {
                let why = match resolver
                    .get(tx, account, &w.what, w.mailbox.as_deref())
                    .await
                {
                    Err(e) => Some(e.clone()),
                    Ok((_, perms, _)) => check_guest(r.email_display(), user_type, perms.clone())
                        .err()
                        .map(|e| e.to_string()),
                };
                if let Some(why) = why {
                    faults.entry(r.row).or_insert_with(|| RowError {
                        row: w.row,
                        column: Some(format!("{}!{}", w.sheet, w.column)),
                        reason: format!("{}: {why}; this user is left out", r.email_display()),
                    });
                }
            }
            if let Some(u) = user {
                let held = tx
                    .grants_of(Holder::User(u.id))
                    .await?
                    .iter()
                    .map(|g| g.label().to_lowercase())
                    .collect();
                out.held.insert(u.id, held);
            }
        }
        if !faults.is_empty() {
            out.parsed = Some(leave_out(parsed, faults));
        }
        Ok(out)
    }

    /// Gives an imported user what their row asks for: the personal mailbox (for a user
    /// just created) and a workbook's grants they do not hold yet. Each is recorded for
    /// undo.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn apply_workbook_row(
        &self,
        tx: &mut Tx,
        account: &Account,
        batch: i64,
        user_id: i64,
        r: &ImportRow,
        parsed: &Parsed,
        created: bool,
        resolver: &mut Resolver,
        now: Timestamp,
    ) -> Result<()> {
        if created && r.personal_mailbox {
            let name = format!("{} {}", r.first_name(), r.last_name())
                .trim()
                .to_owned();
            let m = personal_mailbox(
                tx,
                account.id,
                user_id,
                r.email(),
                &name,
                &self.actor.name,
                now,
            )
            .await?;
            tx.insert_change(
                batch,
                "mailbox",
                Some(user_id),
                None,
                &json!({"mailbox_id": m.id}),
            )
            .await?;
        }
        let Some(book) = &parsed.workbook else {
            return Ok(());
        };
        for w in book.of(r.row) {
            let (g, _, m) = resolver
                .get(tx, account, &w.what, w.mailbox.as_deref())
                .await
                .clone()
                .map_err(|e| Error::conflict(Clash::Exists, format!("{}: {e}", w.label())))?;
            let holder = Holder::User(user_id);
            if tx
                .insert_grant(account.id, holder, &g, m, &self.actor.name, now)
                .await?
                && !created
            {
                tx.insert_change(batch, "grant", Some(user_id), None, &grant_json(&g, m))
                    .await?;
            }
        }
        Ok(())
    }
}

/// A grant as an import change keeps it, to take back on undo.
pub(super) fn grant_json(g: &Grantable, mailbox_id: Option<i64>) -> serde_json::Value {
    match g {
        Grantable::Role(id) => json!({"role_id": id, "mailbox_id": mailbox_id}),
        Grantable::Permission(p) => json!({"permission": p, "mailbox_id": mailbox_id}),
    }
}

/// The grant `grant_json` kept.
pub(super) fn grant_from_json(v: &serde_json::Value) -> Option<(Grantable, Option<i64>)> {
    let mailbox = v["mailbox_id"].as_i64();
    let g = match (v["role_id"].as_i64(), v["permission"].as_str()) {
        (Some(id), _) => Grantable::Role(id),
        (None, Some(p)) => Grantable::Permission(p.to_owned()),
        _ => return None,
    };
    Some((g, mailbox))
}
