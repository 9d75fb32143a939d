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
