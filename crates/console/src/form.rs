//! The invitation form (docs/rules.md#invitations): several addresses, names, type,
//! validity, copies (CC, BCC), attached files, and a subject and message of its own (left
//! empty, the account's template is used).

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui_textarea::TextArea;

use super::fields;
use super::theme::Theme;
use usher_core::domain::UserType;
use usher_core::service::{InviteField, InviteInput, InviteRequest};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    To,
    First,
    Last,
    Type,
    Validity,
    Cc,
    Bcc,
    Files,
    Subject,
    Message,
}

const ORDER: [Field; 10] = [
    Field::To,
    Field::First,
    Field::Last,
    Field::Type,
    Field::Validity,
    Field::Cc,
    Field::Bcc,
    Field::Files,
    Field::Subject,
    Field::Message,
];

#[derive(Debug)]
pub struct InviteForm {
    pub focus: Field,
    pub to: TextArea<'static>,
    pub first: TextArea<'static>,
    pub last: TextArea<'static>,
    pub validity: TextArea<'static>,
    pub cc: TextArea<'static>,
    pub bcc: TextArea<'static>,
    pub files: TextArea<'static>,
    pub subject: TextArea<'static>,
    pub message: TextArea<'static>,
    pub user_type: UserType,
    /// Keep the form open, cleared, after each invitation ("invite another", for a
    /// handful of invitations in a row).
    pub another: bool,
    /// Why professional cannot be chosen now (every licence taken), if so.
    pub professional_unavailable: Option<String>,
    pub error: Option<String>,
    pub sending: bool,
    pub sent: usize,
}

fn line_area(text: &str) -> TextArea<'static> {
    let mut t = TextArea::new(vec![text.to_owned()]);
    t.move_cursor(ratatui_textarea::CursorMove::End);
    t
}

impl InviteForm {
    pub fn new(to: &str) -> Self {
        let mut validity = line_area("");
        validity.set_placeholder_text("account default (10)");
        let mut to_area = line_area(to);
        to_area.set_placeholder_text("e.g. ann@example.org, bob@example.org");
        let placeholder = |text: &str| {
            let mut t = line_area("");
            t.set_placeholder_text(text);
            t
        };
        let mut message = TextArea::default();
        message
            .set_placeholder_text("the account's template (T edits it); must contain {{ link }}");
        Self {
            focus: Field::To,
            to: to_area,
            first: line_area(""),
            last: line_area(""),
            validity,
            cc: placeholder("optional: copies, e.g. manager@example.org"),
            bcc: placeholder("optional: blind copies"),
            files: placeholder("optional: files to attach, e.g. ~/welcome.pdf, ~/policy.pdf"),
            subject: placeholder("the account's template"),
            message,
            user_type: UserType::Professional,
            another: false,
            professional_unavailable: None,
            error: None,
            sending: false,
            sent: 0,
        }
    }

    pub fn set_professional_unavailable(&mut self, why: Option<String>) {
        if why.is_some() {
            self.user_type = UserType::Guest;
        }
        self.professional_unavailable = why;
    }

    pub fn next_field(&mut self) {
        let i = ORDER.iter().position(|f| *f == self.focus).unwrap_or(0);
        self.focus = ORDER[(i + 1) % ORDER.len()];
    }

    pub fn prev_field(&mut self) {
        let i = ORDER.iter().position(|f| *f == self.focus).unwrap_or(0);
        self.focus = ORDER[(i + ORDER.len() - 1) % ORDER.len()];
    }

    fn area_mut(&mut self) -> Option<&mut TextArea<'static>> {
        match self.focus {
            Field::To => Some(&mut self.to),
            Field::First => Some(&mut self.first),
            Field::Last => Some(&mut self.last),
            Field::Validity => Some(&mut self.validity),
            Field::Cc => Some(&mut self.cc),
            Field::Bcc => Some(&mut self.bcc),
            Field::Files => Some(&mut self.files),
            Field::Subject => Some(&mut self.subject),
            Field::Message => Some(&mut self.message),
            Field::Type => None,
        }
    }

    pub fn key(&mut self, key: KeyEvent) {
        if self.sending {
            return;
        }
        self.error = None;
        if self.focus == Field::Type {
            if matches!(
                key.code,
                KeyCode::Char(' ')
                    | KeyCode::Left
                    | KeyCode::Right
                    | KeyCode::Char('h')
                    | KeyCode::Char('l')
            ) {
                self.toggle_type();
            } else if key.code == KeyCode::Enter {
                self.next_field();
            }
            return;
        }
        // Enter moves on from a one-line field; only the message has several lines.
        if key.code == KeyCode::Enter && self.focus != Field::Message {
            self.next_field();
            return;
        }
        if let Some(area) = self.area_mut() {
            area.input(key);
        }
    }

    pub fn paste(&mut self, text: &str) {
        let multi = self.focus == Field::Message;
        if let Some(area) = self.area_mut() {
            let text: String = if multi {
                text.to_owned()
            } else {
                text.replace(['\r', '\n'], " ")
            };
            area.insert_str(text);
        }
    }

    fn toggle_type(&mut self) {
        self.user_type = match self.user_type {
            UserType::Guest if self.professional_unavailable.is_some() => {
                self.error = self.professional_unavailable.clone();
                UserType::Guest
            }
            UserType::Guest => UserType::Professional,
            UserType::Professional => UserType::Guest,
        };
    }

    fn text(a: &TextArea<'_>) -> String {
        a.lines().join("\n")
    }

    /// The request, or None with `error` set to what to fix and the focus on it.
    pub fn submit(&mut self) -> Option<InviteRequest> {
        if self.sending {
            return None;
        }
        // Only named here: the invite reads the files, off the screen's thread.
        let files = Self::text(&self.files)
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| std::path::PathBuf::from(crate::complete::expand_home(p)))
            .collect();
        let input = InviteInput {
            to: Self::text(&self.to),
            first_name: Self::text(&self.first),
            last_name: Self::text(&self.last),
            user_type: self.user_type,
            validity: Self::text(&self.validity),
            cc: Self::text(&self.cc),
            bcc: Self::text(&self.bcc),
            files,
            subject: Self::text(&self.subject),
            message: Self::text(&self.message),
        };
        match input.request() {
            Ok(req) => {
                self.sending = true;
                Some(req)
            }
            Err(e) => {
                self.focus = match e.field {
                    InviteField::To => Field::To,
                    InviteField::Validity => Field::Validity,
                    InviteField::Cc => Field::Cc,
                    InviteField::Bcc => Field::Bcc,
                };
                self.error = Some(e.to_string());
                None
            }
        }
    }

    /// The invite's outcome. Returns whether the form stays open.
    pub fn finished(&mut self, result: &Result<String, crate::failure::Failure>) -> bool {
        self.sending = false;
        match result {
            Ok(_) => {
                self.sent += 1;
                if self.another {
                    self.to = line_area("");
                    self.first = line_area("");
                    self.last = line_area("");
                    self.focus = Field::To;
                }
                self.another
            }
            Err(e) => {
                self.error = Some(e.text.clone());
                true
            }
        }
    }

    pub fn render(&mut self, f: &mut Frame, area: Rect, theme: &Theme) {
        f.render_widget(Clear, area);
        let title = if self.sent > 0 {
            format!(" New invitation ({} sent) ", self.sent)
        } else {
            " New invitation ".to_owned()
        };
        let block = Block::bordered().title(title).title_style(theme.title);
        let inner = block.inner(area);
        f.render_widget(block, area);
        let [
            to,
            first,
            last,
            kind,
            validity,
            cc,
            bcc,
            files,
            subject,
            message,
            another,
            error,
        ] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Fill(1),
            Constraint::Length(1),
            Constraint::Length(2),
        ])
        .areas(inner);
        let focus = self.focus;
        for (area, name, field) in [
            (to, "To", Field::To),
            (first, "First", Field::First),
            (last, "Last", Field::Last),
            (validity, "Days", Field::Validity),
            (cc, "Cc", Field::Cc),
            (bcc, "Bcc", Field::Bcc),
            (files, "Files", Field::Files),
            (subject, "Subject", Field::Subject),
        ] {
            let ta = match field {
                Field::To => &mut self.to,
                Field::First => &mut self.first,
                Field::Last => &mut self.last,
                Field::Validity => &mut self.validity,
                Field::Cc => &mut self.cc,
                Field::Bcc => &mut self.bcc,
                Field::Files => &mut self.files,
                _ => &mut self.subject,
            };
            fields::line(f, area, name, 11, ta, focus == field, theme);
        }
        let r = fields::label(f, kind, "Type", 11, focus == Field::Type, theme);
        f.render_widget(
            fields::user_type(
                self.user_type,
                self.professional_unavailable.is_some(),
                theme,
            ),
            r,
        );
        let [ml, mr] =
            Layout::horizontal([Constraint::Length(11), Constraint::Fill(1)]).areas(message);
        let style = if focus == Field::Message {
            theme.key
        } else {
            theme.header
        };
        f.render_widget(Span::styled("  Message: ", style), ml);
        self.message
            .set_block(Block::bordered().border_style(theme.dim));
        fields::text(f, mr, &mut self.message, focus == Field::Message, theme);
        f.render_widget(
            Line::from(format!(
                "  [{}] invite another (^a)",
                if self.another { "x" } else { " " }
            )),
            another,
        );
        f.render_widget(
            Paragraph::new(self.status_line(theme)).wrap(ratatui::widgets::Wrap { trim: true }),
            error,
        );
    }

    /// Sending, the error of the last try, or why professional is greyed out.
    fn status_line(&self, theme: &Theme) -> Line<'static> {
        if self.sending {
            Line::styled("  sending…", theme.dim)
        } else if let Some(e) = &self.error {
            Line::styled(format!("  {e}"), theme.error)
        } else if let Some(why) = &self.professional_unavailable {
            Line::styled(format!("  {why}"), theme.warn)
        } else {
            Line::from("")
        }
    }
}
