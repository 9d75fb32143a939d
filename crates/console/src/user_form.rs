//! Creating one corporate user directly, without an invitation (docs/rules.md#domains):
//! address, names, type, an optional personal mailbox, timezone and phone.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui_textarea::TextArea;

use super::fields;
use super::theme::Theme;
use usher_core::domain::UserType;
use usher_core::domain::sanitize::escape_for_display;
use usher_core::service::NewCorporateUser;

/// The form's fields in order; the two toggles have no text.
const LABELS: [&str; 7] = [
    "Address", "First", "Last", "Type", "Mailbox", "Timezone", "Phone",
];
const TYPE: usize = 3;
const MAILBOX: usize = 4;

#[derive(Debug)]
pub struct UserForm {
    pub focus: usize,
    /// Address, first, last, timezone, phone (the toggles are not text).
    texts: [TextArea<'static>; 5],
    pub user_type: UserType,
    pub personal_mailbox: bool,
    pub error: Option<String>,
    pub sending: bool,
    /// Why professional cannot be chosen now (no licence free), shown beside it.
    pub professional_unavailable: Option<String>,
}

/// The text area behind a field, if it has one.
fn text_index(field: usize) -> Option<usize> {
    match field {
        0..=2 => Some(field),
        5 | 6 => Some(field - 2),
        _ => None,
    }
}

impl UserForm {
    pub fn new() -> Self {
        let mut texts: [TextArea<'static>; 5] = Default::default();
        texts[0].set_placeholder_text("e.g. ann@example.org (a verified, active domain)");
        texts[3].set_placeholder_text("optional, e.g. Europe/Paris");
        texts[4].set_placeholder_text("optional");
        Self {
            focus: 0,
            texts,
            user_type: UserType::Professional,
            personal_mailbox: false,
            error: None,
            sending: false,
            professional_unavailable: None,
        }
    }

    /// With no licence free, the user is made a guest and professional is greyed out.
    pub fn set_professional_unavailable(&mut self, why: Option<String>) {
        if why.is_some() {
            self.user_type = UserType::Guest;
        }
        self.professional_unavailable = why;
    }

    pub fn next_field(&mut self) {
        self.focus = (self.focus + 1) % LABELS.len();
    }

    pub fn prev_field(&mut self) {
        self.focus = (self.focus + LABELS.len() - 1) % LABELS.len();
    }

    pub fn key(&mut self, key: KeyEvent) {
        if self.sending {
            return;
        }
        self.error = None;
        let toggle = matches!(
            key.code,
            KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right
        );
        match (self.focus, text_index(self.focus)) {
            (TYPE, _) if toggle => match (&self.professional_unavailable, self.user_type) {
                (Some(why), _) => self.error = Some(why.clone()),
                (None, UserType::Professional) => self.user_type = UserType::Guest,
                (None, UserType::Guest) => self.user_type = UserType::Professional,
            },
            (MAILBOX, _) if toggle => self.personal_mailbox = !self.personal_mailbox,
            (_, _) if key.code == KeyCode::Enter => self.next_field(),
            (_, Some(i)) => {
                self.texts[i].input(key);
            }
            _ => {}
        }
    }

    pub fn paste(&mut self, text: &str) {
        if let Some(i) = text_index(self.focus) {
            self.texts[i].insert_str(text.replace(['\r', '\n'], " "));
        }
    }

    fn text(&self, i: usize) -> String {
        self.texts[i].lines().join(" ").trim().to_owned()
    }

    /// The request, or None with `error` set when the address is missing.
    pub fn submit(&mut self) -> Option<NewCorporateUser> {
        if self.sending {
            return None;
        }
        if self.text(0).is_empty() {
            self.focus = 0;
            self.error = Some("address: a user needs one".into());
            return None;
        }
        self.sending = true;
        Some(NewCorporateUser {
            email: self.text(0),
            first_name: self.text(1),
            last_name: self.text(2),
            user_type: self.user_type,
            personal_mailbox: self.personal_mailbox,
            timezone: self.text(3),
            phone: self.text(4),
        })
    }

    /// The outcome: an error keeps the form open to fix it.
    pub fn finished(&mut self, result: &Result<String, crate::failure::Failure>) -> bool {
        self.sending = false;
        if let Err(e) = result {
            self.error = Some(e.text.clone());
        }
        result.is_err()
    }

    pub fn render(&mut self, f: &mut Frame, area: Rect, theme: &Theme) {
        f.render_widget(Clear, area);
        let block = Block::bordered()
            .title(" New corporate user (no invitation) ")
            .title_style(theme.title);
        let inner = block.inner(area);
        f.render_widget(block, area);
        let mut rows = [Constraint::Length(1); 9];
        rows[8] = Constraint::Fill(1);
        let areas = Layout::vertical(rows).split(inner);
        for (field, label) in LABELS.iter().enumerate() {
            let focused = self.focus == field;
            let r = fields::label(f, areas[field], label, 11, focused, theme);
            match text_index(field) {
                Some(i) => fields::text(f, r, &mut self.texts[i], focused, theme),
                None if field == TYPE => f.render_widget(
                    fields::user_type(
                        self.user_type,
                        self.professional_unavailable.is_some(),
                        theme,
                    ),
                    r,
                ),
                None => f.render_widget(
                    Line::from(format!(
                        "[{}] create a personal mailbox they own",
                        if self.personal_mailbox { "x" } else { " " }
                    )),
                    r,
                ),
            }
        }
        let status = if self.sending {
            Line::styled("  creating…", theme.dim)
        } else if let Some(e) = &self.error {
            Line::styled(format!("  {}", escape_for_display(e)), theme.error)
        } else if let Some(why) = &self.professional_unavailable {
            Line::styled(format!("  {why}"), theme.warn)
        } else {
            Line::styled(
                "  tab: next field · space toggles · ^s creates · esc cancels",
                theme.dim,
            )
        };
        f.render_widget(Paragraph::new(status).wrap(Wrap { trim: true }), areas[8]);
    }
}

impl Default for UserForm {
    fn default() -> Self {
        Self::new()
    }
}
