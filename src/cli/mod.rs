//! The command line: parse, load config, open the store, call the core, print.

mod access;
pub mod args;
mod bar;
mod docs;
mod domains;
mod import;
pub mod log;
pub mod output;
mod report;
mod serve;
mod templates;

use std::sync::Arc;
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr};

use usher::config::{Config, Overrides, ProcessEnv};
use usher::domain::{Actor, SystemClock, parse_address_list};
use usher::error::Error;
use usher::mail::{MailTransport, Sender, SenderSettings};
use usher::service::{InitRequest, InviteRequest, Settings, Target};
use usher::store::{ConnectOptions, InvitationFilter, Store};
use usher::{Usher, domain::UserType};

pub use args::Cli;
use args::{AuditCmd, Command, DbCmd, ImportArgs, ImportCmd, InvitationsCmd, OutboxCmd, UsersCmd};

/// Everything a command needs, built once.
struct Context {
    config: Config,
    usher: Usher,
}

impl Context {
    async fn open(cli: &Cli) -> Result<Self> {
        let config = Config::load(
            &Overrides {
                config: cli.config.clone(),
                database_url: cli.database_url.clone(),
            },
            &ProcessEnv,
        )?;
        let store = Store::open(
            &config.database_url,
            &ConnectOptions {
                password: config.database_password.clone(),
                // The console (no command) must say "reconnecting" within seconds of
                // losing the database; a command may wait longer for it.
                connect_timeout: Duration::from_secs(if cli.command.is_none() { 4 } else { 10 }),
                create: matches!(
                    cli.command,
                    Some(Command::Init(_) | Command::Db(DbCmd::Migrate))
                ),
                ..ConnectOptions::default()
            },
        )
        .await?;
        let actor = Actor::detect(
            config.operator.as_deref(),
            std::env::var("SSH_CONNECTION").ok().as_deref(),
        );
        let settings = Settings::from_config(&config)?;
        let usher = Usher::new(store, Arc::new(SystemClock), actor, settings);
        Ok(Self { config, usher })
    }

    fn sender(&self) -> Result<Sender> {
        let transport = MailTransport::from_config(&self.config.mail)?;
        Ok(Sender::new(
            self.usher.store().clone(),
            transport,
            self.usher.clock().clone(),
            SenderSettings::from_config(&self.config.mail),
            self.usher.renderer(),
        )?)
    }

    /// Tries to deliver what was just queued. A delivery problem is not the command's
    /// failure: the mail stays queued and is retried, and the operator is told.
    async fn deliver_now(&self) -> String {
        let attempt = async {
            let r = self.sender()?.flush().await?;
            Ok::<_, color_eyre::Report>(r)
        };
        match attempt.await {
            Ok(r) if r.retried == 0 && r.failed == 0 => format!("mail: {} sent", r.sent),
            Ok(r) => format!(
                "mail: {} sent, {} will be retried, {} failed (see `usher invitations list`)",
                r.sent, r.retried, r.failed
            ),
            Err(e) => format!("mail: queued, not sent yet ({e}); `usher outbox flush` retries"),
        }
    }
}

/// Addresses from repeated or comma-separated options (--cc a@x --cc "b@x, c@x").
fn addresses_of(values: &[String]) -> Result<Vec<usher::domain::Email>> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    Ok(parse_address_list(&values.join(",")).map_err(Error::Emails)?)
}

pub async fn run(cli: Cli) -> Result<()> {
    let Some(command) = &cli.command else {
        return overview(&cli).await;
    };
    // Checking a file, writing the template and the package's documents need no database.
    match command {
        Command::Completions { .. } | Command::Manpages { .. } => return docs::run(command),
        Command::Import(ImportArgs {
            cmd: Some(ImportCmd::Check(a)),
            ..
        }) => return import::check(a),
        Command::Import(ImportArgs {
            cmd:
                Some(ImportCmd::Template {
                    format,
                    output,
                    with_roles: false,
                }),
            ..
        }) => {
            if format == "xlsx" {
                usher::import::template::write_xlsx(output)?;
            } else {
                usher::import::template::write_csv(output)?;
            }
            println!("wrote the {format} template to {}", output.display());
            return Ok(());
        }
        _ => {}
    }
    let ctx = Context::open(&cli).await?;
    let u = &ctx.usher;
    match command {
        Command::Import(ImportArgs {
            cmd:
                Some(ImportCmd::Template {
                    format,
                    output,
                    with_roles: true,
                }),
            ..
        }) => {
            if format != "xlsx" {
                return Err(color_eyre::eyre::eyre!(
                    "--with-roles writes a workbook: add --format xlsx"
                ));
            }
            import::roles_template(u, output).await?;
        }
        Command::Init(a) => {
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
        }
        Command::Invite(a) => {
            let addresses = parse_address_list(&a.addresses.join(",")).map_err(Error::Emails)?;
            let outcome = u
                .invite(&InviteRequest {
                    addresses,
                    first_name: a.first.clone(),
                    last_name: a.last.clone(),
                    user_type: if a.guest {
                        UserType::Guest
                    } else {
                        UserType::Professional
                    },
                    expires_in_days: a.expires_in,
                    subject: a.subject.clone(),
                    message: match &a.message_file {
                        Some(f) => Some(std::fs::read_to_string(f).wrap_err_with(|| {
                            format!("cannot read the message file {}", f.display())
                        })?),
                        None => a.message.clone(),
                    },
                    options: usher::service::InviteOptions {
                        cc: addresses_of(&a.cc)?,
                        bcc: addresses_of(&a.bcc)?,
                        attachments: Vec::new(),
                        files: a.attach.clone(),
                    },
                })
                .await?;
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
        }
        Command::Invitations(cmd) => invitations(&ctx, cmd).await?,
        Command::Users(cmd) => users(&ctx, cmd).await?,
        Command::Status(out) => {
            let s = u.status().await?;
            if out.json {
                println!("{}", output::json(&s));
            } else {
                print_status(&s);
            }
        }
        Command::Outbox(OutboxCmd::List { limit, out }) => {
            println!("{}", output::outbox(&u.outbox(*limit).await?, out.json));
            let waiting = u.status().await?.outbox_undrafted;
            if waiting > 0 && !out.json {
                println!(
                    "and {waiting} invitation(s) from imports, queued: the sender drafts them into the outbox as it sends"
                );
            }
        }
        Command::Outbox(OutboxCmd::Flush { now, out }) => {
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
        Command::Outbox(OutboxCmd::Retry { id, failed: _, out }) => {
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
        Command::Import(a) => import::run(&ctx, a).await?,
        Command::Completions { .. } | Command::Manpages { .. } => docs::run(command)?,
        Command::Roles(cmd) => access::roles(u, cmd).await?,
        Command::Permissions(cmd) => access::permissions(cmd),
        Command::Grant(a) => access::grant(u, a).await?,
        Command::Revoke(a) => access::revoke(u, a).await?,
        Command::Mailboxes(cmd) => access::mailboxes(u, cmd).await?,
        Command::Domains(cmd) => domains::run(u, cmd).await?,
        Command::Templates(cmd) => templates::run(u, cmd).await?,
        Command::Report(a) => {
            let said = report::run(u, a).await?;
            println!("{said}");
            if a.email.is_some() {
                println!("{}", ctx.deliver_now().await);
            }
        }
        Command::Serve(a) => serve::run(&ctx.config, u, ctx.sender()?, a).await?,
        Command::Audit(AuditCmd::Verify(out)) => {
            let c = u.verify_audit().await?;
            if out.json {
                println!("{}", output::json(&c));
            } else {
                for f in &c.faults {
                    println!("FAULT {f}");
                }
                println!(
                    "{} row(s) verified{}; chain head {}",
                    c.verified,
                    if c.before_chain > 0 {
                        format!(", {} from before the chain began", c.before_chain)
                    } else {
                        String::new()
                    },
                    c.head.as_deref().unwrap_or("(empty)")
                );
            }
            if !c.faults.is_empty() {
                return Err(color_eyre::eyre::eyre!(
                    "the audit log does not verify: {} fault(s)",
                    c.faults.len()
                ));
            }
        }
        Command::Audit(AuditCmd::List { limit, out }) => {
            println!("{}", output::audit(&u.audit(*limit).await?, out.json));
        }
        Command::Db(DbCmd::FakeUsers { count, domain }) => {
            let t = std::time::Instant::now();
            let n = u.generate_fake_users(*count, domain).await?;
            println!("added {n} users in {:.1} s", t.elapsed().as_secs_f64());
        }
        Command::Db(DbCmd::Migrate) => {
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

async fn invitations(ctx: &Context, cmd: &InvitationsCmd) -> Result<()> {
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

async fn users(ctx: &Context, cmd: &UsersCmd) -> Result<()> {
    let u = &ctx.usher;
    let target = |t: &str| -> Target { t.parse().unwrap_or(Target::Email(t.to_owned())) };
    let targets = |all: &[String]| -> Vec<Target> { all.iter().map(|t| target(t)).collect() };
    let (changed, out, verb) = match cmd {
        UsersCmd::List { search, limit, out } => {
            let list = u.users(search, "", *limit).await?;
            println!("{}", output::users(&list, out.json));
            return Ok(());
        }
        UsersCmd::Show { user, out } => {
            let d = u.user_detail(&target(user)).await?;
            if out.json {
                println!("{}", output::json(&d));
            } else {
                println!("{}", output::users(std::slice::from_ref(&d.user), false));
                println!("\nRoles and permissions:");
                for g in &d.grants {
                    println!(
                        "  {}",
                        usher::domain::sanitize::escape_for_display(&g.label())
                    );
                }
                if d.grants.is_empty() {
                    println!("  none (`usher grant {user} ROLE` gives one)");
                }
                println!("\nInvitations sent to this address:");
                println!("{}", output::invitations(&d.invitations, false));
            }
            return Ok(());
        }
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

fn print_status(s: &usher::service::Status) {
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

/// `usher` alone: the console on a terminal once an account exists; otherwise the status
/// (or how to start) and the help.
async fn overview(cli: &Cli) -> Result<()> {
    use std::io::IsTerminal;

    use clap::CommandFactory;
    let ctx = match Context::open(cli).await {
        Ok(ctx) => ctx,
        // A first run: say where the database would be and how to make it, then the help.
        Err(e)
            if e.downcast_ref::<Error>()
                .is_some_and(|e| matches!(e, Error::Connect { .. })) =>
        {
            println!("{e}\n");
            Cli::command().print_help()?;
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    match ctx.usher.status().await {
        Ok(_) if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() => {
            return console(&ctx, cli.read_only).await;
        }
        Ok(s) => print_status(&s),
        Err(Error::NoAccount) => println!("{}\n", Error::NoAccount),
        Err(e) => return Err(e).wrap_err("cannot read the status"),
    }
    println!();
    Cli::command().print_help()?;
    Ok(())
}

async fn console(ctx: &Context, read_only: bool) -> Result<()> {
    let sender = if ctx.config.console.send_mail && !read_only {
        Some(ctx.sender()?)
    } else {
        None
    };
    let log = log::to_file(&ctx.config.data_dir);
    let result = usher::tui::run(
        ctx.usher.clone(),
        usher::tui::Options {
            read_only,
            keys: ctx.config.keys.clone(),
            refresh_seconds: ctx.config.console.refresh_seconds,
            sender,
        },
    )
    .await;
    let lines = log::to_stderr();
    if lines > 0 {
        eprintln!(
            "usher: {lines} log line(s) written while the console was open: {}",
            log.display()
        );
    }
    result?;
    Ok(())
}
