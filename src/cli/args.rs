//! The command line's shape. Every console action has a twin here.

use std::path::PathBuf;

pub use super::output::JsonFlag;

use clap::{Args, Parser, Subcommand};

use usher::domain::{InvitationStatus, UserType};

#[derive(Debug, Parser)]
#[command(
    name = "usher",
    version,
    propagate_version = true,
    about = "Invite, enrol and manage the users of a self-hosted secure mail platform",
    long_about = "Invite, enrol and manage the users of a self-hosted secure mail platform.\n\n\
        With no command, on a terminal, usher opens the console once an account exists; otherwise \
        it prints the status (or how to create the account).\n\
        With no configuration it keeps its data in a SQLite file and writes mail to a spool \
        directory, both in the data directory (USHER_DATA_DIR)."
)]
pub struct Cli {
    /// Config file (default: the platform's config directory, e.g. ~/.config/usher/config.toml)
    #[arg(long, global = true, env = "USHER_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB (password from
    /// USHER_DATABASE_PASSWORD); else USHER_DATABASE_URL, else the config file's
    // The environment is read by the config alone, in its one order of precedence.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Console: hide and refuse every action that changes data
    #[arg(long, global = true)]
    pub read_only: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the account, its domain and its first administrator (once per database)
    Init(InitArgs),
    /// Invite one or more addresses (separate them with spaces, commas or semicolons)
    Invite(InviteArgs),
    /// List, resend and revoke invitations
    #[command(subcommand)]
    Invitations(InvitationsCmd),
    /// List users
    #[command(subcommand)]
    Users(UsersCmd),
    /// Users, pending invitations, licences used and total, outbox queued and failed
    Status(JsonFlag),
    /// Inspect and deliver queued mail
    #[command(subcommand)]
    Outbox(OutboxCmd),
    /// Bulk import from CSV or XLSX: `usher import FILE` previews every change (a dry
    /// run); `usher import FILE --apply --yes` applies it
    Import(ImportArgs),
    /// Follow a directory (Active Directory, OpenLDAP): `usher sync NAME` previews a run,
    /// `usher sync NAME --apply --yes` applies it; `status`, `history`, `undo`
    Sync(SyncArgs),
    /// Read the audit log
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Who may act as whom: host logins and database roles linked to users
    #[command(subcommand)]
    Operators(super::operators::OperatorsCmd),
    /// Roles (system and custom) and their permissions
    #[command(subcommand)]
    Roles(super::access::RolesCmd),
    /// The permission catalog
    #[command(subcommand)]
    Permissions(super::access::PermissionsCmd),
    /// Grant a role or a permission to a user or a pending invitation
    Grant(super::access::GrantArgs),
    /// Revoke a role or a permission from a user or a pending invitation
    Revoke(super::access::GrantArgs),
    /// The account's domains: add, verify, activate, deactivate
    #[command(subcommand)]
    Domains(super::domains::DomainsCmd),
    /// Shared and personal mailboxes
    #[command(subcommand)]
    Mailboxes(super::access::MailboxesCmd),
    /// Database maintenance
    #[command(subcommand)]
    Db(DbCmd),
    /// The mail server's side: its configuration (Dovecot, Postfix, Stalwart), its
    /// read-only database role, and a check that it reads usher
    #[command(subcommand)]
    Mailserver(super::mailserver::MailserverCmd),
    /// Run the enrolment server behind the invitation link, with the mail sender and
    /// reminders, until stopped (SIGTERM or Ctrl-C)
    Serve(super::serve::ServeArgs),
    /// The account's mail templates: list, show, preview, set, reset
    #[command(subcommand)]
    Templates(super::templates::TemplatesCmd),
    /// The users or invitations report, as CSV or XLSX, to a file or mailed as an attachment
    Report(super::report::ReportArgs),
    /// Print the shell completion script for SHELL (bash, zsh, fish, elvish, powershell)
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Write the manual pages (usher.1 and one per command, usher-import.1, ...) into DIR
    Manpages {
        /// Where to write them (created if missing)
        dir: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The organisation's name
    #[arg(long)]
    pub org: String,
    /// The organisation's mail domain (example.org)
    #[arg(long)]
    pub domain: String,
    /// Professional licences (seats) bought
    #[arg(long)]
    pub licences: i64,
    /// The first administrator's address
    #[arg(long)]
    pub admin: String,
    /// How many days an invitation stays valid
    #[arg(long, default_value_t = 10)]
    pub validity_days: i64,
    #[command(flatten)]
    pub out: JsonFlag,
}

#[derive(Debug, Args)]
pub struct InviteArgs {
    /// Addresses to invite: several arguments, or one with commas or semicolons
    #[arg(required = true, value_name = "ADDRESSES")]
    pub addresses: Vec<String>,
    /// First name
    #[arg(long, default_value = "")]
    pub first: String,
    /// Last name
    #[arg(long, default_value = "")]
    pub last: String,
    /// Invite as a guest (free, unlimited) rather than a professional (uses a licence)
    #[arg(long)]
    pub guest: bool,
    /// Days until the link expires (default: the account's validity, 10 unless changed)
    #[arg(long, value_name = "DAYS")]
    pub expires_in: Option<i64>,
    /// This invitation's subject (template text: {{ org }}, {{ inviter_name }}, ...)
    #[arg(long)]
    pub subject: Option<String>,
    /// This invitation's message (template text; must contain {{ link }})
    #[arg(long, conflicts_with = "message_file")]
    pub message: Option<String>,
    /// This invitation's message, from a file
    #[arg(long, value_name = "FILE")]
    pub message_file: Option<std::path::PathBuf>,
    /// Send a copy to this address (repeat, or separate with commas)
    #[arg(long, value_name = "ADDRESS")]
    pub cc: Vec<String>,
    /// Send a blind copy to this address (repeat, or separate with commas)
    #[arg(long, value_name = "ADDRESS")]
    pub bcc: Vec<String>,
    /// Attach this file (repeat; mail.attachment_max_kib in all, 10 MiB by default)
    #[arg(long, value_name = "FILE")]
    pub attach: Vec<std::path::PathBuf>,
    /// Only queue the mail; do not try to deliver it now
    #[arg(long)]
    pub no_send: bool,
    #[command(flatten)]
    pub out: JsonFlag,
}

#[derive(Debug, Subcommand)]
pub enum InvitationsCmd {
    /// List invitations, newest first
    List {
        /// Only invitations in this state
        #[arg(long, value_parser = parse_status)]
        status: Option<InvitationStatus>,
        /// Only addresses or names containing this text
        #[arg(long, default_value = "")]
        search: String,
        /// At most this many rows (0: all)
        #[arg(long, default_value_t = 0)]
        limit: i64,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Send again with a new link and a new validity window (pending or expired invitations)
    Resend {
        /// Invitation id or address
        #[arg(
            required_unless_present = "all_expired",
            conflicts_with = "all_expired"
        )]
        target: Option<String>,
        /// Resend every expired invitation
        #[arg(long)]
        all_expired: bool,
        /// Only queue the mail; do not try to deliver it now
        #[arg(long)]
        no_send: bool,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Queue the reminders due now (what `usher serve` does every minute; needs
    /// serve.reminder_hours_before in the config)
    Remind {
        /// Only queue the mail; do not try to deliver it now
        #[arg(long)]
        no_send: bool,
    },
    /// Switch inviting back on, for the account or (with --operator) for one operator
    Enable {
        #[arg(long)]
        operator: Option<String>,
    },
    /// Switch inviting off for the account, or for one operator with the reason they see
    Disable {
        #[arg(long, requires = "reason")]
        operator: Option<String>,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Revoke: the link stops working and queued mail is withdrawn
    Revoke {
        /// Invitation id or address
        target: String,
        #[command(flatten)]
        out: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCmd {
    /// A user's details and the invitations sent to their address
    Show {
        /// User id or address
        user: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Make users professional (uses a licence) or guest (free), all or none
    SetType {
        /// User ids or addresses
        #[arg(required = true, num_args = 1..)]
        users: Vec<String>,
        #[arg(value_parser = parse_user_type)]
        user_type: UserType,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Suspend users (frees their licences; nothing is deleted), all or none
    Suspend {
        /// User ids or addresses
        #[arg(required = true)]
        users: Vec<String>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Reactivate suspended users (a professional takes a licence again), all or none
    Reactivate {
        /// User ids or addresses
        #[arg(required = true)]
        users: Vec<String>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Remove users from the account, all or none (asks for --yes)
    /// Mail users a link to choose a new password (administrators never set one)
    ResetPassword {
        /// User ids or addresses
        #[arg(required = true)]
        users: Vec<String>,
    },
    Remove {
        /// User ids or addresses
        #[arg(required = true)]
        users: Vec<String>,
        /// Confirm the removal
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Create a corporate user directly, active, without an invitation (the address must
    /// be on a verified, active domain)
    Create {
        email: String,
        #[arg(long, default_value = "")]
        first: String,
        #[arg(long, default_value = "")]
        last: String,
        /// A guest (free) rather than a professional (takes a licence)
        #[arg(long)]
        guest: bool,
        /// Also create their personal mailbox, which they own
        #[arg(long)]
        personal_mailbox: bool,
        #[arg(long, default_value = "")]
        timezone: String,
        #[arg(long, default_value = "")]
        phone: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// List users in address order
    List {
        /// Only users whose address or name contains this text
        #[arg(long, default_value = "")]
        search: String,
        /// At most this many rows
        #[arg(long, default_value_t = 1000)]
        limit: i64,
        #[command(flatten)]
        out: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCmd {
    /// Queued, sent and failed messages, newest first
    List {
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Deliver everything that is due, then exit
    Flush {
        /// Also messages waiting for a retry (after fixing the relay)
        #[arg(long)]
        now: bool,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Put failed mail back in the queue and try it now
    Retry {
        /// The message id (see `usher outbox list`)
        #[arg(required_unless_present = "failed", conflicts_with = "failed")]
        id: Option<i64>,
        /// Every failed message
        #[arg(long)]
        failed: bool,
        #[command(flatten)]
        out: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCmd {
    /// Read and check a user list: the columns found and every faulty row, changing nothing
    Check(ImportFileArgs),
    /// Preview an import: what would happen to every row and to the users the file does
    /// not mention, changing nothing
    Preview(ImportFileArgs),
    /// Apply an import, whole or not at all (asks for --yes; preview first)
    Apply(ApplyArgs),
    /// The imports applied, newest first
    History(JsonFlag),
    /// Revert an import: revoke its pending invitations, restore what it changed
    Undo {
        batch: i64,
        /// Confirm
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Write the import template: the columns and an example row
    Template {
        #[arg(long, value_parser = ["csv", "xlsx"], default_value = "csv")]
        format: String,
        /// Where to write it
        #[arg(short, long)]
        output: PathBuf,
        /// The roles workbook (xlsx): Roles and Permissions from the account, then
        /// Users, Account and one sheet per mailbox, for creating corporate users
        #[arg(long)]
        with_roles: bool,
    },
}

/// `usher import FILE ...`, or one of the subcommands.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub cmd: Option<ImportCmd>,
    /// CSV (any delimiter; UTF-8, UTF-16 or Windows-1252) or XLSX/XLS/ODS
    pub file: Option<PathBuf>,
    /// Preview only, changing nothing (what happens without --apply)
    #[arg(long, conflicts_with = "apply")]
    pub dry_run: bool,
    /// Apply the import, whole or not at all (with --yes)
    #[arg(long)]
    pub apply: bool,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub decide: Decisions,
}

#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub file: ImportFileArgs,
    #[command(flatten)]
    pub decide: Decisions,
}

/// What to do beyond the plan's defaults, and the confirmation.
#[derive(Debug, Clone, Args)]
pub struct Decisions {
    /// Users in the account but not in the file: keep (default), suspend or remove
    #[arg(long, value_parser = ["keep", "suspend", "remove"], default_value = "keep")]
    pub missing: String,
    /// Import new professionals beyond the free licences as guests
    #[arg(long)]
    pub as_guests: bool,
    /// Invite the addresses outside the account's domains too (as guests)
    #[arg(long)]
    pub include_outside: bool,
    /// The digest the preview printed: if the plan differs now, nothing is applied
    #[arg(long, value_name = "DIGEST")]
    pub expect: Option<String>,
    /// Leave buckets out: new, updated, missing, outside (comma-separated)
    #[arg(long, value_name = "BUCKETS")]
    pub skip: Option<String>,
    /// Only queue the invitations; do not try to deliver them now (`usher outbox flush`
    /// or `usher serve` sends them; a million take a while)
    #[arg(long)]
    pub no_send: bool,
    /// Leave rows out: the file's row numbers, like 3,7-9, and the addresses of users
    /// missing from the file who should be left as they are
    #[arg(long, value_name = "ROWS,ADDRESSES")]
    pub exclude: Option<String>,
    /// Apply the good rows and leave the faulty ones out (without it one faulty row
    /// stops the whole file); the faulty rows are written to a CSV to fix and import
    #[arg(long)]
    pub skip_errors: bool,
    /// Where --skip-errors writes the faulty rows (default: FILE.faulty.csv beside the file)
    #[arg(long, value_name = "PATH", requires = "skip_errors")]
    pub faulty_rows: Option<std::path::PathBuf>,
    /// Confirm
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ImportFileArgs {
    /// CSV (any delimiter; UTF-8, UTF-16 or Windows-1252) or XLSX/XLS/ODS
    pub file: PathBuf,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// How to read the file.
#[derive(Debug, Clone, Args)]
pub struct ReadArgs {
    /// The text's encoding (utf-8, utf-16le, utf-16be, windows-1252, ...); else detected
    #[arg(long)]
    pub encoding: Option<String>,
    /// Which sheet of a workbook (default: the first)
    #[arg(long)]
    pub sheet: Option<String>,
    /// The row that names the columns (default: the first of the top 20 rows that names
    /// an address column; a title block or PowerShell's #TYPE line above it is left out)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub header_row: Option<u64>,
    /// A column to leave unread though its name is recognised (a vendor's userType, say);
    /// may be given several times. `--map user_type=` leaves a field unread instead
    #[arg(long, value_name = "COLUMN")]
    pub ignore: Vec<String>,
    /// Columns by hand: FIELD=COLUMN,... (fields: email, first_name, last_name,
    /// display_name, unique_ref, user_type, password, force_change_password)
    #[arg(long, value_name = "FIELD=COLUMN,...")]
    pub map: Option<String>,
    #[command(flatten)]
    pub out: JsonFlag,
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Audit entries, newest first
    List {
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Check the hash chain and its anchor outside the database: a changed, removed or
    /// unhashed row, the newest rows deleted or the chain recomputed is named, and the exit
    /// status is 1
    Verify(JsonFlag),
    /// Sign the chain's newest row into the anchor file (audit.anchor_file), after checking
    /// the rows since the last anchor; needs the audit key (audit.key_file)
    Anchor,
}

#[derive(Debug, Subcommand)]
pub enum DbCmd {
    /// Bring the schema up to date (also done automatically at start)
    Migrate,
    /// Add COUNT made-up guest users (user0000001@DOMAIN, ...) to try the console at scale
    FakeUsers {
        count: u64,
        #[arg(long, default_value = "example.test")]
        domain: String,
    },
}

fn parse_user_type(s: &str) -> Result<UserType, String> {
    s.parse()
        .map_err(|e: usher::domain::types::UnknownValue| e.to_string())
}

fn parse_status(s: &str) -> Result<InvitationStatus, String> {
    s.parse()
        .map_err(|e: usher::domain::types::UnknownValue| e.to_string())
}

#[derive(Debug, Subcommand)]
pub enum SyncCmd {
    /// Each source: its last run, what it did, and a run waiting for approval
    Status(JsonFlag),
    /// The runs, newest first
    History {
        /// One source only
        source: Option<String>,
        #[arg(long, default_value_t = 30)]
        limit: i64,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Undo an applied run: what it changed put back, as `usher import undo` does
    Undo {
        run: i64,
        /// Confirm
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        out: JsonFlag,
    },
}

/// `usher sync NAME [--dry-run | --apply --yes [--approve RUN]]`, or a subcommand.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SyncArgs {
    #[command(subcommand)]
    pub cmd: Option<SyncCmd>,
    /// The source, by the name its [[sync.source]] table gives it
    pub source: Option<String>,
    /// Preview only, changing nothing (what happens without --apply). Exit status 0: in
    /// step; 2: changes pending; 3: an apply would be held by a limit
    #[arg(long, conflicts_with = "apply")]
    pub dry_run: bool,
    /// Apply the run, whole or not at all (with --yes). Exit status 3: held by a limit
    #[arg(long)]
    pub apply: bool,
    /// Apply a run that a limit held, if the directory and the account are as they were
    #[arg(long, value_name = "RUN", requires = "apply")]
    pub approve: Option<i64>,
    /// Read only the entries changed since the last run that applied (AD's uSNChanged,
    /// OpenLDAP's modifyTimestamp); no one counts as gone. A full read when there is no
    /// such run
    #[arg(long)]
    pub changes: bool,
    /// Only queue the invitations; do not try to deliver them now
    #[arg(long)]
    pub no_send: bool,
    /// Confirm
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub out: JsonFlag,
}
