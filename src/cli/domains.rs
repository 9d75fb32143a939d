//! `usher domains ...`: the CLI twin of the console's domains view.

use clap::Subcommand;
use color_eyre::eyre::Result;

use usher::Usher;
use usher::service::{DomainView, Verify};

use super::output::{JsonFlag, json, table};

#[derive(Debug, Subcommand)]
pub enum DomainsCmd {
    /// The account's domains, how each was verified, and the TXT record still to publish
    List {
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Add a domain (unverified, inactive); prints the TXT record that proves it
    Add {
        name: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Verify a domain by its TXT record, or by hand with --manual --reason
    Verify {
        name: String,
        /// No DNS lookup: the operator vouches for the domain (air-gapped sites)
        #[arg(long, requires = "reason")]
        manual: bool,
        /// Why the domain is the organisation's (kept in the audit log)
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Allow corporate users on a verified domain
    Activate {
        name: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Refuse new corporate users on a domain; everyone keeps their roles
    Deactivate {
        name: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Let people on the account's verified, active domains register themselves at
    /// <public_url>/register (on), or stop it (off)
    SelfRegistration {
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
}

fn rows(list: &[DomainView]) -> String {
    table(
        &["domain", "verified", "active", "users", "to publish"],
        list.iter()
            .map(|d| {
                let how = match (&d.domain.verified_how, &d.domain.verified_reason) {
                    (Some(h), Some(r)) if h == "manual" => format!("by hand: {r}"),
                    (Some(h), _) => h.clone(),
                    _ => "no".into(),
                };
                let publish = match (&d.txt_name, &d.txt_value) {
                    (Some(n), Some(v)) => format!("TXT {n} \"{v}\""),
                    _ => String::new(),
                };
                vec![
                    d.domain.name.clone(),
                    how,
                    if d.domain.active { "yes" } else { "no" }.into(),
                    d.users.to_string(),
                    publish,
                ]
            })
            .collect(),
    )
}

pub async fn run(u: &Usher, cmd: &DomainsCmd) -> Result<()> {
    let (d, as_json, said) = match cmd {
        DomainsCmd::List { out } => {
            let list = u.domains().await?;
            println!("{}", if out.json { json(&list) } else { rows(&list) });
            return Ok(());
        }
        DomainsCmd::SelfRegistration { state } => {
            let on = state == "on";
            u.set_self_registration(on).await?;
            let a = u.account().await?;
            if on {
                let names: Vec<String> = u
                    .domains()
                    .await?
                    .into_iter()
                    .filter(|d| d.domain.verified && d.domain.active)
                    .map(|d| d.domain.name)
                    .collect();
                println!(
                    "Self-registration is on for {}: people on {} can register at {}/register (`usher serve` must be running).",
                    a.name,
                    if names.is_empty() {
                        "its verified, active domains (none yet)".to_owned()
                    } else {
                        names.join(", ")
                    },
                    u.public_url()
                );
            } else {
                println!("Self-registration is off for {}.", a.name);
            }
            return Ok(());
        }
        DomainsCmd::Add { name, out } => (u.add_domain(name).await?, out.json, "Added"),
        DomainsCmd::Verify {
            name,
            manual,
            reason,
            out,
        } => {
            let how = if *manual {
                Verify::Manual(reason.clone().unwrap_or_default())
            } else {
                Verify::Dns
            };
            (u.verify_domain(name, &how).await?, out.json, "Verified")
        }
        DomainsCmd::Activate { name, out } => (
            u.set_domain_active(name, true).await?,
            out.json,
            "Activated",
        ),
        DomainsCmd::Deactivate { name, out } => (
            u.set_domain_active(name, false).await?,
            out.json,
            "Deactivated",
        ),
    };
    if as_json {
        println!("{}", json(&d));
        return Ok(());
    }
    println!("{said} {}.", d.domain.name);
    if let (Some(n), Some(v)) = (&d.txt_name, &d.txt_value) {
        println!(
            "To verify it, publish this DNS record, then run `usher domains verify {}`:",
            d.domain.name
        );
        println!("  {n}. IN TXT \"{v}\"");
        println!(
            "Without public DNS: `usher domains verify {} --manual --reason \"...\"`.",
            d.domain.name
        );
    }
    if d.domain.active && said == "Activated" {
        println!("{} user(s) of the account are on it.", d.users);
    }
    Ok(())
}
