//! Keys are data: one keymap (defaults in `assets/keymap.toml`, overrides from the config
//! file), each binding with a description. The footer and the `?` help are generated
//! from it, so hints never drift from what the keys do.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

const DEFAULTS: &str = include_str!("../../../assets/keymap.toml");

/// Where a key is pressed. Lookups go from the most specific context to `Global`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ctx {
    Global,
    Table,
    Invitations,
    Users,
    Import,
    Roles,
    Domains,
    Sync,
    /// The Users tab with a user's detail open.
    UserDetail,
    Form,
    InviteForm,
    UserForm,
    /// The mail template editor.
    Editor,
    Confirm,
    /// A question whose answer is typed (the count of users to remove).
    Typed,
    Help,
    /// A popup with one item's every field (an invitation, an import row).
    Detail,
    Input,
    /// Typing a search (as you type): its own words for Enter and Esc.
    Search,
}

impl Ctx {
    pub const ALL: [Ctx; 19] = [
        Ctx::Global,
        Ctx::Table,
        Ctx::Invitations,
        Ctx::Users,
        Ctx::UserDetail,
        Ctx::Import,
        Ctx::Roles,
        Ctx::Domains,
        Ctx::Sync,
        Ctx::Form,
        Ctx::InviteForm,
        Ctx::UserForm,
        Ctx::Editor,
        Ctx::Confirm,
        Ctx::Typed,
        Ctx::Help,
        Ctx::Detail,
        Ctx::Input,
        Ctx::Search,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Ctx::Global => "global",
            Ctx::Table => "table",
            Ctx::Invitations => "invitations",
            Ctx::Users => "users",
            Ctx::Import => "import",
            Ctx::Roles => "roles",
            Ctx::Domains => "domains",
            Ctx::Sync => "sync",
            Ctx::UserDetail => "user_detail",
            Ctx::Form => "form",
            Ctx::InviteForm => "invite_form",
            Ctx::UserForm => "user_form",
            Ctx::Editor => "editor",
            Ctx::Confirm => "confirm",
            Ctx::Typed => "typed",
            Ctx::Help => "help",
            Ctx::Detail => "detail",
            Ctx::Input => "input",
            Ctx::Search => "search",
        }
    }

    fn parse(s: &str) -> Option<Ctx> {
        Ctx::ALL.into_iter().find(|c| c.name() == s)
    }
}

macro_rules! commands {
    ($($variant:ident => $name:literal, $mutates:literal;)+) => {
        /// What a key does.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Cmd { $($variant),+ }

        impl Cmd {
            pub const ALL: &'static [Cmd] = &[$(Cmd::$variant),+];

            pub fn name(self) -> &'static str {
                match self { $(Cmd::$variant => $name),+ }
            }

            /// Changes data: not offered with --read-only.
            pub fn mutates(self) -> bool {
                match self { $(Cmd::$variant => $mutates),+ }
            }

            fn parse(s: &str) -> Option<Cmd> {
                match s { $($name => Some(Cmd::$variant),)+ _ => None }
            }
        }
    };
}

commands! {
    Quit => "quit", false;
    Help => "help", false;
    Command => "command", false;
    NextTab => "next_tab", false;
    PrevTab => "prev_tab", false;
    TabInvitations => "tab_invitations", false;
    TabUsers => "tab_users", false;
    TabImport => "tab_import", false;
    TabRoles => "tab_roles", false;
    TabDomains => "tab_domains", false;
    TabSync => "tab_sync", false;
    SyncPreview => "sync_preview", false;
    SyncApply => "sync_apply", true;
    SyncApprove => "sync_approve", true;
    NewRole => "new_role", true;
    EditRole => "edit_role", true;
    DeleteRole => "delete_role", true;
    Matrix => "matrix", false;
    Grant => "grant", true;
    RevokeGrant => "revoke_grant", true;
    PersonalMailbox => "personal_mailbox", true;
    AddDomain => "add_domain", true;
    VerifyDomain => "verify_domain", true;
    VerifyManually => "verify_manually", true;
    ActivateDomain => "activate_domain", true;
    DeactivateDomain => "deactivate_domain", true;
    NewMailbox => "new_mailbox", true;
    Toggle => "toggle", false;
    CreateUser => "create_user", true;
    Report => "report", false;
    Templates => "templates", false;
    OpenFile => "open_file", false;
    MapColumns => "map_columns", false;
    MissingDecision => "missing_decision", false;
    OverflowAsGuests => "overflow_as_guests", false;
    IncludeOutside => "include_outside", false;
    SkipErrors => "skip_errors", false;
    Apply => "apply", true;
    Undo => "undo", true;
    Refresh => "refresh", false;
    Down => "down", false;
    Up => "up", false;
    Top => "top", false;
    Bottom => "bottom", false;
    PageDown => "page_down", false;
    PageUp => "page_up", false;
    Mark => "mark", false;
    ScrollLeft => "scroll_left", false;
    ScrollRight => "scroll_right", false;
    DetailDown => "detail_down", false;
    DetailUp => "detail_up", false;
    NextTemplate => "next_template", false;
    PrevTemplate => "prev_template", false;
    BuiltinText => "builtin_text", false;
    MarkAll => "mark_all", false;
    Redraw => "redraw", false;
    Search => "search", false;
    Back => "back", false;
    Detail => "detail", false;
    Invite => "invite", true;
    Resend => "resend", true;
    ResendExpired => "resend_expired", true;
    Revoke => "revoke", true;
    FilterStatus => "filter_status", false;
    Sort => "sort", false;
    SortReverse => "sort_reverse", false;
    CopyAddress => "copy_address", false;
    ToggleType => "toggle_type", true;
    Suspend => "suspend", true;
    Reactivate => "reactivate", true;
    Remove => "remove", true;
    ResetPassword => "reset_password", true;
    NextField => "next_field", false;
    PrevField => "prev_field", false;
    Submit => "submit", false;
    ToggleAnother => "toggle_another", false;
    Complete => "complete", false;
    Yes => "yes", false;
    Cancel => "cancel", false;
}

/// A key as written in the keymap ("ctrl-c", "G", "pgdn").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl Key {
    pub fn from_event(e: &KeyEvent) -> Self {
        // Shift is not compared: it is part of the character ('G'), and a BackTab
        // arrives with shift too.
        Self {
            code: e.code,
            ctrl: e.modifiers.contains(KeyModifiers::CONTROL),
            alt: e.modifiers.contains(KeyModifiers::ALT),
        }
    }
}

impl FromStr for Key {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (mut ctrl, mut alt, mut rest) = (false, false, s);
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pgup" => KeyCode::PageUp,
            "pgdn" => KeyCode::PageDown,
            "backspace" => KeyCode::Backspace,
            "delete" => KeyCode::Delete,
            f if f.starts_with('f') && f.len() > 1 => {
                KeyCode::F(f[1..].parse().map_err(|_| format!("unknown key '{s}'"))?)
            }
            c if c.chars().count() == 1 => KeyCode::Char(c.chars().next().unwrap_or(' ')),
            _ => return Err(format!("unknown key '{s}'")),
        };
        Ok(Self { code, ctrl, alt })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("^")?;
        }
        if self.alt {
            f.write_str("M-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("S-tab"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::Backspace => f.write_str("bksp"),
            KeyCode::Delete => f.write_str("del"),
            KeyCode::F(n) => write!(f, "F{n}"),
            _ => f.write_str("?"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Binding {
    pub ctx: Ctx,
    pub key: Key,
    pub cmd: Cmd,
    pub desc: String,
    pub footer: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBinding {
    on: String,
    run: String,
    desc: String,
    #[serde(default)]
    footer: bool,
}

#[derive(Clone, Debug)]
pub struct Keymap {
    bindings: Vec<Binding>,
    read_only: bool,
    /// Commands the operator may not run, with why: hidden from the footer, marked in
    /// the help, and explained when pressed.
    denied: BTreeMap<Cmd, String>,
}

/// User overrides: context name -> key -> command name (or "none").
pub type Overrides = BTreeMap<String, BTreeMap<String, String>>;

impl Keymap {
    /// The defaults with the user's overrides applied. Every unknown context, key or
    /// command is an error that names it.
    pub fn load(overrides: &Overrides, read_only: bool) -> Result<Self, String> {
        let raw: BTreeMap<String, Vec<RawBinding>> =
            toml::from_str(DEFAULTS).map_err(|e| format!("built-in keymap: {e}"))?;
        let mut bindings = Vec::new();
        for (ctx_name, list) in raw {
            let ctx =
                Ctx::parse(&ctx_name).ok_or(format!("built-in keymap: context {ctx_name}"))?;
            for b in list {
                bindings.push(Binding {
                    ctx,
                    key: b.on.parse()?,
                    cmd: Cmd::parse(&b.run).ok_or(format!("built-in keymap: command {}", b.run))?,
                    desc: b.desc,
                    footer: b.footer,
                });
            }
        }
        for (ctx_name, keys) in overrides {
            let ctx = Ctx::parse(ctx_name).ok_or_else(|| {
                format!(
                    "keys.{ctx_name}: unknown context; use one of {}",
                    Ctx::ALL.map(Ctx::name).join(", ")
                )
            })?;
            for (key_text, cmd_name) in keys {
                let key: Key = key_text
                    .parse()
                    .map_err(|e| format!("keys.{ctx_name}: {e}"))?;
                // The key's old binding in this context goes; the command keeps its
                // description and footer place.
                bindings.retain(|b| !(b.ctx == ctx && b.key == key));
                if cmd_name == "none" {
                    continue;
                }
                let cmd = Cmd::parse(cmd_name).ok_or_else(|| {
                    format!("keys.{ctx_name}.\"{key_text}\": unknown command '{cmd_name}'")
                })?;
                let (desc, footer) = bindings
                    .iter()
                    .find(|b| b.cmd == cmd)
                    .map(|b| (b.desc.clone(), b.footer))
                    .unwrap_or_else(|| (cmd.name().replace('_', " "), false));
                bindings.insert(
                    0,
                    Binding {
                        ctx,
                        key,
                        cmd,
                        desc,
                        footer,
                    },
                );
            }
        }
        Ok(Self {
            bindings,
            read_only,
            denied: BTreeMap::new(),
        })
    }

    pub fn defaults() -> Self {
        Self::load(&Overrides::new(), false).unwrap_or(Self {
            bindings: Vec::new(),
            read_only: false,
            denied: BTreeMap::new(),
        })
    }

    pub fn read_only(&self) -> bool {
        self.read_only
    }

    fn offered(&self, b: &Binding) -> bool {
        !(self.read_only && b.cmd.mutates())
    }

    pub fn set_denied(&mut self, denied: BTreeMap<Cmd, String>) {
        self.denied = denied;
    }

    /// Why the operator may not run `cmd`, if they may not.
    pub fn denied(&self, cmd: Cmd) -> Option<&str> {
        self.denied.get(&cmd).map(String::as_str)
    }

    /// The command for `key`, searching `ctxs` in order.
    pub fn lookup(&self, ctxs: &[Ctx], key: &KeyEvent) -> Option<Cmd> {
        let key = Key::from_event(key);
        ctxs.iter().find_map(|ctx| {
            self.bindings
                .iter()
                .find(|b| b.ctx == *ctx && b.key == key && self.offered(b))
                .map(|b| b.cmd)
        })
    }

    /// Footer hints for the contexts in force: (keys, description), one per command.
    pub fn hints(&self, ctxs: &[Ctx]) -> Vec<(String, String)> {
        self.hints_of(ctxs)
            .into_iter()
            .map(|(_, k, d)| (k, d))
            .collect()
    }

    /// Footer hints with their commands, so the footer can keep help and leaving in view.
    pub fn hints_of(&self, ctxs: &[Ctx]) -> Vec<(Cmd, String, String)> {
        let mut out: Vec<(Cmd, String, String)> = Vec::new();
        for ctx in ctxs {
            for b in self.bindings.iter().filter(|b| {
                b.ctx == *ctx && b.footer && self.offered(b) && !self.denied.contains_key(&b.cmd)
            }) {
                match out.iter_mut().find(|(c, _, _)| *c == b.cmd) {
                    Some((_, _, _)) => {}
                    None => out.push((b.cmd, b.key.to_string(), b.desc.clone())),
                }
            }
        }
        out
    }

    /// The whole keymap for the help screen: per context, each command with all its keys.
    pub fn help(&self) -> Vec<(Ctx, Vec<(String, String)>)> {
        Ctx::ALL
            .into_iter()
            .map(|ctx| {
                let mut rows: Vec<(Cmd, Vec<String>, String)> = Vec::new();
                for b in self
                    .bindings
                    .iter()
                    .filter(|b| b.ctx == ctx && self.offered(b))
                {
                    match rows.iter_mut().find(|(c, _, _)| *c == b.cmd) {
                        Some((_, keys, _)) => keys.push(b.key.to_string()),
                        None => {
                            let desc = match self.denied.get(&b.cmd) {
                                Some(_) => format!("{} (not permitted)", b.desc),
                                None => b.desc.clone(),
                            };
                            rows.push((b.cmd, vec![b.key.to_string()], desc))
                        }
                    }
                }
                (
                    ctx,
                    rows.into_iter()
                        .map(|(_, k, d)| (k.join(" "), d))
                        .collect::<Vec<_>>(),
                )
            })
            .filter(|(_, rows)| !rows.is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(c, m)
    }

    #[test]
    fn defaults_load_and_resolve_by_context() {
        let k = Keymap::defaults();
        let ctxs = [Ctx::Invitations, Ctx::Table, Ctx::Global];
        assert_eq!(
            k.lookup(&ctxs, &key(KeyCode::Char('n'), KeyModifiers::NONE)),
            Some(Cmd::Invite)
        );
        assert_eq!(
            k.lookup(&ctxs, &key(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Cmd::Bottom)
        );
        assert_eq!(
            k.lookup(&ctxs, &key(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Cmd::Quit)
        );
        assert_eq!(
            k.lookup(
                &[Ctx::Users, Ctx::Table],
                &key(KeyCode::Char('x'), KeyModifiers::NONE)
            ),
            None
        );
    }

    #[test]
    fn overrides_rebind_and_unbind_and_name_mistakes() -> Result<(), String> {
        let mut o = Overrides::new();
        o.entry("invitations".into())
            .or_default()
            .insert("ctrl-e".into(), "resend".into());
        o.entry("invitations".into())
            .or_default()
            .insert("r".into(), "none".into());
        let k = Keymap::load(&o, false)?;
        let ctxs = [Ctx::Invitations];
        assert_eq!(
            k.lookup(&ctxs, &key(KeyCode::Char('e'), KeyModifiers::CONTROL)),
            Some(Cmd::Resend)
        );
        assert_eq!(
            k.lookup(&ctxs, &key(KeyCode::Char('r'), KeyModifiers::NONE)),
            None
        );
        assert!(
            k.hints(&ctxs)
                .contains(&("^e".to_owned(), "resend".to_owned()))
        );
        let mut bad = Overrides::new();
        bad.entry("invitations".into())
            .or_default()
            .insert("r".into(), "resnd".into());
        let e = Keymap::load(&bad, false).err().unwrap_or_default();
        assert!(e.contains("unknown command 'resnd'"), "{e}");
        Ok(())
    }

    #[test]
    fn read_only_removes_what_changes_data() {
        let k = Keymap::load(&Overrides::new(), true).unwrap_or_else(|_| Keymap::defaults());
        let ctxs = [Ctx::Invitations, Ctx::Table, Ctx::Global];
        assert_eq!(
            k.lookup(&ctxs, &key(KeyCode::Char('x'), KeyModifiers::NONE)),
            None
        );
        assert!(!k.hints(&ctxs).iter().any(|(_, d)| d == "revoke"));
        assert!(
            !k.help()
                .iter()
                .flat_map(|(_, r)| r)
                .any(|(_, d)| d == "invite")
        );
    }
}
