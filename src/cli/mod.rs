//! The command line: parse, load config, open the store, call the core, print.

mod access;
mod account;
pub mod args;
mod bar;
mod context;
mod docs;
mod domains;
mod import;
pub mod log;
mod mailserver;
mod operators;
pub mod output;
mod people;
mod report;
mod serve;
pub mod sync;
mod templates;

use color_eyre::eyre::{Result, WrapErr};
use usher::error::Error;

pub use args::Cli;
use args::{Command, ImportArgs, ImportCmd};
use context::Context;

pub async fn run(cli: Cli) -> Result<()> {
    let Some(command) = &cli.command else {
        return overview(&cli).await;
    };
    if offline(command)? {
        return Ok(());
    }
    let ctx = Context::open(&cli).await?;
    let u = &ctx.usher;
    match command {
        Command::Init(a) => account::init(&ctx, a).await?,
        Command::Invite(a) => account::invite(&ctx, a).await?,
        Command::Invitations(cmd) => people::invitations(&ctx, cmd).await?,
        Command::Users(cmd) => people::users(&ctx, cmd).await?,
        Command::Status(out) => account::status(&ctx, out).await?,
        Command::Outbox(cmd) => account::outbox(&ctx, cmd).await?,
        Command::Import(a) => import::run(&ctx, a).await?,
        Command::Sync(a) => sync::run(&ctx, a).await?,
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
        Command::Audit(cmd) => account::audit(&ctx, cmd).await?,
        Command::Operators(cmd) => operators::run(u, cmd).await?,
        Command::Db(cmd) => account::db(&ctx, cmd).await?,
        Command::Mailserver(cmd) => mailserver::run(u, &ctx.config.database_url, cmd).await?,
    }
    Ok(())
}

/// Runs what needs no database (checking a file, the import templates, the package's
/// documents); false when the command needs one.
fn offline(command: &Command) -> Result<bool> {
    match command {
        Command::Completions { .. } | Command::Manpages { .. } => docs::run(command)?,
        Command::Import(ImportArgs {
            cmd: Some(ImportCmd::Check(a)),
            ..
        }) => import::check(a)?,
        Command::Import(ImportArgs {
            cmd:
                Some(ImportCmd::Template {
                    format,
                    output,
                    with_roles: false,
                }),
            ..
        }) => import::template(format, output)?,
        _ => return Ok(false),
    }
    Ok(true)
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
        Ok(s) => account::print_status(&s),
        Err(Error::NoAccount) => println!("{}\n", Error::NoAccount),
        Err(e) => return Err(e).wrap_err("cannot read the status"),
    }
    println!();
    Cli::command().print_help()?;
    Ok(())
}

async fn console(ctx: &Context, read_only: bool) -> Result<()> {
    let sender = if ctx.config.console.send_mail && !read_only && ctx.usher.may_send_mail() {
        Some(ctx.sender()?)
    } else {
        None
    };
    let log = log::to_file(&ctx.config.data_dir);
    // The audit log says the console acted, not a command.
    let console = ctx
        .usher
        .with_actor(ctx.usher.actor().via(usher::domain::Channel::Console));
    let result = usher::tui::run(
        console,
        usher::tui::Options {
            read_only,
            keys: ctx.config.keys.clone(),
            refresh_seconds: ctx.config.console.refresh_seconds,
            sender,
            sync: ctx.config.sync.clone(),
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
