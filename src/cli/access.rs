//! The CLI twins of the Roles tab: roles, the permission catalog, grants, mailboxes.

use clap::{Args, Subcommand};
use color_eyre::eyre::Result;

use usher::Usher;
use usher::domain::{Permission, Scope};
use usher::service::{RoleSpec, RoleView, Target, Who};

use usher::domain::sanitize::escape_for_display as shown;

use super::output::{JsonFlag, json, table};

#[derive(Debug, Subcommand)]
pub enum RolesCmd {
    /// The account's roles with their permissions and how many hold each
    List {
        #[command(flatten)]
        out: JsonFlag,
    },
    /// A role's permissions and its members
    Show {
        name: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Create a custom role
    Create {
        name: String,
        /// account (default) or mailbox
        #[arg(long, default_value = "account", value_parser = parse_scope)]
        scope: Scope,
        #[arg(long, default_value = "")]
        description: String,
        /// Permissions, separated by commas (`usher permissions list` names them)
        #[arg(long, value_delimiter = ',')]
        permissions: Vec<String>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Change a custom role: what is not given stays as it is
    Edit {
        name: String,
        #[arg(long)]
        rename: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// The role's whole new set of permissions, separated by commas
        #[arg(long, value_delimiter = ',')]
        permissions: Option<Vec<String>>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Delete a custom role; one that is held needs --yes, and is revoked from its holders
    Delete {
        name: String,
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PermissionsCmd {
    /// The permission catalog: name, scope, whether a guest may hold it, meaning
    List {
        #[command(flatten)]
        out: JsonFlag,
    },
}

#[derive(Debug, Args)]
pub struct GrantArgs {
    /// A user (id or address), or the address of a pending invitation
    pub user: String,
    /// A role's name or a permission (`usher permissions list`)
    pub what: String,
    /// For this mailbox (its address) rather than the account
    #[arg(long)]
    pub mailbox: Option<String>,
    /// USER names a pending invitation (by id or address), even if a user has the address
    #[arg(long)]
    pub invitation: bool,
}

#[derive(Debug, Subcommand)]
pub enum MailboxesCmd {
    /// The account's mailboxes
    List {
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Create a shared mailbox on one of the account's domains
    Create {
        address: String,
        #[arg(long, default_value = "")]
        name: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Create a user's personal mailbox at their address; they own it
    Personal {
        /// User id or address
        user: String,
        #[command(flatten)]
        out: JsonFlag,
    },
}

fn parse_scope(s: &str) -> Result<Scope, String> {
    s.parse()
}

fn keys(p: &[Permission]) -> String {
    p.iter().map(|p| p.key()).collect::<Vec<_>>().join(", ")
}

fn role_rows(list: &[RoleView]) -> String {
    table(
        &["name", "scope", "kind", "holders", "permissions"],
        list.iter()
            .map(|r| {
                vec![
                    r.role.name.clone(),
                    r.role.scope.clone(),
                    if r.role.system { "system" } else { "custom" }.into(),
                    r.holders.to_string(),
                    keys(&r.permissions),
                ]
            })
            .collect(),
    )
}

pub async fn roles(u: &Usher, cmd: &RolesCmd) -> Result<()> {
    match cmd {
        RolesCmd::List { out } => {
            let list = u.roles().await?;
            println!(
                "{}",
                if out.json {
                    json(&list)
                } else {
                    role_rows(&list)
                }
            );
        }
        RolesCmd::Show { name, out } => {
            let d = u.role(name).await?;
            if out.json {
                println!("{}", json(&d));
            } else {
                println!("{}", role_rows(std::slice::from_ref(&d.view)));
                println!();
                let members = d
                    .members
                    .iter()
                    .map(|m| {
                        vec![
                            m.email.clone(),
                            if m.invitation { "invitation" } else { "user" }.into(),
                            m.mailbox.clone().unwrap_or_else(|| "(account)".into()),
                        ]
                    })
                    .collect();
                println!("{}", table(&["member", "as", "scope"], members));
            }
        }
        RolesCmd::Create {
            name,
            scope,
            description,
            permissions,
            out,
        } => {
            let spec = RoleSpec {
                name: name.clone(),
                description: description.clone(),
                permissions: permissions.clone(),
            };
            let r = u.create_role(*scope, &spec).await?;
            print_role("Created", &r, out.json);
        }
        RolesCmd::Edit {
            name,
            rename,
            description,
            permissions,
            out,
        } => {
            let now = u.role(name).await?.view;
            let spec = RoleSpec {
                name: rename.clone().unwrap_or_else(|| now.role.name.clone()),
                description: description
                    .clone()
                    .unwrap_or_else(|| now.role.description.clone()),
                permissions: permissions.clone().unwrap_or_else(|| {
                    now.permissions.iter().map(|p| p.key().to_owned()).collect()
                }),
            };
            let r = u.edit_role(name, &spec).await?;
            print_role("Changed", &r, out.json);
        }
        RolesCmd::Delete { name, yes } => {
            let revoked = u.delete_role(name, *yes).await?;
            println!(
                "Deleted the role '{}'; revoked from {revoked} holder(s).",
                shown(name)
            );
        }
    }
    Ok(())
}

fn print_role(verb: &str, r: &RoleView, as_json: bool) {
    if as_json {
        println!("{}", json(r));
    } else {
        println!(
            "{verb} the {} role '{}': {}",
            r.role.scope,
            r.role.name,
            if r.permissions.is_empty() {
                "no permissions".into()
            } else {
                keys(&r.permissions)
            }
        );
    }
}

pub fn permissions(cmd: &PermissionsCmd) {
    let PermissionsCmd::List { out } = cmd;
    #[derive(serde::Serialize)]
    struct Row {
        permission: &'static str,
        scope: Scope,
        guest: bool,
        description: &'static str,
    }
    let rows: Vec<Row> = Permission::ALL
        .iter()
        .map(|p| Row {
            permission: p.key(),
            scope: p.scope(),
            guest: p.guest_may_hold(),
            description: p.describe(),
        })
        .collect();
    if out.json {
        println!("{}", json(&rows));
    } else {
        let rows = rows
            .iter()
            .map(|r| {
                vec![
                    r.permission.into(),
                    r.scope.to_string(),
                    if r.guest { "yes" } else { "no" }.into(),
                    r.description.into(),
                ]
            })
            .collect();
        println!(
            "{}",
            table(&["permission", "scope", "guest", "allows"], rows)
        );
    }
}

fn who(a: &GrantArgs) -> Who {
    let t: Target = a.user.parse().unwrap_or(Target::Email(a.user.clone()));
    if a.invitation {
        Who::Invitation(t)
    } else {
        Who::User(t)
    }
}

pub async fn grant(u: &Usher, a: &GrantArgs) -> Result<()> {
    let g = u.grant(&who(a), &a.what, a.mailbox.as_deref()).await?;
    let to = if g.invitation_id.is_some() {
        format!("the pending invitation for {}", shown(&a.user))
    } else {
        shown(&a.user)
    };
    let scope = g.mailbox.map(|m| format!(" on {m}")).unwrap_or_default();
    println!("Granted {} to {to}{}.", shown(&a.what), shown(&scope));
    Ok(())
}

pub async fn revoke(u: &Usher, a: &GrantArgs) -> Result<()> {
    u.revoke_grant(&who(a), &a.what, a.mailbox.as_deref())
        .await?;
    let scope = a
        .mailbox
        .as_ref()
        .map(|m| format!(" on {m}"))
        .unwrap_or_default();
    println!(
        "Revoked {} from {}{}.",
        shown(&a.what),
        shown(&a.user),
        shown(&scope)
    );
    Ok(())
}

pub async fn mailboxes(u: &Usher, cmd: &MailboxesCmd) -> Result<()> {
    let (made, as_json) = match cmd {
        MailboxesCmd::List { out } => {
            let list = u.mailboxes().await?;
            if out.json {
                println!("{}", json(&list));
            } else {
                let rows = list
                    .iter()
                    .map(|m| {
                        vec![
                            m.address.clone(),
                            m.name.clone(),
                            m.kind.clone(),
                            m.owner.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                println!("{}", table(&["address", "name", "kind", "owner"], rows));
            }
            return Ok(());
        }
        MailboxesCmd::Create { address, name, out } => {
            (u.create_shared_mailbox(address, name).await?, out.json)
        }
        MailboxesCmd::Personal { user, out } => {
            let t: Target = user.parse().unwrap_or(Target::Email(user.clone()));
            (u.create_personal_mailbox(&t).await?, out.json)
        }
    };
    if as_json {
        println!("{}", json(&made));
    } else {
        println!("Created the {} mailbox {}.", made.kind, made.address);
    }
    Ok(())
}
