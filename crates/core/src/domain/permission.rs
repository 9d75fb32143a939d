//! The permission catalog and the system roles: fixed in code, so that every database and
//! every release agrees on what a permission means. Custom roles are sets of these.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::UserType;

/// Where a permission applies: the whole account, or one mailbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Account,
    Mailbox,
}

impl Scope {
    /// The scope of a grant: a mailbox's when it names one, else the account's.
    pub fn of_grant(mailbox: Option<i64>) -> Self {
        if mailbox.is_some() {
            Scope::Mailbox
        } else {
            Scope::Account
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Account => "account",
            Scope::Mailbox => "mailbox",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "account" => Ok(Scope::Account),
            "mailbox" => Ok(Scope::Mailbox),
            other => Err(format!("'{other}' is not a scope (account or mailbox)")),
        }
    }
}

macro_rules! catalog {
    ($($variant:ident => $key:literal, $scope:ident, $guest:literal, $what:literal;)*) => {
        /// One permission of the catalog.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Permission { $($variant),* }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$variant),*];

            /// The stable name, as stored and typed (`users.invite`).
            pub fn key(self) -> &'static str {
                match self { $(Permission::$variant => $key),* }
            }
            pub fn scope(self) -> Scope {
                match self { $(Permission::$variant => Scope::$scope),* }
            }
            /// Whether a guest may hold it (docs/rules.md#users: guests cannot invite,
            /// recall or request signatures, and administer nothing).
            pub fn guest_may_hold(self) -> bool {
                match self { $(Permission::$variant => $guest),* }
            }
            pub fn describe(self) -> &'static str {
                match self { $(Permission::$variant => $what),* }
            }
        }
    };
}

catalog! {
    InviteUsers => "users.invite", Account, false, "invite users; resend and revoke invitations";
    ManageUsers => "users.manage", Account, false, "edit, suspend, reactivate and remove users; change their type";
    CreateUsers => "users.create", Account, false, "create corporate users directly, without an invitation";
    ImportUsers => "users.import", Account, false, "bulk import users from CSV and XLSX, and undo an import";
    ManageRoles => "roles.manage", Account, false, "create, edit and delete custom roles; grant and revoke roles and permissions";
    ManageDomains => "domains.manage", Account, false, "add, verify, activate and deactivate domains";
    ManageMailboxes => "mailboxes.manage", Account, false, "create and delete shared and personal mailboxes";
    ViewReports => "reports.view", Account, false, "read the users and invitations reports and the audit log";
    ManageSettings => "settings.manage", Account, false, "edit the mail templates and the invitation options";
    SendMessages => "messages.send", Account, true, "send secure messages";
    RecallMessages => "messages.recall", Account, false, "recall messages and files";
    ShareFiles => "files.share", Account, true, "share large files";
    RequestSignatures => "signatures.request", Account, false, "request signatures";
    MailboxRead => "mailbox.read", Mailbox, true, "read the mailbox";
    MailboxSend => "mailbox.send", Mailbox, true, "send and reply from the mailbox";
    MailboxSendAs => "mailbox.send_as", Mailbox, false, "send as the mailbox's address";
    MailboxManage => "mailbox.manage", Mailbox, false, "manage the mailbox's members and their permissions";
}

impl Permission {
    /// Whether a user of this type may hold it.
    pub fn allowed_for(self, user_type: UserType) -> bool {
        user_type == UserType::Professional || self.guest_may_hold()
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl Serialize for Permission {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.key())
    }
}

impl FromStr for Permission {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let want = s.trim().to_ascii_lowercase();
        Permission::ALL
            .iter()
            .copied()
            .find(|p| p.key() == want)
            .ok_or_else(|| {
                format!(
                    "'{}' is not a permission (`usher permissions list` names them)",
                    s.trim()
                )
            })
    }
}

/// A role every account has from the start; not editable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SystemRole {
    pub name: &'static str,
    pub scope: Scope,
    pub description: &'static str,
    pub permissions: &'static [Permission],
}

use Permission::*;

pub const SYSTEM_ROLES: &[SystemRole] = &[
    SystemRole {
        name: "Administrator",
        scope: Scope::Account,
        description: "every account permission",
        permissions: &[
            InviteUsers,
            ManageUsers,
            CreateUsers,
            ImportUsers,
            ManageRoles,
            ManageDomains,
            ManageMailboxes,
            ViewReports,
            ManageSettings,
            SendMessages,
            RecallMessages,
            ShareFiles,
            RequestSignatures,
        ],
    },
    SystemRole {
        name: "User manager",
        scope: Scope::Account,
        description: "invites, creates, imports and manages users; reads the reports",
        permissions: &[
            InviteUsers,
            ManageUsers,
            CreateUsers,
            ImportUsers,
            ViewReports,
        ],
    },
    SystemRole {
        name: "Professional",
        scope: Scope::Account,
        description: "a licensed user's features: messages, recall, files, signatures, invitations",
        permissions: &[
            InviteUsers,
            SendMessages,
            RecallMessages,
            ShareFiles,
            RequestSignatures,
        ],
    },
    SystemRole {
        name: "Guest",
        scope: Scope::Account,
        description: "a guest's features: messages and files",
        permissions: &[SendMessages, ShareFiles],
    },
    SystemRole {
        name: "Owner",
        scope: Scope::Mailbox,
        description: "every mailbox permission",
        permissions: &[MailboxRead, MailboxSend, MailboxSendAs, MailboxManage],
    },
    SystemRole {
        name: "Editor",
        scope: Scope::Mailbox,
        description: "reads and sends",
        permissions: &[MailboxRead, MailboxSend],
    },
    SystemRole {
        name: "Reader",
        scope: Scope::Mailbox,
        description: "reads",
        permissions: &[MailboxRead],
    },
];

pub fn system_role(name: &str) -> Option<&'static SystemRole> {
    SYSTEM_ROLES
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case(name.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_parse_back() {
        let mut keys: Vec<_> = Permission::ALL.iter().map(|p| p.key()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), Permission::ALL.len());
        for p in Permission::ALL {
            assert_eq!(p.key().parse::<Permission>(), Ok(*p));
            assert_eq!(p.key().to_uppercase().parse::<Permission>(), Ok(*p));
        }
        assert!("users.nuke".parse::<Permission>().is_err());
    }

    #[test]
    fn system_roles_hold_permissions_of_their_own_scope() {
        for r in SYSTEM_ROLES {
            assert!(
                r.permissions.iter().all(|p| p.scope() == r.scope),
                "{}",
                r.name
            );
        }
        let guest = system_role("guest")
            .map(|r| r.permissions)
            .unwrap_or_default();
        assert!(guest.iter().all(|p| p.guest_may_hold()));
    }

    #[test]
    fn guests_cannot_invite_recall_or_request_signatures() {
        for p in [InviteUsers, RecallMessages, RequestSignatures] {
            assert!(!p.allowed_for(UserType::Guest));
            assert!(p.allowed_for(UserType::Professional));
        }
        assert!(SendMessages.allowed_for(UserType::Guest));
    }
}
