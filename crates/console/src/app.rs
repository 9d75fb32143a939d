//! The console's state and its update step. `update` is synchronous: it changes state and
//! returns effects for the worker, so it can be tested by feeding actions.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::{Action, Effect};
use super::command::CommandLine;
use super::form::InviteForm;
use super::keymap::{Cmd, Ctx, Keymap};
use super::prompt::{Prompt, PromptKind};
use super::role_form::RoleForm;
use super::tabs::domains::DomainsTab;
use super::tabs::invitations::InvitationsTab;
use super::tabs::roles::RolesTab;
use super::tabs::users::UsersTab;
use usher_core::domain::sanitize::escape_for_display;
use usher_core::service::Status;

pub use super::tabs::{Detail, Tab};

mod answers;
mod input;
mod modal_keys;

#[derive(Debug)]
pub enum Modal {
    /// The keys, those of `ctxs` (where `?` was pressed) first.
    Help {
        scroll: u16,
        ctxs: Vec<Ctx>,
    },
    /// Every field of one item (an invitation, an import row), nothing cut: long values
    /// wrap and the popup scrolls.
    Detail(Box<Detail>),
    /// A question before an action. Only `y` (or, where `typed` is set, typing it and
    /// Enter) goes on; Enter alone, `n` and Esc say no.
    Confirm {
        prompt: String,
        effect: Effect,
        typed: Option<String>,
        /// What has been typed so far, when `typed` is set.
        text: String,
    },
    Form(Box<InviteForm>),
    Role(Box<RoleForm>),
    User(Box<super::user_form::UserForm>),
    Template(Box<super::template_form::TemplateForm>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

/// A line of text being typed at the bottom: a search (as you type) or a `:` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Search(String),
    Command(CommandLine),
    /// The file to import (Tab completes).
    Path(String),
    /// The import's column mapping, FIELD=COLUMN,...
    Mapping(String),
    /// One line asked for by an action (what to grant, a domain's name, ...).
    Prompt(Prompt),
}

#[derive(Debug)]
pub struct App {
    pub tab: Tab,
    /// A report being written: rows done and in all, for the gauge.
    pub report: Option<(u64, u64)>,
    pub keymap: Keymap,
    pub status: Option<Status>,
    pub invitations: InvitationsTab,
    pub users: UsersTab,
    pub import: super::tabs::import::ImportTab,
    pub roles: RolesTab,
    pub domains: DomainsTab,
    pub sync: super::tabs::sync::SyncTab,
    /// Who the console acts as, once known.
    pub operator: Option<usher_core::service::Operator>,
    pub modal: Option<Modal>,
    pub input: Option<Input>,
    pub message: Option<(Level, String)>,
    /// Requests sent and not yet answered: the header shows a spinner while any are.
    pub in_flight: usize,
    pub spinner: usize,
    pub quit: bool,
    /// `^l`: the terminal layer clears and repaints every cell before the next frame.
    pub redraw: bool,
    /// Table rows that fit on screen, for page moves; set by the view's caller.
    pub page_rows: usize,
    pub refresh_every_ticks: u64,
    /// Set while the database is unreachable: the header then says "reconnecting" and
    /// the refreshes give way to one probe a second.
    pub connection_lost: bool,
    /// A status probe is out while reconnecting (one at a time: each may wait for the
    /// pool's connect timeout).
    probing: bool,
    /// The time the screen shows ("expires in"), moved on by ticks.
    pub now: usher_core::domain::Timestamp,
    ticks: u64,
    generation: u64,
    /// The tab whose marks go once the action on them succeeds (kept if it fails).
    clear_marks_after: Option<Tab>,
}

impl App {
    pub fn new(keymap: Keymap) -> Self {
        Self {
            tab: Tab::Invitations,
            keymap,
            status: None,
            invitations: InvitationsTab::default(),
            users: UsersTab::default(),
            import: Default::default(),
            roles: RolesTab::default(),
            domains: DomainsTab::default(),
            sync: Default::default(),
            operator: None,
            modal: None,
            input: None,
            message: None,
            report: None,
            in_flight: 0,
            spinner: 0,
            quit: false,
            redraw: false,
            page_rows: 20,
            refresh_every_ticks: 12,
            connection_lost: false,
            probing: false,
            now: usher_core::domain::Timestamp(0),
            ticks: 0,
            generation: 0,
            clear_marks_after: None,
        }
    }

    pub fn next_generation(&mut self) -> u64 {
        self.generation += 1;
        self.generation
    }

    pub fn read_only(&self) -> bool {
        self.keymap.read_only()
    }

    /// Whether a professional invitation is possible now, and if not, why.
    pub fn professional_unavailable(&self) -> Option<String> {
        professional_unavailable(self.status.as_ref())
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.message = Some((Level::Info, text.into()));
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.message = Some((Level::Error, text.into()));
    }

    /// The contexts in force, most specific first: they pick keys and footer hints.
    pub fn contexts(&self) -> Vec<Ctx> {
        match (&self.modal, &self.input) {
            (Some(Modal::Help { .. }), _) => vec![Ctx::Help],
            (Some(Modal::Detail(_)), _) => vec![Ctx::Detail],
            (Some(Modal::Confirm { typed: Some(_), .. }), _) => vec![Ctx::Typed],
            (Some(Modal::Confirm { .. }), _) => vec![Ctx::Confirm],
            (Some(Modal::Form(_)), _) => vec![Ctx::InviteForm, Ctx::Form],
            (Some(Modal::User(_)), _) => vec![Ctx::UserForm, Ctx::Form],
            (Some(Modal::Template(_)), _) => vec![Ctx::Editor, Ctx::Form],
            (Some(Modal::Role(_)), _) => vec![Ctx::Form],
            (None, Some(Input::Search(_))) => vec![Ctx::Search],
            (None, Some(_)) => vec![Ctx::Input],
            (None, None) => match self.tab {
                Tab::Invitations => vec![Ctx::Invitations, Ctx::Table, Ctx::Global],
                Tab::Users if self.users.show_detail => {
                    vec![Ctx::UserDetail, Ctx::Users, Ctx::Table, Ctx::Global]
                }
                Tab::Users => vec![Ctx::Users, Ctx::Table, Ctx::Global],
                Tab::Import => vec![Ctx::Import, Ctx::Global],
                Tab::Roles => vec![Ctx::Roles, Ctx::Table, Ctx::Global],
                Tab::Domains => vec![Ctx::Domains, Ctx::Table, Ctx::Global],
                Tab::Sync => vec![Ctx::Sync, Ctx::Table, Ctx::Global],
            },
        }
    }

    /// Opens the help on the keys of where the operator is.
    pub fn open_help(&mut self) {
        let ctxs = self.contexts();
        self.modal = Some(Modal::Help { scroll: 0, ctxs });
    }

    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Key(key) => self.on_key(key),
            Action::Paste(text) => self.on_paste(&text),
            Action::Tick(now) => self.tick(now),
            Action::Status(r) => self.status_loaded(r),
            Action::Users {
                generation,
                page,
                result,
            } => self.users_loaded(generation, page, result),
            Action::Roles { generation, result } => self.roles_loaded(generation, result),
            Action::Operator(r) => self.operator_loaded(r),
            Action::Templates { name, result } => self.templates_loaded(name, result),
            Action::Done(r) => self.done(r),
            Action::SyncPreviewed(r) => {
                self.in_flight = self.in_flight.saturating_sub(1);
                match r {
                    Ok(report) => {
                        self.info(super::tabs::sync::said(&report));
                        self.sync.previewed(*report);
                        // The preview is a run of its own: the list shows it.
                        self.refresh()
                    }
                    Err(e) => {
                        self.error(e);
                        Vec::new()
                    }
                }
            }
            other => {
                self.note(other);
                Vec::new()
            }
        }
    }

    /// A result or event that only changes what is shown.
    fn note(&mut self, action: Action) {
        match action {
            Action::Resize => {}
            Action::ConnectionLost(e) => {
                if !self.connection_lost {
                    self.error(format!("{e}; reconnecting…"));
                }
                self.connection_lost = true;
            }
            Action::Invitations { generation, result } => {
                self.in_flight = self.in_flight.saturating_sub(1);
                if let Err(e) = self.invitations.loaded(generation, result) {
                    self.error(e);
                }
            }
            Action::UserDetail { generation, result } => {
                self.in_flight = self.in_flight.saturating_sub(1);
                if let Err(e) = self.users.detail_loaded(generation, result) {
                    self.error(e);
                }
            }
            Action::ImportPreview { generation, result } => {
                self.in_flight = self.in_flight.saturating_sub(1);
                match self.import.loaded(generation, result) {
                    Err(e) => self.error(e),
                    // What was read differently from the file's face, said at once.
                    Ok(()) => {
                        let notes = self.import.notes();
                        if !notes.is_empty() {
                            self.info(notes);
                        }
                    }
                }
            }
            Action::Role { generation, result } => {
                self.in_flight = self.in_flight.saturating_sub(1);
                self.roles.detail_loaded(generation, result);
            }
            Action::Domains(r) => {
                self.in_flight = self.in_flight.saturating_sub(1);
                match r {
                    Ok((d, m)) => self.domains.loaded(d, m),
                    Err(e) => self.error(e),
                }
            }
            Action::Sync(r) => {
                self.in_flight = self.in_flight.saturating_sub(1);
                match r {
                    Ok(rows) => self.sync.loaded(rows),
                    Err(e) => self.error(e),
                }
            }
            Action::Ask(ask) => {
                self.in_flight = self.in_flight.saturating_sub(1);
                self.ask(ask);
            }
            Action::ReportProgress { done, total } => {
                self.report = Some((done, total));
            }
            Action::ReportDone(r) => {
                self.report = None;
                match r {
                    Ok(m) => self.info(m),
                    Err(e) => self.error(e),
                }
            }
            Action::ImportProgress { stage, done, total } => {
                self.import.progress = Some((stage, done, total));
            }
            Action::ImportColumns {
                generation,
                headers,
            } if generation == self.import.generation => self.import.headers = headers,
            Action::ImportHistory(r) => {
                self.in_flight = self.in_flight.saturating_sub(1);
                match r {
                    Ok(h) => self.import.history = h,
                    Err(e) => self.error(e),
                }
            }
            _ => {}
        }
    }

    /// Reloads what is on screen (status and both tabs), keeping positions.
    pub fn refresh(&mut self) -> Vec<Effect> {
        let mut fx = vec![Effect::LoadStatus];
        let g = self.next_generation();
        fx.push(self.invitations.reload(g));
        let g = self.next_generation();
        fx.push(self.users.refresh(g, self.page_rows));
        if let Some(id) = self.users.detail_id() {
            let g = self.next_generation();
            self.users.detail_generation = g;
            fx.push(Effect::LoadUserDetail { generation: g, id });
        }
        fx.push(Effect::LoadImportHistory);
        let g = self.next_generation();
        fx.push(Effect::LoadRoles { generation: g });
        fx.push(Effect::LoadDomains);
        fx.push(Effect::LoadSync);
        fx.push(Effect::LoadOperator);
        self.in_flight += fx.len();
        fx
    }

    fn on_paste(&mut self, text: &str) -> Vec<Effect> {
        match (&mut self.modal, &mut self.input) {
            (
                Some(m @ (Modal::Form(_) | Modal::Role(_) | Modal::User(_) | Modal::Template(_))),
                _,
            ) => {
                if let Some(f) = m.form() {
                    f.paste(text);
                }
                Vec::new()
            }
            (None, Some(_)) => text
                .chars()
                .filter(|c| !c.is_control())
                .flat_map(|c| self.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)))
                .collect(),
            _ => Vec::new(),
        }
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let cmd = self.keymap.lookup(&self.contexts(), &key);
        if self.modal.is_some() {
            return self.on_modal_key(cmd, key);
        }
        if self.input.is_some() {
            return self.on_input_key(cmd, key);
        }
        let Some(cmd) = cmd else {
            self.no_key(key);
            return Vec::new();
        };
        self.message = None;
        if self.refused(cmd) || self.opening_key(cmd) {
            return Vec::new();
        }
        match cmd {
            Cmd::Templates => vec![Effect::LoadTemplates(
                usher_core::mail::TemplateName::Invitation,
            )],
            Cmd::EditRole => match self.roles.editable() {
                Ok(r) => {
                    self.modal = Some(Modal::Role(Box::new(RoleForm::edit(r))));
                    Vec::new()
                }
                Err(out) => self.apply(out),
            },
            Cmd::Grant | Cmd::RevokeGrant | Cmd::PersonalMailbox if self.tab == Tab::Users => {
                self.grant_prompt(cmd)
            }
            Cmd::Refresh => self.refresh(),
            _ => self.tab_key(cmd),
        }
    }

    /// Keys that open something (a form, a prompt, a line to type, the help, another
    /// tab) or leave, with nothing for the worker to do. False for any other key.
    fn opening_key(&mut self, cmd: Cmd) -> bool {
        match cmd {
            Cmd::Quit => self.quit = true,
            Cmd::Help => self.open_help(),
            Cmd::Redraw => self.redraw = true,
            Cmd::NextTab => self.tab = self.tab.step(1),
            Cmd::PrevTab => self.tab = self.tab.step(-1),
            Cmd::TabInvitations => self.tab = Tab::Invitations,
            Cmd::TabUsers => self.tab = Tab::Users,
            Cmd::TabImport => self.tab = Tab::Import,
            Cmd::TabRoles => self.tab = Tab::Roles,
            Cmd::TabDomains => self.tab = Tab::Domains,
            Cmd::TabSync => self.tab = Tab::Sync,
            Cmd::Command => self.input = Some(Input::Command(CommandLine::default())),
            Cmd::OpenFile => self.input = Some(Input::Path(String::new())),
            Cmd::Report => self.report_line(),
            Cmd::Search => self.search_line(),
            Cmd::MapColumns => self.mapping_line(),
            Cmd::Invite => self.open_form(""),
            Cmd::NewRole => self.modal = Some(Modal::Role(Box::default())),
            Cmd::CreateUser => {
                let mut form = super::user_form::UserForm::default();
                form.set_professional_unavailable(self.professional_unavailable());
                self.modal = Some(Modal::User(Box::new(form)));
            }
            Cmd::AddDomain => self.prompt(PromptKind::AddDomain),
            Cmd::NewMailbox => self.prompt(PromptKind::NewMailbox),
            Cmd::VerifyManually => {
                if let Some(d) = self.domains.current() {
                    let name = d.domain.name.clone();
                    self.prompt(PromptKind::VerifyManually { name });
                }
            }
            Cmd::Detail if self.tab == Tab::Invitations => {
                if let Some(i) = self.invitations.current() {
                    let detail = super::tabs::invitations::detail(i);
                    self.modal = Some(Modal::Detail(Box::new(detail)));
                }
            }
            _ => return false,
        }
        true
    }

    /// The report command line, filled in: the operator edits the format or the path.
    fn report_line(&mut self) {
        let kind = if self.tab == Tab::Invitations {
            "invitations"
        } else {
            "users"
        };
        self.input = Some(Input::Command(CommandLine {
            text: format!("report {kind} csv ~/usher-{kind}.csv"),
        }));
    }

    /// The search line, holding the current tab's search.
    fn search_line(&mut self) {
        let current = match self.tab {
            Tab::Invitations => self.invitations.search.clone(),
            Tab::Users | Tab::Import | Tab::Roles | Tab::Domains | Tab::Sync => {
                self.users.search.clone()
            }
        };
        self.input = Some(Input::Search(current));
    }

    /// The import's column mapping, once a file is open.
    fn mapping_line(&mut self) {
        if self.import.path.is_empty() {
            self.error("open a file first (o)");
        } else {
            self.input = Some(Input::Mapping(self.import.mapping_text()));
        }
    }

    /// A key of the current tab's own.
    fn tab_key(&mut self, cmd: Cmd) -> Vec<Effect> {
        let page = self.page_rows;
        let fx = match self.tab {
            Tab::Invitations => {
                let g = self.next_generation();
                self.invitations.command(cmd, page, g)
            }
            Tab::Users => {
                let g = self.next_generation();
                self.users.command(cmd, page, g)
            }
            Tab::Import => self.import.command(cmd, page),
            Tab::Roles => {
                let g = self.next_generation();
                self.roles.command(cmd, page, g)
            }
            Tab::Domains => self.domains.command(cmd, page),
            Tab::Sync => self.sync.command(cmd, page),
        };
        self.apply(fx)
    }

    /// What a tab asked for: effects to run now, or a question to ask first.
    fn apply(&mut self, out: super::tabs::Outcome) -> Vec<Effect> {
        use super::tabs::Outcome;
        match out {
            Outcome::None => Vec::new(),
            Outcome::Message(m) => {
                self.info(m);
                Vec::new()
            }
            Outcome::Effects(fx) => {
                for e in &fx {
                    match e {
                        Effect::Copy(text) => self.info(format!(
                            "copied {} to the clipboard (OSC 52, if the terminal allows it)",
                            escape_for_display(text)
                        )),
                        other => {
                            self.in_flight += 1;
                            if let Some(tab) = marks_of(other) {
                                self.clear_marks_after = Some(tab);
                            }
                        }
                    }
                }
                fx
            }
            Outcome::Confirm(ask) => {
                self.ask(*ask);
                Vec::new()
            }
            Outcome::Show(d) => {
                self.modal = Some(Modal::Detail(Box::new(d)));
                Vec::new()
            }
        }
    }

    fn ask(&mut self, ask: super::tabs::Ask) {
        self.modal = Some(Modal::Confirm {
            prompt: ask.prompt,
            effect: ask.effect,
            typed: ask.typed,
            text: String::new(),
        });
    }

    /// A key in a question: `y` goes on, except where a count must be typed; Enter goes
    /// on only after the count is typed; anything else that means no, says no.
    fn on_confirm_key(&mut self, cmd: Option<Cmd>, key: KeyEvent) -> Vec<Effect> {
        let Some(Modal::Confirm { typed, text, .. }) = &mut self.modal else {
            return Vec::new();
        };
        let go = match (typed.as_deref(), key.code) {
            (Some(_), _) if cmd == Some(Cmd::Cancel) => false,
            (Some(want), _) if cmd == Some(Cmd::Submit) => {
                if text.as_str() != want {
                    let want = want.to_owned();
                    text.clear();
                    self.error(format!("type {want} and Enter to go on; Esc cancels"));
                    return Vec::new();
                }
                true
            }
            (Some(_), KeyCode::Backspace) => {
                text.pop();
                return Vec::new();
            }
            (Some(_), KeyCode::Char(c)) if !c.is_control() => {
                text.push(c);
                return Vec::new();
            }
            (Some(_), _) => return Vec::new(),
            (None, _) => match cmd {
                Some(Cmd::Yes) => true,
                Some(Cmd::Cancel) => false,
                _ => {
                    self.info("y goes on; n, Enter or Esc cancels");
                    return Vec::new();
                }
            },
        };
        let Some(Modal::Confirm { effect, .. }) = self.modal.take() else {
            return Vec::new();
        };
        if !go {
            self.info("cancelled; nothing was changed");
            return Vec::new();
        }
        self.message = None;
        if matches!(effect, Effect::ApplyImport { .. }) {
            self.import.applying = true;
        }
        self.clear_marks_after = marks_of(&effect);
        self.in_flight += 1;
        vec![effect]
    }

    pub fn open_form(&mut self, to: &str) {
        if self.read_only() {
            self.error("read-only: inviting is switched off");
            return;
        }
        let mut form = InviteForm::new(to);
        form.set_professional_unavailable(self.professional_unavailable());
        self.modal = Some(Modal::Form(Box::new(form)));
    }

    /// `+`, `-` and `p` on a user: the prompt for what to grant or revoke (with what they
    /// hold, to cycle through), or their personal mailbox at once.
    fn grant_prompt(&mut self, cmd: Cmd) -> Vec<Effect> {
        let Some(u) = self.users.current() else {
            return Vec::new();
        };
        let (user_id, email) = (u.id, escape_for_display(&u.email_display));
        let kind = match cmd {
            Cmd::PersonalMailbox => {
                self.in_flight += 1;
                return vec![Effect::PersonalMailbox(user_id)];
            }
            Cmd::Grant => PromptKind::Grant { user_id, email },
            _ => {
                let held: Vec<String> = match &self.users.detail {
                    Some(d) if d.user.id == user_id => d.grants.iter().map(|g| g.label()).collect(),
                    _ => Vec::new(),
                };
                if held.is_empty() && self.users.detail.is_some() {
                    self.info(format!("{email} holds no roles or permissions"));
                    return Vec::new();
                }
                PromptKind::Revoke {
                    user_id,
                    email,
                    held,
                }
            }
        };
        self.prompt(kind);
        Vec::new()
    }

    /// A key that does nothing here says so, rather than nothing at all.
    fn no_key(&mut self, key: KeyEvent) {
        let name = super::keymap::Key::from_event(&key).to_string();
        if matches!(key.code, KeyCode::Char(_) | KeyCode::Enter | KeyCode::F(_))
            || key.modifiers.contains(KeyModifiers::CONTROL)
        {
            self.info(format!("no key {name} here; ? shows the keys"));
        }
    }

    /// Says why the operator may not run `cmd`, if they may not; true then.
    fn refused(&mut self, cmd: Cmd) -> bool {
        match self.keymap.denied(cmd) {
            Some(why) => {
                let why = why.to_owned();
                self.error(why);
                true
            }
            None => false,
        }
    }
}

/// Moves a popup's scroll for the keys that scroll; false for any other key. The view
/// clamps it to the text's end.
fn scroll(at: &mut u16, cmd: Option<Cmd>, page: usize) -> bool {
    let page = u16::try_from(page.max(1)).unwrap_or(u16::MAX);
    match cmd {
        Some(Cmd::Down) => *at = at.saturating_add(1),
        Some(Cmd::Up) => *at = at.saturating_sub(1),
        Some(Cmd::PageDown) => *at = at.saturating_add(page),
        Some(Cmd::PageUp) => *at = at.saturating_sub(page),
        Some(Cmd::Top) => *at = 0,
        Some(Cmd::Bottom) => *at = u16::MAX,
        _ => return false,
    }
    true
}

/// The tab whose marks an effect acts on.
fn marks_of(effect: &Effect) -> Option<Tab> {
    match effect {
        Effect::Resend(_) | Effect::Revoke(_) => Some(Tab::Invitations),
        Effect::Suspend(_)
        | Effect::SendPasswordReset(_)
        | Effect::Reactivate(_)
        | Effect::Remove(_)
        | Effect::SetUserType(..) => Some(Tab::Users),
        _ => None,
    }
}

fn professional_unavailable(s: Option<&Status>) -> Option<String> {
    let s = s?;
    (s.licences_used >= s.licences_total).then(|| {
        format!(
            "all {} professional licences are in use; invite as guest or free a licence",
            s.licences_total
        )
    })
}
