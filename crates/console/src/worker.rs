//! Runs the app's effects against the core, off the render loop, each in its own task, and
//! sends the results back as actions. A slow query never freezes the screen.

use tokio::sync::mpsc::UnboundedSender;

use super::action::{Action, Effect, UserPage};
use crate::failure::Failure;
use crate::role_form::Save;
use usher_core::Usher;
use usher_core::config::SyncSource;
use usher_core::error::Kind;
use usher_core::service::{RunOptions, Target, Who};

/// `sources`: the directories the Sync tab runs.
pub fn spawn(
    usher: Usher,
    sources: Vec<SyncSource>,
    actions: UnboundedSender<Action>,
) -> UnboundedSender<Effect> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Effect>();
    let sources = std::sync::Arc::new(sources);
    tokio::spawn(async move {
        while let Some(effect) = rx.recv().await {
            let usher = usher.clone();
            let actions = actions.clone();
            let sources = sources.clone();
            tokio::spawn(async move {
                let _ = actions.send(perform_with(&usher, &sources, effect, &actions).await);
            });
        }
    });
    tx
}

/// `perform`, and the Sync tab's effects, which need the configured sources.
pub async fn perform_with(
    u: &Usher,
    sources: &[SyncSource],
    effect: Effect,
    actions: &UnboundedSender<Action>,
) -> Action {
    let err = failed(actions);
    let find = |name: &str| {
        sources
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| Failure::new(Kind::NotFound, format!("no sync source named {name}")))
    };
    let run = |approve| RunOptions {
        approve,
        ..RunOptions::default()
    };
    match effect {
        Effect::LoadSync => Action::Sync(u.sync_status(sources).await.map_err(err)),
        Effect::SyncPreview { name } => Action::SyncPreviewed(match find(&name) {
            Ok(s) => u
                .sync_preview(s, &run(None))
                .await
                .map(Box::new)
                .map_err(err),
            Err(f) => Err(f),
        }),
        Effect::SyncApply { name, approve } => Action::Done(match find(&name) {
            Ok(s) => u
                .sync_apply(s, &run(approve))
                .await
                .map(|r| applied(&r))
                .map_err(err),
            Err(f) => Err(f),
        }),
        e => perform(u, e, actions).await,
    }
}

/// What an apply from the Sync tab did, for the status line.
fn applied(r: &usher_core::service::SyncReport) -> String {
    use usher_core::service::RunOutcome;
    match (r.outcome, &r.applied) {
        (RunOutcome::Held, _) => format!(
            "{}: run {} held, nothing changed: {} (A approves it)",
            r.source,
            r.run_id,
            r.held_reason.as_deref().unwrap_or("over a limit")
        ),
        (_, Some(o)) => format!("{}: run {} applied: {}", r.source, r.run_id, o.summary()),
        _ => format!(
            "{}: in step, nothing to change (run {})",
            r.source, r.run_id
        ),
    }
}

use crate::tabs::plural;

fn targets(ids: &[i64]) -> Vec<Target> {
    ids.iter().map(|id| Target::Id(*id)).collect()
}

/// "Suspended ann@x" or "Suspended 3 users".
fn said(verb: &str, users: &[usher_core::store::User]) -> String {
    match users {
        [one] => format!("{verb} {}", one.email_display),
        _ => format!("{verb} {}", plural(users.len(), "user")),
    }
}

/// The question before resending every expired invitation, naming how many and the
/// first few; a message when there are none.
async fn expired(u: &Usher) -> usher_core::Result<Action> {
    let limit = crate::tabs::invitations::LIMIT;
    let rows = u
        .invitations(&usher_core::store::InvitationFilter {
            status: Some(usher_core::domain::InvitationStatus::Expired),
            search: String::new(),
            before_id: 0,
            limit: limit + 1,
        })
        .await?;
    if rows.is_empty() {
        return Ok(Action::Done(Ok("no invitation has expired".into())));
    }
    let count = if rows.len() as i64 > limit {
        format!("more than {limit}")
    } else {
        rows.len().to_string()
    };
    let names = crate::tabs::first_few(rows.iter().map(|i| i.email_display.as_str()), rows.len());
    Ok(Action::Ask(crate::tabs::Ask::new(
        format!(
            "Resend every expired invitation: {count} ({names})? Each gets a new link and a new expiry."
        ),
        Effect::ResendExpired,
    )))
}

/// Sends an import's progress to the app as actions, for its gauge.
fn progress_to(actions: &UnboundedSender<Action>) -> usher_core::import::Progress {
    let actions = actions.clone();
    usher_core::import::Progress::new(move |stage, done, total| {
        let _ = actions.send(Action::ImportProgress { stage, done, total });
    })
}

/// Writes a report, sending its progress for the gauge; the file appears only when whole.
async fn report(
    u: &Usher,
    kind: usher_core::service::ReportKind,
    format: usher_core::report::Format,
    path: &str,
    actions: &UnboundedSender<Action>,
) -> usher_core::Result<String> {
    let path = crate::tabs::import::expand_home(path);
    let mut sink = usher_core::report::open(
        std::path::Path::new(&path),
        format,
        kind.name(),
        kind.columns(),
    )?;
    let actions = actions.clone();
    let mut progress = move |done, total| {
        let _ = actions.send(Action::ReportProgress { done, total });
    };
    let rows = u.write_report(kind, sink.as_mut(), &mut progress).await?;
    sink.finish()?;
    Ok(format!(
        "wrote the {} report, {}, to {path}",
        kind.name(),
        plural(rows as usize, "row")
    ))
}

/// After an apply that left faulty rows out: writes them beside the file, to fix and
/// import again, and says where (or why they could not be written).
fn faulty_rows(
    path: &str,
    parsed: &usher_core::import::Parsed,
    opts: &usher_core::service::ApplyOptions,
) -> Option<String> {
    if !usher_core::import::faulty::left_out(parsed, opts.skip_errors) {
        return None;
    }
    let input = std::path::Path::new(path);
    let out = usher_core::import::faulty::default_path(input);
    let read = usher_core::import::ReadOptions::default();
    Some(
        match usher_core::import::faulty::write(input, &read, parsed, &out) {
            Ok(n) => format!(
                "{} left out, written to {}",
                plural(n, "faulty row"),
                out.display()
            ),
            Err(e) => format!("the faulty rows were left out but could not be written: {e}"),
        },
    )
}

/// Turns a core error into the message shown, telling the app first when it means the
/// database went away (the app then shows "reconnecting" and probes until it is back).
fn failed(actions: &UnboundedSender<Action>) -> impl Fn(usher_core::Error) -> Failure + '_ {
    move |e: usher_core::Error| {
        if e.is_connection_lost() {
            let _ = actions.send(Action::ConnectionLost(e.to_string()));
        }
        Failure::from(e)
    }
}

/// An effect sent to the wrong group: a slip in `perform`'s routing, said as an error
/// rather than a panic.
fn unreachable_effect(e: Effect) -> Action {
    Action::Done(Err(Failure::new(
        Kind::Broken,
        format!("internal: no worker for {e:?}"),
    )))
}

pub async fn perform(u: &Usher, effect: Effect, actions: &UnboundedSender<Action>) -> Action {
    match effect {
        e @ (Effect::Invite(_)
        | Effect::Resend(_)
        | Effect::AskResendExpired
        | Effect::ResendExpired
        | Effect::Revoke(_)
        | Effect::SetUserType(..)
        | Effect::Suspend(_)
        | Effect::SendPasswordReset(_)
        | Effect::Reactivate(_)
        | Effect::Remove(_)) => people(u, e, actions).await,
        e @ (Effect::PreviewImport { .. } | Effect::ApplyImport { .. } | Effect::UndoImport(_)) => {
            import(u, e, actions).await
        }
        e @ (Effect::SaveRole(_)
        | Effect::DeleteRole { .. }
        | Effect::Grant { .. }
        | Effect::PersonalMailbox(_)
        | Effect::CreateUser(_)
        | Effect::AddDomain(_)
        | Effect::VerifyDomain { .. }
        | Effect::SetDomainActive { .. }
        | Effect::NewMailbox { .. }) => access(u, e, actions).await,
        e => load(u, e, actions).await,
    }
}

/// Reads for the screen, and the templates and reports.
async fn load(u: &Usher, effect: Effect, actions: &UnboundedSender<Action>) -> Action {
    let err = failed(actions);
    match effect {
        Effect::LoadStatus => Action::Status(u.status().await.map_err(err)),
        Effect::LoadTemplates(name) => Action::Templates {
            name,
            result: u.templates().await.map_err(err),
        },
        Effect::SaveTemplate {
            name,
            subject,
            body,
            html,
        } => Action::Done(
            u.save_template(name, &subject, &body, html.as_deref())
                .await
                .map(|v| format!("saved the {name} template (version {v}); new mail uses it"))
                .map_err(err),
        ),
        Effect::ResetTemplate(name) => Action::Done(
            u.reset_template(name)
                .await
                .map(|_| format!("the {name} template is usher's own again"))
                .map_err(err),
        ),
        Effect::Report { kind, format, path } => {
            Action::ReportDone(report(u, kind, format, &path, actions).await.map_err(err))
        }
        Effect::LoadInvitations { generation, filter } => Action::Invitations {
            generation,
            result: u.invitations(&filter).await.map_err(err),
        },
        Effect::LoadUsers {
            generation,
            search,
            page,
            limit,
        } => {
            let result = match &page {
                UserPage::First => u.users(&search, "", limit).await,
                UserPage::From(e) => u.users_from(&search, e, limit).await,
                UserPage::After(e) => u.users(&search, e, limit).await,
                UserPage::Before(e) => u.users_before(&search, e, limit).await,
                UserPage::Last => u.users_before(&search, "", limit).await,
            };
            Action::Users {
                generation,
                page,
                result: result.map_err(err),
            }
        }
        Effect::LoadUserDetail { generation, id } => Action::UserDetail {
            generation,
            result: u.user_detail(&Target::Id(id)).await.map_err(err),
        },
        Effect::LoadImportHistory => Action::ImportHistory(u.import_history(20).await.map_err(err)),
        Effect::LoadOperator => Action::Operator(u.operator().await.map_err(err)),
        Effect::LoadRoles { generation } => Action::Roles {
            generation,
            result: u.roles().await.map_err(err),
        },
        Effect::LoadRole { generation, name } => Action::Role {
            generation,
            result: u.role(&name).await.map_err(err),
        },
        Effect::LoadDomains => Action::Domains(
            async { Ok((u.domains().await?, u.mailboxes().await?)) }
                .await
                .map_err(err),
        ),
        // Done by the terminal layer; never sent here.
        Effect::Copy(_) => Action::Resize,
        other => unreachable_effect(other),
    }
}

/// Invitations sent, resent and revoked; users changed, several in one transaction.
async fn people(u: &Usher, effect: Effect, actions: &UnboundedSender<Action>) -> Action {
    let err = failed(actions);
    match effect {
        Effect::Invite(req) => Action::Done(u.invite(&req).await.map_err(err).map(|o| {
            let who: Vec<&str> = o.invited.iter().map(|i| i.email.as_str()).collect();
            format!("Invited {}", who.join(", "))
        })),
        Effect::Resend(ids) => {
            let mut done = 0;
            for id in &ids {
                if let Err(e) = u.resend(&Target::Id(*id)).await {
                    let said = format!("resent {done} of {}: {e}", ids.len());
                    return Action::Done(Err(Failure::new(e.kind(), said)));
                }
                done += 1;
            }
            Action::Done(Ok(format!("Resent {}", plural(done, "invitation"))))
        }
        Effect::AskResendExpired => match expired(u).await {
            Ok(ask) => ask,
            Err(e) => Action::Done(Err(err(e))),
        },
        Effect::ResendExpired => Action::Done(
            u.resend_all_expired()
                .await
                .map_err(err)
                .map(|v| format!("Resent {}", plural(v.len(), "expired invitation"))),
        ),
        Effect::Revoke(ids) => {
            let mut done = 0;
            for id in &ids {
                if let Err(e) = u.revoke(&Target::Id(*id)).await {
                    let said = format!("revoked {done} of {}: {e}", ids.len());
                    return Action::Done(Err(Failure::new(e.kind(), said)));
                }
                done += 1;
            }
            Action::Done(Ok(format!("Revoked {}", plural(done, "invitation"))))
        }
        Effect::SetUserType(ids, t) => Action::Done(
            u.set_users_type(&targets(&ids), t)
                .await
                .map_err(err)
                .map(|users| match users.as_slice() {
                    [one] => format!("{} is now {t}", one.email_display),
                    _ => format!("{} are now {t}", plural(users.len(), "user")),
                }),
        ),
        Effect::Suspend(ids) => Action::Done(
            u.suspend_users(&targets(&ids))
                .await
                .map_err(err)
                .map(|users| said("Suspended", &users)),
        ),
        Effect::SendPasswordReset(ids) => {
            Action::Done(send_resets(u, &targets(&ids)).await.map_err(err))
        }
        Effect::Reactivate(ids) => Action::Done(
            u.reactivate_users(&targets(&ids))
                .await
                .map_err(err)
                .map(|users| said("Reactivated", &users)),
        ),
        Effect::Remove(ids) => Action::Done(
            u.remove_users(&targets(&ids))
                .await
                .map_err(err)
                .map(|users| said("Removed", &users)),
        ),
        other => unreachable_effect(other),
    }
}

/// Reset links, one user after another; a refusal stops there and says who was sent one.
async fn send_resets(u: &Usher, targets: &[Target]) -> usher_core::Result<String> {
    let mut sent = Vec::new();
    for t in targets {
        match u.send_password_reset(t).await {
            Ok(user) => sent.push(user),
            Err(e) if sent.is_empty() => return Err(e),
            Err(e) => {
                return Ok(format!(
                    "{}; then: {e}",
                    said("Sent a reset link to", &sent)
                ));
            }
        }
    }
    Ok(said("Sent a reset link to", &sent))
}

/// An import read and planned, applied, or undone.
async fn import(u: &Usher, effect: Effect, actions: &UnboundedSender<Action>) -> Action {
    let err = failed(actions);
    match effect {
        Effect::PreviewImport {
            generation,
            path,
            mapping,
        } => {
            // Reading and hashing a big file is blocking work: off the async threads.
            let file = path.clone();
            let opts = usher_core::import::ReadOptions {
                progress: progress_to(actions),
                ..Default::default()
            };
            let columns = actions.clone();
            let read = tokio::task::spawn_blocking(move || {
                let p = std::path::Path::new(&file);
                let sha256 = usher_core::domain::token::hash_file(p)
                    .map_err(|e| Failure::new(Kind::Invalid, format!("{file}: {e}")))?;
                let parsed = usher_core::import::parse_file(p, &opts, &mapping).map_err(|e| {
                    // The file's columns, so the mapping prompt can complete them.
                    if let usher_core::import::ImportError::Mapping { headers, .. } = &e {
                        let headers = headers.clone();
                        let _ = columns.send(Action::ImportColumns {
                            generation,
                            headers,
                        });
                    }
                    Failure::import(&e)
                })?;
                Ok::<_, Failure>((sha256, parsed))
            })
            .await
            .map_err(|e| Failure::new(Kind::Broken, e.to_string()))
            .and_then(|r| r);
            let result = match read {
                Err(e) => Err(e),
                Ok((sha256, parsed)) => match u.import_preview(std::sync::Arc::new(parsed)).await {
                    Ok(plan) => Ok(crate::tabs::import::Review {
                        path,
                        sha256,
                        parsed: plan.parsed().clone(),
                        plan: std::sync::Arc::new(plan),
                    }),
                    Err(e) => Err(err(e)),
                },
            };
            Action::ImportPreview { generation, result }
        }
        Effect::ApplyImport {
            path,
            parsed,
            mut opts,
        } => Action::Done(
            {
                opts.progress = progress_to(actions);
                u.import_apply(&parsed, &opts).await
            }
            .map_err(err)
            .map(|o| {
                let applied = format!("Import {} applied: {}", o.batch_id, o.summary());
                match faulty_rows(&path, &parsed, &opts) {
                    Some(said) => format!("{applied}; {said}"),
                    None => applied,
                }
            }),
        ),
        Effect::UndoImport(id) => Action::Done(
            u.import_undo(id)
                .await
                .map_err(err)
                .map(|o| format!("Import {id} undone: {}", o.summary())),
        ),
        other => unreachable_effect(other),
    }
}

/// Roles, grants, mailboxes, corporate users and domains.
async fn access(u: &Usher, effect: Effect, actions: &UnboundedSender<Action>) -> Action {
    let err = failed(actions);
    match effect {
        Effect::SaveRole(save) => Action::Done(
            match save {
                Save::Create(scope, spec) => u.create_role(scope, &spec).await,
                Save::Edit(name, spec) => u.edit_role(&name, &spec).await,
            }
            .map_err(err)
            .map(|r| {
                format!(
                    "Saved the role {} ({} permissions)",
                    r.role.name,
                    r.permissions.len()
                )
            }),
        ),
        Effect::DeleteRole { name } => {
            Action::Done(u.delete_role(&name, true).await.map_err(err).map(|n| {
                format!(
                    "Deleted the role {name}; {} lost it",
                    plural(n as usize, "holder")
                )
            }))
        }
        Effect::Grant {
            user_id,
            what,
            mailbox,
            revoke,
        } => {
            let who = Who::User(Target::Id(user_id));
            let on = mailbox
                .as_ref()
                .map(|m| format!(" on {m}"))
                .unwrap_or_default();
            Action::Done(
                if revoke {
                    u.revoke_grant(&who, &what, mailbox.as_deref())
                        .await
                        .map(|()| format!("Revoked {what}{on}"))
                } else {
                    u.grant(&who, &what, mailbox.as_deref())
                        .await
                        .map(|_| format!("Granted {what}{on}"))
                }
                .map_err(err),
            )
        }
        Effect::PersonalMailbox(id) => Action::Done(
            u.create_personal_mailbox(&Target::Id(id))
                .await
                .map_err(err)
                .map(|m| format!("Created the personal mailbox {}", m.address)),
        ),
        Effect::CreateUser(req) => Action::Done(
            u.create_user(&req)
                .await
                .map_err(err)
                .map(|u| format!("Created {}, active, without an invitation", u.email_display)),
        ),
        Effect::AddDomain(name) => Action::Done(u.add_domain(&name).await.map_err(err).map(|d| {
            match (d.txt_name, d.txt_value) {
                (Some(n), Some(v)) => {
                    format!("Added {}: publish TXT {n} = \"{v}\", then v", d.domain.name)
                }
                _ => format!("Added {}", d.domain.name),
            }
        })),
        Effect::VerifyDomain { name, how } => Action::Done(
            u.verify_domain(&name, &how)
                .await
                .map_err(err)
                .map(|d| format!("{} is verified", d.domain.name)),
        ),
        Effect::SetDomainActive { name, active } => Action::Done(
            u.set_domain_active(&name, active)
                .await
                .map_err(err)
                .map(|d| {
                    format!(
                        "{} is {}",
                        d.domain.name,
                        if active { "active" } else { "inactive" }
                    )
                }),
        ),
        Effect::NewMailbox { address, name } => Action::Done(
            u.create_shared_mailbox(&address, &name)
                .await
                .map_err(err)
                .map(|m| format!("Created the shared mailbox {}", m.address)),
        ),
        other => unreachable_effect(other),
    }
}
