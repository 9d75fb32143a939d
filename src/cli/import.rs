//! `usher import ...`: check a file, preview an import.

use color_eyre::eyre::Result;
use usher::Usher;
use usher::domain::sanitize::escape_for_display;
use usher::import::plan::{Bucket, Plan, PlanRow};
use usher::import::{Parsed, ReadOptions, parse_file, parse_mapping};

use usher::service::{ApplyOptions, Missing};

use super::args::{ApplyArgs, Decisions, ImportArgs, ImportCmd, ImportFileArgs};
use super::context::Context;
use super::output::{self, JsonFlag};

/// How the command line says to read the file.
fn read_options(a: &ImportFileArgs) -> ReadOptions {
    ReadOptions {
        encoding: a.read.encoding.clone(),
        sheet: a.read.sheet.clone(),
        header_row: a.read.header_row,
        ignore: a.read.ignore.clone(),
        progress: Default::default(),
    }
}

/// Reads and checks the file named on the command line, with its options.
fn parse(a: &ImportFileArgs) -> Result<Parsed> {
    let mapping = match &a.read.map {
        Some(m) => parse_mapping(m).map_err(|e| color_eyre::eyre::eyre!("--map: {e}"))?,
        None => Vec::new(),
    };
    let opts = ReadOptions {
        progress: super::bar::progress(),
        ..read_options(a)
    };
    Ok(parse_file(&a.file, &opts, &mapping)?)
}

/// What was read differently from the file's face: the header's row, and the notes.
fn say_how_read(parsed: &Parsed, indent: &str) {
    let s = &parsed.source;
    if s.above_header > 0 {
        println!(
            "{indent}the column names are on row {}; the {} row(s) above it were left out",
            s.header_row, s.above_header
        );
    }
    for n in &parsed.notes {
        println!("{indent}note: {n}");
    }
}

pub(super) async fn preview(u: &Usher, a: &ImportFileArgs, skip_errors: bool) -> Result<()> {
    let parsed = parse(a)?;
    let plan = u.import_preview(std::sync::Arc::new(parsed)).await?;
    let errors = plan.counts.get(&Bucket::Error).copied().unwrap_or(0);
    let short = plan.licences.short_by;
    let workbook = plan.parsed().workbook.is_some();
    let outside = plan
        .counts
        .get(&Bucket::OutsideDomains)
        .copied()
        .unwrap_or(0);
    // Errors or too few licences would stop the import from applying: say so by the exit
    // status. A workbook leaves the users at fault out, but refuses any off the domains.
    let verdict = || -> Result<()> {
        if workbook && outside > 0 {
            return Err(color_eyre::eyre::eyre!(
                "{outside} user(s) are not on a verified, active domain: the workbook would be refused whole"
            ));
        }
        if workbook && errors > 0 {
            eprintln!(
                "{errors} fault(s): the users they concern are left out; the rest can be applied"
            );
        } else if errors > 0 && skip_errors {
            eprintln!(
                "{errors} faulty row(s) will be left out (--skip-errors) and written to {}",
                usher::import::faulty::default_path(&a.file).display()
            );
        } else if errors > 0 {
            return Err(color_eyre::eyre::eyre!(
                "{errors} row(s) cannot be imported; fix them and preview again, or \
                 --skip-errors applies the others and leaves these out"
            ));
        }
        if short > 0 {
            return Err(color_eyre::eyre::eyre!(
                "the new professional users need {short} more licence(s) than are free; add licences or mark rows as guests"
            ));
        }
        Ok(())
    };
    if a.read.out.json {
        println!("{}", output::json(&plan));
        return verdict();
    }
    say_how_read(plan.parsed(), "");
    show_plan(&plan, Some("import apply --expect"), &|r| {
        format!("row {:>6}", r.row.map_or("-".to_owned(), |n| n.to_string()))
    });
    // The same verdict, and so the same exit status, as with --json.
    verdict()
}

/// The plan's counts by bucket, its digest and licences, and its first 50 rows that say
/// more than the counts; `at` names a row (its file row, or a directory entry).
pub(super) fn show_plan(plan: &Plan, expect: Option<&str>, at: &dyn Fn(&PlanRow) -> String) {
    let workbook = plan.parsed().workbook.is_some();
    let sync = plan.state().sync.is_some();
    for b in Bucket::ALL {
        let n = plan.counts.get(&b).copied().unwrap_or(0);
        let invited = match b {
            Bucket::Missing if n > 0 => plan.missing_invitations(),
            _ => 0,
        };
        println!(
            "{n:>8}  {}{}",
            if sync {
                b.label_for_sync(plan.state().creates_directly())
            } else {
                b.label_for(workbook)
            },
            match invited {
                0 => String::new(),
                i => format!(" ({i} of them pending invitations)"),
            }
        );
    }
    match expect {
        Some(how) => println!(
            "   digest  {} ({how} {} applies exactly this)",
            plan.digest, plan.digest
        ),
        None => println!("   digest  {}", plan.digest),
    }
    let l = &plan.licences;
    println!(
        "licences: {} in use of {}, adds {} professional(s){}",
        l.used,
        l.total,
        l.wanted,
        if l.short_by > 0 {
            format!(": {} more than are free", l.short_by)
        } else {
            String::new()
        }
    );
    for r in plan
        .rows()
        .filter(|r| {
            // Rows with nothing to say: the counts above cover them.
            let quiet = matches!(r.bucket, Bucket::Unchanged | Bucket::Pending)
                || (r.bucket == Bucket::New && !workbook)
                || (r.bucket == Bucket::Disabled && r.changes.is_empty());
            !quiet
        })
        .take(50)
    {
        let what = r.reason.clone().unwrap_or_else(|| r.changes.join("; "));
        println!(
            "  {}  {:<15} {}  {}",
            at(&r),
            format!("{:?}", r.bucket),
            escape_for_display(&r.email),
            escape_for_display(&what)
        );
    }
}

pub(super) fn check(a: &ImportFileArgs) -> Result<()> {
    let parsed = parse(a)?;
    let columns: Vec<serde_json::Value> = parsed
        .columns
        .found
        .iter()
        .map(|(f, _, h)| serde_json::json!({"field": f.name(), "column": h}))
        .collect();
    if a.read.out.json {
        let rows: Vec<serde_json::Value> = parsed
            .rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "row": r.row, "email": r.email_display(), "first_name": r.first_name(),
                    "last_name": r.last_name(), "unique_ref": r.unique_ref(), "user_type": r.user_type,
                    "has_password": r.password.is_some(),
                })
            })
            .collect();
        println!(
            "{}",
            output::json(&serde_json::json!({
                "source": parsed.source, "columns": columns, "valid": parsed.rows.len(),
                "errors": parsed.errors, "notes": parsed.notes, "rows": rows,
            }))
        );
    } else {
        let s = &parsed.source;
        let mut how = s.format.clone();
        if let Some(e) = &s.encoding {
            how.push_str(&format!(", {e}"));
        }
        if let Some(d) = &s.delimiter {
            how.push_str(&format!(", delimiter {d}"));
        }
        if let Some(sh) = &s.sheet {
            how.push_str(&format!(", sheet '{}'", escape_for_display(sh)));
        }
        println!("Read {} as {how}", a.file.display());
        if let Some(n) = &s.note {
            println!("  {n}");
        }
        say_how_read(&parsed, "  ");
        for (f, _, h) in &parsed.columns.found {
            println!("  {:<22} <- {}", f.name(), escape_for_display(h));
        }
        let bad_rows = parsed
            .errors
            .iter()
            .map(|e| e.row)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        println!(
            "{} valid row(s), {bad_rows} row(s) with errors ({} fault(s))",
            parsed.rows.len(),
            parsed.errors.len()
        );
        for e in parsed.errors.iter().take(50) {
            println!("  {e}");
        }
        if parsed.errors.len() > 50 {
            println!(
                "  … and {} more (--json lists them all)",
                parsed.errors.len() - 50
            );
        }
    }
    if !parsed.errors.is_empty() {
        let rows: std::collections::BTreeSet<u64> = parsed.errors.iter().map(|e| e.row).collect();
        return Err(color_eyre::eyre::eyre!(
            "{} row(s) have errors; fix them and check again",
            rows.len()
        ));
    }
    Ok(())
}

/// With --skip-errors, the rows left out for faults go to a CSV beside the file (or
/// `--faulty-rows PATH`) to fix and import again: how many, and where.
fn write_faulty_rows(
    file: &ImportFileArgs,
    parsed: &Parsed,
    skip_errors: bool,
    to: Option<&std::path::Path>,
) -> Result<Option<(usize, std::path::PathBuf)>> {
    if !usher::import::faulty::left_out(parsed, skip_errors) {
        return Ok(None);
    }
    let out = to.map_or_else(
        || usher::import::faulty::default_path(&file.file),
        std::path::Path::to_path_buf,
    );
    let n = usher::import::faulty::write(&file.file, &read_options(file), parsed, &out)?;
    Ok(Some((n, out)))
}

/// `usher import FILE [--dry-run | --apply --yes]` and the subcommands that need the
/// database.
pub(super) async fn run(ctx: &Context, a: &ImportArgs) -> Result<()> {
    let direct = || -> Result<ImportFileArgs> {
        Ok(ImportFileArgs {
            file: a.file.clone().ok_or_else(|| {
                color_eyre::eyre::eyre!(
                    "name the FILE to import, or a subcommand (usher import --help)"
                )
            })?,
            read: a.read.clone(),
        })
    };
    match &a.cmd {
        None if a.apply => {
            let run = ApplyArgs {
                file: direct()?,
                decide: a.decide.clone(),
            };
            apply(ctx, &run).await
        }
        None => preview(&ctx.usher, &direct()?, a.decide.skip_errors).await,
        Some(ImportCmd::Preview(f)) => preview(&ctx.usher, f, false).await,
        Some(ImportCmd::Check(f)) => check(f),
        Some(ImportCmd::Apply(args)) => apply(ctx, args).await,
        Some(ImportCmd::History(out)) => history(&ctx.usher, out).await,
        Some(ImportCmd::Undo { batch, yes, out }) => undo(&ctx.usher, *batch, *yes, out).await,
        Some(ImportCmd::Template {
            format,
            output,
            with_roles,
        }) => {
            if !with_roles {
                return template(format, output);
            }
            if format != "xlsx" {
                return Err(color_eyre::eyre::eyre!(
                    "--with-roles writes a workbook: add --format xlsx"
                ));
            }
            roles_template(&ctx.usher, output).await
        }
    }
}

/// `usher import apply`: the file read again, applied with the decisions given, and the
/// mail sent unless told not to.
async fn apply(ctx: &Context, args: &ApplyArgs) -> Result<()> {
    let ApplyArgs { file, decide } = args;
    if !decide.yes {
        return Err(color_eyre::eyre::eyre!(
            "applying changes the account: preview it with `usher import FILE` (a dry run), then run again with --yes"
        ));
    }
    let parsed = parse(file)?;
    let opts = apply_options(file, decide)?;
    let Decisions {
        no_send,
        skip_errors,
        faulty_rows,
        ..
    } = decide;
    let u = &ctx.usher;
    let out = u.import_apply(&parsed, &opts).await?;
    let faulty = write_faulty_rows(file, &parsed, *skip_errors, faulty_rows.as_deref())?;
    let mail = if *no_send {
        "mail: queued (usher outbox flush sends it)".to_owned()
    } else {
        ctx.deliver_now().await
    };
    if file.read.out.json {
        let mut v = serde_json::to_value(&out)?;
        if let Some((n, path)) = &faulty {
            v["faulty_rows"] = serde_json::json!({"count": n, "file": path});
        }
        println!("{}", output::json(&v));
    } else {
        println!(
            "import {}: {}{}",
            out.batch_id,
            out.summary(),
            match out.left_out {
                0 => String::new(),
                n => format!(", left out {n} for faults (`usher import preview` lists them)"),
            }
        );
        if let Some((n, path)) = &faulty {
            println!(
                "{n} faulty row(s) left out (--skip-errors), written to {}: fix them there and import that file",
                path.display()
            );
        }
        println!("{mail}");
        println!("undo with: usher import undo {} --yes", out.batch_id);
    }
    Ok(())
}

/// The decisions of the command line as the core takes them.
fn apply_options(file: &ImportFileArgs, decide: &Decisions) -> Result<ApplyOptions> {
    let Decisions {
        missing,
        as_guests,
        include_outside,
        expect,
        skip,
        exclude,
        skip_errors,
        ..
    } = decide;
    // Row numbers and ranges, and the addresses of missing users to leave alone.
    let (emails, rows): (Vec<&str>, Vec<&str>) = exclude
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .partition(|x| x.contains('@'));
    let (emails, rows) = (
        emails.iter().map(|e| e.to_lowercase()).collect(),
        rows.join(","),
    );
    Ok(ApplyOptions {
        missing: match missing.as_str() {
            "suspend" => Missing::Suspend,
            "remove" => Missing::Remove,
            _ => Missing::Keep,
        },
        overflow_as_guests: *as_guests,
        include_outside: *include_outside,
        expect_digest: expect.clone(),
        skip: skip
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(Bucket::parse)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| color_eyre::eyre::eyre!("--skip: {e}"))?,
        exclude_rows: usher::import::plan::parse_rows(&rows)
            .map_err(|e| color_eyre::eyre::eyre!("--exclude: {e}"))?,
        exclude_emails: emails,
        exclude_refs: Vec::new(),
        file_name: file
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        file_sha256: usher::domain::token::hash_file(&file.file)?,
        skip_errors: *skip_errors,
        progress: super::bar::progress(),
    })
}

async fn history(u: &Usher, out: &JsonFlag) -> Result<()> {
    let list = u.import_history(100).await?;
    if out.json {
        println!("{}", output::json(&list));
    } else {
        let rows = list
            .iter()
            .map(|b| {
                vec![
                    b.id.to_string(),
                    usher::domain::Timestamp(b.at).human(),
                    b.actor.clone(),
                    b.file_name.clone(),
                    b.file_sha256.get(..12).unwrap_or_default().to_owned(),
                    b.counts.clone(),
                    b.undone_at
                        .map(|t| usher::domain::Timestamp(t).human())
                        .unwrap_or_default(),
                ]
            })
            .collect();
        println!(
            "{}",
            output::table(
                &["batch", "time", "by", "file", "sha256", "counts", "undone"],
                rows
            )
        );
    }
    Ok(())
}

async fn undo(u: &Usher, batch: i64, yes: bool, out: &JsonFlag) -> Result<()> {
    if !yes {
        return Err(color_eyre::eyre::eyre!(
            "undoing import {batch} changes the account: run again with --yes"
        ));
    }
    let r = u.import_undo(batch).await?;
    if out.json {
        println!("{}", output::json(&r));
    } else {
        println!("undid import {batch}: {}", r.summary());
    }
    Ok(())
}

/// The blank templates, CSV or XLSX; they need no database.
pub(super) fn template(format: &str, output: &std::path::Path) -> Result<()> {
    if format == "xlsx" {
        usher::import::template::write_xlsx(output)?;
    } else {
        usher::import::template::write_csv(output)?;
    }
    println!("wrote the {format} template to {}", output.display());
    Ok(())
}

/// The roles workbook, with the account's roles, mailboxes and first usable domain.
async fn roles_template(u: &Usher, output: &std::path::Path) -> Result<()> {
    let roles: Vec<usher::import::template::RoleLine> =
        u.roles().await?.into_iter().map(Into::into).collect();
    let mailboxes: Vec<String> = u
        .mailboxes()
        .await?
        .into_iter()
        .map(|m| m.address)
        .collect();
    let domain = u
        .domains()
        .await?
        .into_iter()
        .find(|d| d.domain.verified && d.domain.active)
        .map_or_else(|| "example.org".to_owned(), |d| d.domain.name);
    usher::import::template::write_roles_xlsx(output, &roles, &mailboxes, &domain)?;
    println!(
        "wrote the roles workbook ({} roles, {} mailbox sheet(s)) to {}",
        roles.len(),
        mailboxes.len(),
        output.display()
    );
    Ok(())
}
