//! `usher report users|invitations --format csv|xlsx -o FILE [--email ADDRESS]`.

use std::path::PathBuf;

use clap::Args;
use color_eyre::eyre::{Result, eyre};
use indicatif::{ProgressBar, ProgressStyle};

use usher::Usher;
use usher::mail::compose::Attachment;
use usher::report::{Format, open};
use usher::service::ReportKind;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// users or invitations
    #[arg(value_parser = ["users", "invitations"])]
    pub kind: String,
    /// csv or xlsx
    #[arg(long, default_value = "csv", value_parser = ["csv", "xlsx"])]
    pub format: String,
    /// Write the report here
    #[arg(short, long, required_unless_present = "email")]
    pub output: Option<PathBuf>,
    /// Mail the report as an attachment to this address instead (or as well, with -o)
    #[arg(long)]
    pub email: Option<String>,
}

pub async fn run(u: &Usher, a: &ReportArgs) -> Result<String> {
    let kind: ReportKind = a.kind.parse()?;
    let format: Format = a.format.parse()?;
    let file_name = format!("usher-{}.{}", kind.name(), format.extension());
    // Mailed only: written to a scratch file first, removed once queued.
    let scratch = std::env::temp_dir().join(format!("usher-{}-{file_name}", std::process::id()));
    let path = a.output.clone().unwrap_or_else(|| scratch.clone());
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {human_pos}/{human_len} rows, {eta} left")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(format!("{} report", kind.name()));
    let mut sink = open(&path, format, kind.name(), kind.columns())?;
    let mut progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let rows = match u.write_report(kind, sink.as_mut(), &mut progress).await {
        Ok(n) => n,
        Err(e) => {
            bar.finish_and_clear();
            return Err(e.into());
        }
    };
    sink.finish()?;
    bar.finish_and_clear();
    let mut said = Vec::new();
    if a.output.is_some() {
        said.push(format!("wrote {rows} row(s) to {}", path.display()));
    }
    if let Some(to) = &a.email {
        let bytes = std::fs::read(&path).map_err(|e| eyre!("{}: {e}", path.display()))?;
        u.mail_report(
            to,
            kind,
            Attachment {
                filename: file_name,
                mime: format.mime().to_owned(),
                bytes,
            },
            rows,
        )
        .await?;
        if a.output.is_none() {
            let _ = std::fs::remove_file(&scratch);
        }
        said.push(format!(
            "queued the {} report ({rows} row(s)) to {to}",
            kind.name()
        ));
    }
    Ok(said.join("\n"))
}
