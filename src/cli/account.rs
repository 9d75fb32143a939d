//! The account's own commands: init, invite, status, the outbox, the audit log and the
//! database.

use color_eyre::eyre::{Result, WrapErr};
use usher::domain::UserType;
use usher::service::{InitRequest, InviteField, InviteInput};
use usher::store::Store;

use super::args::{AuditCmd, DbCmd, InitArgs, InviteArgs, JsonFlag, OutboxCmd};
use super::context::Context;
use super::output;

pub async fn init(ctx: &Context, a: &InitArgs) -> Result<()> {
    let u = &ctx.usher;
    let account = u
        .init(&InitRequest {
            org: a.org.clone(),
            domain: a.domain.clone(),
            licences: a.licences,
            admin: a.admin.clone(),
            validity_days: a.validity_days,
        })
        .await?;
    if a.out.json {
        println!("{}", output::json(&account));
    } else {
        println!(
            "Created account '{}' with {} licence(s); {} is its administrator.",
            account.name, account.licences, a.admin
        );
    }
    Ok(())
}

pub async fn invite(ctx: &Context, a: &InviteArgs) -> Result<()> {
    let u = &ctx.usher;
    let message = match &a.message_file {
        Some(f) => Some(
            std::fs::read_to_string(f)
                .wrap_err_with(|| format!("cannot read the message file {}", f.display()))?,
        ),
        None => a.message.clone(),
    };
    let input = InviteInput {
        to: a.addresses.join(","),
        first_name: a.first.clone(),
        last_name: a.last.clone(),
        user_type: if a.guest {
            UserType::Guest
        } else {
            UserType::Professional
        },
        validity: a.expires_in.map(|d| d.to_string()).unwrap_or_default(),
        cc: a.cc.join(","),
        bcc: a.bcc.join(","),
        files: a.attach.clone(),
        subject: a.subject.clone().unwrap_or_default(),
        message: message.unwrap_or_default(),
    };
    let request = input.request().map_err(|e| {
        let flag = match e.field {
            InviteField::To => "ADDRESSES",
            InviteField::Validity => "--expires-in",
            InviteField::Cc => "--cc",
            InviteField::Bcc => "--bcc",
        };
        color_eyre::eyre::eyre!("{flag}: {}", e.reason)
    })?;
    let outcome = u.invite(&request).await?;
    let mail = if a.no_send {
        "mail: queued".to_owned()
    } else {
        ctx.deliver_now().await
    };
    if a.out.json {
        println!("{}", output::json(&outcome));
    } else {
        for i in &outcome.invited {
            let verb = if i.renewed {
                "Renewed expired invitation"
            } else {
                "Invited"
            };
            println!(
                "{verb} {} (id {}), link valid until {}",
                i.email, i.id, i.expires_at
            );
        }
        println!("{mail}");
    }
    Ok(())
}

pub async fn status(ctx: &Context, out: &JsonFlag) -> Result<()> {
    let s = ctx.usher.status().await?;
    if out.json {
        println!("{}", output::json(&s));
    } else {
        print_status(&s);
    }
    Ok(())
}

pub async fn outbox(ctx: &Context, cmd: &OutboxCmd) -> Result<()> {
    let u = &ctx.usher;
    match cmd {
        OutboxCmd::List { limit, out } => {
            println!("{}", output::outbox(&u.outbox(*limit).await?, out.json));
            let waiting = u.status().await?.outbox_undrafted;
            if waiting > 0 && !out.json {
                println!(
                    "and {waiting} invitation(s) from imports, queued: the sender drafts them into the outbox as it sends"
                );
            }
        }
        OutboxCmd::Flush { now, out } => {
            if *now {
                u.make_mail_due_now().await?;
            }
            let r = ctx.sender()?.flush().await?;
            if out.json {
                println!("{}", output::json(&r));
            } else {
                println!(
                    "sent {}, to retry {}, failed {}",
                    r.sent, r.retried, r.failed
                );
            }
        }
        OutboxCmd::Retry { id, failed: _, out } => {
            let requeued = u.retry_failed_mail(*id).await?;
            let r = ctx.sender()?.flush().await?;
            if out.json {
                let v = serde_json::json!({"requeued": requeued, "report": r});
                println!("{}", output::json(&v));
            } else {
                println!(
                    "requeued {requeued}; sent {}, to retry {}, failed {}",
                    r.sent, r.retried, r.failed
                );
            }
        }
    }
    Ok(())
}

pub async fn audit(ctx: &Context, cmd: &AuditCmd) -> Result<()> {
    let u = &ctx.usher;
    match cmd {
        AuditCmd::Verify(out) => {
            let c = u.verify_audit().await?;
            if out.json {
                println!("{}", output::json(&c));
            } else {
                for f in &c.faults {
                    println!("FAULT {}", usher::domain::sanitize::single_line(f));
                }
                if c.before_chain > 0 {
                    println!(
                        "{} row(s) from before the chain began at row {}",
                        c.before_chain, c.start
                    );
                }
                println!("{}", c.verdict());
                println!("chain head {}", c.head.as_deref().unwrap_or("(empty)"));
            }
            if !c.faults.is_empty() {
                return Err(color_eyre::eyre::eyre!(
                    "the audit log does not verify: {} fault(s)",
                    c.faults.len()
                ));
            }
        }
        AuditCmd::Anchor => match u.anchor_audit().await? {
            Some(row) => println!("anchored at row {row}"),
            None => println!("the audit log is empty: nothing to anchor"),
        },
        AuditCmd::List { limit, out } => {
            println!("{}", output::audit(&u.audit(*limit).await?, out.json));
        }
    }
    Ok(())
}

pub async fn db(ctx: &Context, cmd: &DbCmd) -> Result<()> {
    let u = &ctx.usher;
    match cmd {
        DbCmd::FakeUsers { count, domain } => {
            let t = std::time::Instant::now();
            let n = u.generate_fake_users(*count, domain).await?;
            println!("added {n} users in {:.1} s", t.elapsed().as_secs_f64());
        }
        DbCmd::Migrate => {
            // Context::open already migrated; say where things stand.
            let versions = Store::migration_versions(u.store().backend());
            println!(
                "{} schema is up to date (migrations {:?})",
                u.store().backend(),
                versions
            );
        }
    }
    Ok(())
}

pub fn print_status(s: &usher::service::Status) {
    println!(
        "Account:             {}",
        usher::domain::sanitize::escape_for_display(&s.account)
    );
    println!("Users:               {}", s.users);
    println!("Pending invitations: {}", s.pending_invitations);
    println!(
        "Licences:            {} used of {}",
        s.licences_used, s.licences_total
    );
    let undrafted = if s.outbox_undrafted > 0 {
        format!(
            " ({} of them imported invitations, drafted as they are sent)",
            s.outbox_undrafted
        )
    } else {
        String::new()
    };
    println!(
        "Outbox:              {} queued{undrafted}, {} failed",
        s.outbox_queued, s.outbox_failed
    );
    println!("Database:            {}", s.backend);
}
