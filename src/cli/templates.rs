//! `usher templates ...` (the account's mail templates) and the invite switches.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use color_eyre::eyre::{Result, WrapErr};

use usher::Usher;
use usher::mail::TemplateName;

use super::output::{JsonFlag, json};

#[derive(Debug, Subcommand)]
pub enum TemplatesCmd {
    /// The templates, whether each is usher's own or the account's, and who saved it
    List(JsonFlag),
    /// A template's subject, body and HTML part, and the variables it may use
    Show {
        name: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// The template rendered with sample values, or why it cannot be saved
    Preview(EditArgs),
    /// Save a new version (the parts not given stay as they are); refused, with the
    /// reason, when it uses an unknown variable or (invitation, reminder, registration)
    /// lacks {{ link }}
    Set(EditArgs),
    /// Put usher's own text back in force
    Reset { name: String },
}

#[derive(Debug, Args)]
pub struct EditArgs {
    /// invitation, reminder, accepted, declined or registration
    pub name: String,
    /// The subject (minijinja: {{ org }}, {{ first_name }}, ...), at most 256 characters
    #[arg(long, conflicts_with = "subject_file")]
    pub subject: Option<String>,
    #[arg(long)]
    pub subject_file: Option<PathBuf>,
    /// The plain-text body, from a file
    #[arg(long)]
    pub body_file: Option<PathBuf>,
    /// An HTML alternative part, from a file
    #[arg(long, conflicts_with = "no_html")]
    pub html_file: Option<PathBuf>,
    /// Drop the HTML part
    #[arg(long)]
    pub no_html: bool,
}

fn read(path: &PathBuf) -> Result<String> {
    std::fs::read_to_string(path).wrap_err_with(|| format!("cannot read {}", path.display()))
}

/// The template's parts after the edit: what was given, else what is in force.
async fn edited(u: &Usher, a: &EditArgs) -> Result<(TemplateName, String, String, Option<String>)> {
    let name: TemplateName = a.name.parse().map_err(color_eyre::eyre::Report::msg)?;
    let current = u
        .templates()
        .await?
        .into_iter()
        .find(|t| t.name == name.key())
        .ok_or_else(|| color_eyre::eyre::eyre!("no template {name}"))?;
    let subject = match (&a.subject, &a.subject_file) {
        (Some(s), _) => s.clone(),
        (None, Some(f)) => read(f)?.trim_end().to_owned(),
        (None, None) => current.subject,
    };
    let body = match &a.body_file {
        Some(f) => read(f)?,
        None => current.body,
    };
    let html = match (&a.html_file, a.no_html) {
        (Some(f), _) => Some(read(f)?),
        (None, true) => None,
        (None, false) => current.html,
    };
    Ok((name, subject, body, html))
}

pub async fn run(u: &Usher, cmd: &TemplatesCmd) -> Result<()> {
    match cmd {
        TemplatesCmd::List(out) => {
            let list = u.templates().await?;
            if out.json {
                println!("{}", json(&list));
                return Ok(());
            }
            for t in list {
                let whose = match (&t.saved_by, t.customised) {
                    (Some(by), true) => format!("the account's (saved by {by})"),
                    _ => "usher's own".to_owned(),
                };
                let html = if t.html.is_some() { ", with HTML" } else { "" };
                println!("{:<13} {whose}{html}: {}", t.name, t.describe);
            }
        }
        TemplatesCmd::Show { name, out } => {
            let name: TemplateName = name.parse().map_err(color_eyre::eyre::Report::msg)?;
            let t = u
                .templates()
                .await?
                .into_iter()
                .find(|t| t.name == name.key())
                .ok_or_else(|| color_eyre::eyre::eyre!("no template {name}"))?;
            if out.json {
                println!("{}", json(&t));
                return Ok(());
            }
            println!("subject: {}", t.subject.trim_end());
            println!("variables: {}\n", t.variables.join(", "));
            println!("{}", t.body.trim_end());
            if let Some(h) = &t.html {
                println!("\n--- HTML part ---\n{}", h.trim_end());
            }
        }
        TemplatesCmd::Preview(a) => {
            let (name, subject, body, html) = edited(u, a).await?;
            let r = u.preview_template(name, &subject, &body, html.as_deref())?;
            println!("Subject: {}\n\n{}", r.subject, r.body.trim_end());
            if let Some(h) = r.html {
                println!("\n--- HTML part ---\n{}", h.trim_end());
            }
        }
        TemplatesCmd::Set(a) => {
            let (name, subject, body, html) = edited(u, a).await?;
            let v = u
                .save_template(name, &subject, &body, html.as_deref())
                .await?;
            println!("Saved the {name} template (version {v}); new mail uses it.");
        }
        TemplatesCmd::Reset { name } => {
            let name: TemplateName = name.parse().map_err(color_eyre::eyre::Report::msg)?;
            u.reset_template(name).await?;
            println!("The {name} template is usher's own again.");
        }
    }
    Ok(())
}
