//! `usher sync ...`: follow a directory (docs/sync.md). `usher sync NAME` previews a run,
//! `--apply --yes` applies it, `--approve RUN` applies a run held by a limit.

use color_eyre::eyre::{Result, eyre};
use usher::config::SyncSource;
use usher::domain::Timestamp;
use usher::domain::sanitize::escape_for_display;
use usher::service::{RunOptions, RunOutcome, SyncReport};

use super::args::{SyncArgs, SyncCmd};
use super::context::Context;
use super::output::{self, JsonFlag};

/// The exit status of a dry run with changes pending, as `terraform plan
/// -detailed-exitcode` has it; 0 means the account is in step with the directory.
pub const PENDING: u8 = 2;
/// A run over one of the source's limits: held (or, for a dry run, it would be).
pub const HELD: u8 = 3;

/// Ends the command with an exit status and nothing more to say.
#[derive(Debug)]
pub struct Exit(pub u8);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit status {}", self.0)
    }
}

impl std::error::Error for Exit {}

pub(super) async fn run(ctx: &Context, a: &SyncArgs) -> Result<()> {
    match &a.cmd {
        Some(SyncCmd::Status(out)) => status(ctx, out).await,
        Some(SyncCmd::History { source, limit, out }) => {
            history(ctx, source.as_deref(), *limit, out).await
        }
        Some(SyncCmd::Undo { run, yes, out }) => undo(ctx, *run, *yes, out).await,
        None => {
            let name = a.source.as_deref().ok_or_else(|| {
                eyre!("name the SOURCE to sync, or a subcommand (usher sync --help)")
            })?;
            let source = find(ctx, name)?;
            let o = RunOptions {
                approve: a.approve,
                changes_only: a.changes,
                progress: super::bar::progress(),
            };
            if a.apply {
                apply(ctx, source, a, &o).await
            } else {
                preview(ctx, source, &a.out, &o).await
            }
        }
    }
}

/// The source the config names so.
fn find<'c>(ctx: &'c Context, name: &str) -> Result<&'c SyncSource> {
    let sources = &ctx.config.sync;
    sources.iter().find(|s| s.name == name).ok_or_else(|| {
        let names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
        match names.is_empty() {
            true => eyre!(
                "no source '{}': the config has no [[sync.source]] (docs/sync.md)",
                escape_for_display(name)
            ),
            false => eyre!(
                "no source '{}': the config has {}",
                escape_for_display(name),
                names.join(", ")
            ),
        }
    })
}

async fn preview(ctx: &Context, source: &SyncSource, out: &JsonFlag, o: &RunOptions) -> Result<()> {
    let report = ctx.usher.sync_preview(source, o).await?;
    let Some(plan) = &report.plan else {
        return Err(eyre!("the preview made no plan"));
    };
    if out.json {
        let mut v = serde_json::to_value(plan)?;
        v["sync"] = serde_json::to_value(&report)?;
        println!("{}", output::json(&v));
    } else {
        println!(
            "source {}: {} entries read ({} read, run {})",
            source.name, report.entries, report.scope, report.run_id
        );
        for n in &plan.parsed().notes {
            println!("note: {}", escape_for_display(n));
        }
        // Entries have no row numbers worth showing: the address names each.
        super::import::show_plan(plan, None, &|_| String::new());
        say_losses(&report);
    }
    verdict(&report)
}

/// What the run would take away, against the limits, and the faulty entries.
fn say_losses(report: &SyncReport) {
    let l = &report.losses;
    println!(
        "losses: {} suspended, {} removed, {} role(s) taken, of {} active users",
        l.suspend, l.remove, l.role_loss, l.active_users
    );
    if let Some(why) = &report.held_reason {
        println!("limit: an apply would be held: {why}");
    }
    for f in report.faults.iter().take(20) {
        println!("  fault: {f}");
    }
    if report.faults.len() > 20 {
        println!(
            "  … and {} more (--json lists them all)",
            report.faults.len() - 20
        );
    }
}

/// The exit status a report gives: held, changes pending, or in step.
fn verdict(report: &SyncReport) -> Result<()> {
    if report.held.is_some() {
        return Err(Exit(HELD).into());
    }
    if report.outcome == RunOutcome::Previewed && report.losses.changes > 0 {
        return Err(Exit(PENDING).into());
    }
    Ok(())
}

async fn apply(ctx: &Context, source: &SyncSource, a: &SyncArgs, o: &RunOptions) -> Result<()> {
    if !a.yes {
        return Err(eyre!(
            "applying changes the account: preview it with `usher sync {} --dry-run`, then run again with --yes",
            source.name
        ));
    }
    let report = ctx.usher.sync_apply(source, o).await?;
    let mail = match (&report.applied, a.no_send) {
        (Some(o), false) if o.invited + o.reinvited > 0 => ctx.deliver_now().await,
        (Some(_), true) => "mail: queued (usher outbox flush sends it)".to_owned(),
        _ => String::new(),
    };
    if a.out.json {
        println!("{}", output::json(&report));
        return verdict(&report);
    }
    match (report.outcome, &report.applied) {
        (RunOutcome::Held, _) => {
            println!(
                "source {}: run {} held, nothing changed: {}",
                source.name,
                report.run_id,
                report.held_reason.as_deref().unwrap_or("over a limit")
            );
            println!(
                "read the plan with `usher sync {} --dry-run`; if it is right, apply it with \
                 `usher sync {} --apply --approve {} --yes`",
                source.name, source.name, report.run_id
            );
        }
        (RunOutcome::Unchanged, _) => println!(
            "source {}: {} entries read, in step: nothing to change (run {})",
            source.name, report.entries, report.run_id
        ),
        (_, Some(o)) => {
            println!(
                "source {}: run {} applied: {} (import {})",
                source.name,
                report.run_id,
                o.summary(),
                o.batch_id
            );
            if !mail.is_empty() {
                println!("{mail}");
            }
            println!("undo with: usher sync undo {} --yes", report.run_id);
        }
        _ => {}
    }
    for f in report.faults.iter().take(20) {
        println!("  left out: {f}");
    }
    verdict(&report)
}

async fn status(ctx: &Context, out: &JsonFlag) -> Result<()> {
    let list = ctx.usher.sync_status(&ctx.config.sync).await?;
    if out.json {
        println!("{}", output::json(&list));
        return Ok(());
    }
    if list.is_empty() {
        println!("no sources: add a [[sync.source]] to the config (docs/sync.md)");
        return Ok(());
    }
    let lines = list
        .iter()
        .map(|s| {
            let last = s.last_run.as_ref();
            vec![
                s.source.clone(),
                s.interval_minutes
                    .map_or("by hand".to_owned(), |m| format!("{m} min")),
                last.map_or_else(|| "never".into(), |r| when(r.finished_at)),
                last.map(|r| r.outcome.clone()).unwrap_or_default(),
                last.map(|r| r.entries.to_string()).unwrap_or_default(),
                s.last_applied
                    .as_ref()
                    .map(|r| when(r.finished_at))
                    .unwrap_or_default(),
                s.waiting
                    .as_ref()
                    .map(|r| {
                        let why = r.held_reason.as_deref().unwrap_or_default();
                        format!("run {}: {}", r.id, escape_for_display(why))
                    })
                    .unwrap_or_default(),
            ]
        })
        .collect();
    println!(
        "{}",
        output::table(
            &[
                "source",
                "every",
                "last run",
                "outcome",
                "entries",
                "last applied",
                "waiting"
            ],
            lines
        )
    );
    Ok(())
}

fn when(ms: i64) -> String {
    Timestamp(ms).human()
}

async fn history(ctx: &Context, source: Option<&str>, limit: i64, out: &JsonFlag) -> Result<()> {
    let runs = ctx.usher.sync_history(source, limit).await?;
    if out.json {
        println!("{}", output::json(&runs));
        return Ok(());
    }
    let rows = runs
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.source.clone(),
                when(r.started_at),
                r.actor.clone(),
                r.outcome.clone(),
                r.entries.to_string(),
                match (r.batch_id, r.undone_at) {
                    (Some(b), Some(_)) => format!("{b} (undone)"),
                    (Some(b), None) => b.to_string(),
                    _ => String::new(),
                },
                r.held_reason
                    .clone()
                    .or(r.error.clone())
                    .map(|t| escape_for_display(&t))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    println!(
        "{}",
        output::table(
            &[
                "run", "source", "time", "by", "outcome", "entries", "import", "why"
            ],
            rows
        )
    );
    Ok(())
}

async fn undo(ctx: &Context, run: i64, yes: bool, out: &JsonFlag) -> Result<()> {
    if !yes {
        return Err(eyre!(
            "undoing sync run {run} changes the account: run again with --yes"
        ));
    }
    let r = ctx.usher.sync_undo(run).await?;
    if out.json {
        println!("{}", output::json(&r));
    } else {
        println!("undid sync run {run}: {}", r.summary());
    }
    Ok(())
}
