//! `usher operators`: which host login or database role acts as which user
//! (docs/operators.md).

use clap::Subcommand;
use color_eyre::eyre::Result;
use usher::Usher;
use usher::domain::Timestamp;

use super::output::{JsonFlag, json, table};

#[derive(Debug, Subcommand)]
pub enum OperatorsCmd {
    /// The identities that act as users of the account
    List {
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Make a PostgreSQL login role for a user (or take an existing one), in the operators'
    /// group whose rights the database confines to the user's permissions
    Add {
        /// The account user the role acts as
        address: String,
        /// The login role: lower-case letters, digits and '_'
        #[arg(long)]
        db_role: String,
        /// A file holding the role's password (else it logs in by peer authentication or a
        /// client certificate, as pg_hba.conf says)
        #[arg(long)]
        password_file: Option<std::path::PathBuf>,
    },
    /// Let a host login act as a user (SQLite: the login runs usher with the file's group
    /// rights; USHER_OPERATOR may then name only this user)
    Link {
        /// os:LOGIN (a login on this host) or db:ROLE (an existing PostgreSQL login role)
        identity: String,
        /// The account user it acts as
        address: String,
    },
    /// Take an identity's link away (by identity, or every identity of an address)
    Remove {
        /// os:LOGIN, db:ROLE or an address
        who: String,
    },
}

pub async fn run(u: &Usher, cmd: &OperatorsCmd) -> Result<()> {
    match cmd {
        OperatorsCmd::List { out } => {
            let list = u.operators().await?;
            if out.json {
                println!("{}", json(&list));
            } else if list.is_empty() {
                println!(
                    "No identity is linked to a user: only the database's owner acts. \
                     `usher operators link os:LOGIN ADDRESS` (SQLite) or `usher operators add \
                     ADDRESS --db-role NAME` (PostgreSQL) adds one."
                );
            } else {
                println!(
                    "{}",
                    table(
                        &["identity", "acts as", "linked", "by"],
                        list.iter()
                            .map(|l| vec![
                                l.identity.clone(),
                                l.email.clone(),
                                Timestamp(l.created_at).human(),
                                l.created_by.clone(),
                            ])
                            .collect(),
                    )
                );
            }
        }
        OperatorsCmd::Add {
            address,
            db_role,
            password_file,
        } => {
            let password = match password_file {
                Some(f) => Some(usher::config::Secret::new(
                    std::fs::read_to_string(f)
                        .map_err(|e| color_eyre::eyre::eyre!("{}: {e}", f.display()))?
                        .trim_end_matches(['\r', '\n']),
                )),
                None => None,
            };
            let l = u
                .add_db_operator(address, db_role, password.as_ref())
                .await?;
            println!(
                "{} acts as {}: it connects with its own credentials{}",
                l.identity,
                l.email,
                if password.is_some() {
                    " (password set)"
                } else {
                    ""
                }
            );
        }
        OperatorsCmd::Link { identity, address } => {
            let l = u.link_operator(identity, address).await?;
            println!("{} acts as {}", l.identity, l.email);
        }
        OperatorsCmd::Remove { who } => {
            for id in u.remove_operator(who).await? {
                println!("{id}: no longer an operator");
            }
        }
    }
    Ok(())
}
