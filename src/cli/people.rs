//! `usher invitations` and `usher users`: lists, and the changes to one or many.

use color_eyre::eyre::Result;
use usher::domain::UserType;
use usher::service::Target;
use usher::store::InvitationFilter;

use super::args::{InvitationsCmd, UsersCmd};
use super::context::Context;
use super::output;

pub async fn invitations(ctx: &Context, cmd: &InvitationsCmd) -> Result<()> {
    let u = &ctx.usher;
    match cmd {
        InvitationsCmd::List {
            status,
            search,
            limit,
            out,
        } => {
            let list = u
                .invitations(&InvitationFilter {
                    status: *status,
                    search: search.clone(),
                    before_id: 0,
                    limit: *limit,
                })
                .await?;
            println!("{}", output::invitations(&list, out.json));
        }
        InvitationsCmd::Resend {
            target,
            all_expired,
            no_send,
            out,
        } => {
            let done = match target {
                Some(t) if !*all_expired => {
                    let target: Target = t.parse().unwrap_or(Target::Email(t.clone()));
                    vec![u.resend(&target).await?]
                }
                _ => u.resend_all_expired().await?,
            };
            let mail = if *no_send {
                "mail: queued".to_owned()
            } else {
                ctx.deliver_now().await
            };
            if out.json {
                println!("{}", output::json(&done));
            } else {
                if done.is_empty() {
                    println!("No expired invitations.");
                }
                for i in &done {
                    println!(
                        "Resent to {} (id {}), link valid until {}",
                        i.email, i.id, i.expires_at
                    );
                }
                println!("{mail}");
            }
        }
        InvitationsCmd::Enable { operator: None } => {
            u.set_invitations_enabled(true).await?;
            println!("Invitations are on for the account.");
        }
        InvitationsCmd::Disable {
            operator: None,
            reason: _,
        } => {
            u.set_invitations_enabled(false).await?;
            println!(
                "Invitations are off for the account: nobody can invite, resend or import new users."
            );
        }
        InvitationsCmd::Enable { operator: Some(op) } => {
            u.set_invite_block(op, None).await?;
            println!("{op} may invite again (if their roles allow it).");
        }
        InvitationsCmd::Disable {
            operator: Some(op),
            reason,
        } => {
            u.set_invite_block(op, reason.as_deref()).await?;
            println!("Invitations are off for {op}; they are told why.");
        }
        InvitationsCmd::Remind { no_send } => {
            let n = u.send_reminders().await?;
            println!("queued {n} reminder(s)");
            if n > 0 && !*no_send {
                println!("{}", ctx.deliver_now().await);
            }
        }
        InvitationsCmd::Revoke { target, out } => {
            let target: Target = target.parse().unwrap_or(Target::Email(target.clone()));
            let inv = u.revoke(&target).await?;
            if out.json {
                println!("{}", output::invitations(&[inv], true));
            } else {
                println!("Revoked invitation {} for {}", inv.id, inv.email_display);
            }
        }
    }
    Ok(())
}

pub async fn users(ctx: &Context, cmd: &UsersCmd) -> Result<()> {
    let u = &ctx.usher;
    let target = |t: &str| -> Target { t.parse().unwrap_or(Target::Email(t.to_owned())) };
    let targets = |all: &[String]| -> Vec<Target> { all.iter().map(|t| target(t)).collect() };
    let (changed, out, verb) = match cmd {
        UsersCmd::List { search, limit, out } => {
            let list = u.users(search, "", *limit).await?;
            println!("{}", output::users(&list, out.json));
            return Ok(());
        }
        UsersCmd::ResetPassword { users } => return reset_passwords(ctx, &targets(users)).await,
        UsersCmd::Show { user, out } => return show(u, &target(user), user, out.json).await,
        UsersCmd::SetType {
            users,
            user_type,
            out,
        } => (
            u.set_users_type(&targets(users), *user_type).await?,
            out,
            "Changed",
        ),
        UsersCmd::Suspend { users, out } => {
            (u.suspend_users(&targets(users)).await?, out, "Suspended")
        }
        UsersCmd::Reactivate { users, out } => (
            u.reactivate_users(&targets(users)).await?,
            out,
            "Reactivated",
        ),
        UsersCmd::Create {
            email,
            first,
            last,
            guest,
            personal_mailbox,
            timezone,
            phone,
            out,
        } => (
            u.create_user(&usher::service::NewCorporateUser {
                email: email.clone(),
                first_name: first.clone(),
                last_name: last.clone(),
                user_type: if *guest {
                    UserType::Guest
                } else {
                    UserType::Professional
                },
                personal_mailbox: *personal_mailbox,
                timezone: timezone.clone(),
                phone: phone.clone(),
            })
            .await
            .map(|one| vec![one])?,
            out,
            "Created",
        ),
        UsersCmd::Remove { users, yes, out } => {
            if !yes {
                return Err(color_eyre::eyre::eyre!(
                    "removing {} cannot be undone: run again with --yes to confirm",
                    users.join(", ")
                ));
            }
            (u.remove_users(&targets(users)).await?, out, "Removed")
        }
    };
    if out.json {
        println!("{}", output::users(&changed, true));
    } else {
        for user in &changed {
            println!(
                "{verb} {} ({}, {})",
                usher::domain::sanitize::escape_for_display(&user.email_display),
                user.user_type,
                user.status
            );
        }
    }
    Ok(())
}

/// Mails each user a link to choose a new password, then tries to deliver at once.
async fn reset_passwords(ctx: &Context, targets: &[Target]) -> Result<()> {
    for t in targets {
        let user = ctx.usher.send_password_reset(t).await?;
        println!(
            "Queued a link for {} to choose a new password (it works for an hour, once).",
            usher::domain::sanitize::escape_for_display(&user.email_display)
        );
    }
    println!("{}", ctx.deliver_now().await);
    Ok(())
}

/// A user, whether they may log in to mail, their grants and the invitations sent to
/// their address.
async fn show(u: &usher::Usher, target: &Target, typed: &str, as_json: bool) -> Result<()> {
    let d = u.user_detail(target).await?;
    if as_json {
        println!("{}", output::json(&d));
        return Ok(());
    }
    println!("{}", output::users(std::slice::from_ref(&d.user), false));
    if let Some(m) = &d.mail {
        let how = if m.may_login {
            "yes".into()
        } else {
            format!("no, {}", m.reason)
        };
        println!("\nMail login: {how}");
    }
    println!("\nRoles and permissions:");
    for g in &d.grants {
        println!(
            "  {}",
            usher::domain::sanitize::escape_for_display(&g.label())
        );
    }
    if d.grants.is_empty() {
        println!("  none (`usher grant {typed} ROLE` gives one)");
    }
    println!("\nInvitations sent to this address:");
    println!("{}", output::invitations(&d.invitations, false));
    Ok(())
}
