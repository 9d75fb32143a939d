//! The buckets a plan sorts rows into (docs/rules.md#import), and how each is named for
//! a file, a roles workbook and a directory sync.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// Not in the account: an invitation will be sent (or, with a password, the user
    /// created active).
    New,
    /// Already invited, invitation still pending.
    Pending,
    /// An existing user whose name, address or type changes.
    Updated,
    /// An existing user, as the file has them.
    Unchanged,
    /// In the account but not in the file (kept unless the operator decides otherwise).
    Missing,
    /// An address outside the account's domains: not imported unless asked for.
    OutsideDomains,
    /// Disabled where the file comes from: not invited, an existing user left as is
    /// (and not missing). `--ignore` on the column reads them as any other row.
    Disabled,
    /// A row that cannot be imported.
    Error,
}

impl Bucket {
    pub const ALL: [Bucket; 8] = [
        Bucket::New,
        Bucket::Pending,
        Bucket::Updated,
        Bucket::Unchanged,
        Bucket::Missing,
        Bucket::OutsideDomains,
        Bucket::Disabled,
        Bucket::Error,
    ];

    /// Parses a bucket's name as the command line writes it.
    pub fn parse(s: &str) -> Result<Self, String> {
        Ok(
            match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
                "new" => Bucket::New,
                "pending" => Bucket::Pending,
                "updated" => Bucket::Updated,
                "unchanged" => Bucket::Unchanged,
                "missing" => Bucket::Missing,
                "outside" | "outside_domains" => Bucket::OutsideDomains,
                other => {
                    return Err(format!(
                        "'{other}' is not a bucket: new, updated, missing, outside"
                    ));
                }
            },
        )
    }

    /// `short_label` for a roles workbook's plan, where new users are created directly.
    pub fn short_label_for(self, workbook: bool) -> &'static str {
        match self {
            Bucket::New if workbook => "new: will be created",
            Bucket::Error if workbook => "left out (faults)",
            b => b.short_label(),
        }
    }

    /// The label in a directory sync's plan, where the source is a directory, people
    /// disabled there are suspended, and leavers go by the source's decision.
    pub fn label_for_sync(self, direct: bool) -> &'static str {
        match self {
            Bucket::New if direct => {
                "new users (created directly, mailed a link to set a password)"
            }
            Bucket::Missing => "in the account, not in the directory",
            Bucket::Disabled => "disabled at the source (users suspended, no one invited)",
            Bucket::Error => "entries with faults (left out)",
            b => b.label(),
        }
    }

    /// A few words, for narrow places (the console's bucket list).
    pub fn short_label(self) -> &'static str {
        match self {
            Bucket::New => "new: will be invited",
            Bucket::Pending => "already invited",
            Bucket::Updated => "updated",
            Bucket::Unchanged => "unchanged",
            Bucket::Missing => "missing from the file",
            Bucket::OutsideDomains => "outside the domains",
            Bucket::Disabled => "disabled at the source",
            Bucket::Error => "errors",
        }
    }

    /// The label for a roles workbook's plan, where new users are created directly.
    pub fn label_for(self, workbook: bool) -> &'static str {
        match self {
            Bucket::New if workbook => "new users (created directly, active)",
            b => b.label(),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Bucket::New => "new users (an invitation will be sent)",
            Bucket::Pending => "already invited, pending",
            Bucket::Updated => "existing users and invitations updated",
            Bucket::Unchanged => "unchanged",
            Bucket::Missing => "in the account, missing from the file",
            Bucket::OutsideDomains => "outside the account's domains",
            Bucket::Disabled => "disabled at the source (left alone, not invited)",
            Bucket::Error => "errors",
        }
    }
}
