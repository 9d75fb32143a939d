//! The mail template editor (docs/rules.md#invitations): subject, body and an optional HTML
//! part in ratatui-textarea, beside a preview rendered with sample values as you type. A
//! template that would be refused shows why instead of a preview, and cannot be saved. ^n /
//! ^p move to the next template, ^r puts usher's own text in the editor (saving it then is
//! a reset).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Text};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui_textarea::TextArea;

use super::action::Effect;
use super::fields;
use super::theme::Theme;
use usher_core::domain::sanitize::escape_for_display;
use usher_core::mail::TemplateName;
use usher_core::mail::template::{Rendered, check_with};
use usher_core::service::TemplateView;

const SUBJECT: usize = 0;
const BODY: usize = 1;
const HTML: usize = 2;

#[derive(Debug)]
pub struct TemplateForm {
    pub name: TemplateName,
    pub focus: usize,
    texts: [TextArea<'static>; 3],
    views: Vec<TemplateView>,
    pub error: Option<String>,
    /// The last save's outcome, shown in the editor (the status line is behind it).
    pub saved: Option<String>,
    pub sending: bool,
    /// The parts as loaded or last saved: the editor is modified when they differ.
    loaded: (String, String, Option<String>),
    /// The values the preview renders with (the account's organisation, the operator).
    sample: serde_json::Value,
    /// A key that would drop unsaved edits was pressed once: pressed again, it does.
    discard_armed: Option<KeyCode>,
    org: Option<String>,
    operator: Option<String>,
}

fn area_of(text: &str) -> TextArea<'static> {
    TextArea::new(text.lines().map(str::to_owned).collect())
}

impl TemplateForm {
    /// The editor on `name`; `org` and `operator` (when known) fill the preview.
    pub fn new(
        views: Vec<TemplateView>,
        name: TemplateName,
        org: Option<&str>,
        operator: Option<&str>,
    ) -> Self {
        let mut f = Self {
            name,
            focus: BODY,
            texts: Default::default(),
            views,
            error: None,
            saved: None,
            sending: false,
            loaded: Default::default(),
            sample: serde_json::Value::Null,
            discard_armed: None,
            org: None,
            operator: None,
        };
        f.org = org.map(str::to_owned);
        f.operator = operator.map(str::to_owned);
        f.load(name);
        f
    }

    /// The account and operator, once known (the editor may open before they are read):
    /// the preview follows.
    pub fn know(&mut self, org: Option<&str>, operator: Option<&str>) {
        if org.is_some() {
            self.org = org.map(str::to_owned);
        }
        if operator.is_some() {
            self.operator = operator.map(str::to_owned);
        }
        self.sample = self
            .name
            .sample_for(self.org.as_deref(), self.operator.as_deref());
    }

    /// Edits not saved yet.
    pub fn modified(&self) -> bool {
        self.parts() != self.loaded
    }

    /// Whether a key that drops the edits may go ahead: yes when nothing is unsaved or
    /// it was pressed just before; else it says so and waits for a second press.
    pub fn may_discard(&mut self, key: KeyCode, what: &str) -> bool {
        if !self.modified() || self.discard_armed == Some(key) {
            self.discard_armed = None;
            return true;
        }
        self.discard_armed = Some(key);
        self.error = Some(format!(
            "unsaved edits to {}: {what} again drops them, ^s saves",
            self.name.key()
        ));
        false
    }

    fn load(&mut self, name: TemplateName) {
        self.name = name;
        let view = self.views.iter().find(|v| v.name == name.key());
        let (subject, body, html) = match view {
            Some(v) => (v.subject.clone(), v.body.clone(), v.html.clone()),
            None => {
                let (s, b) = name.builtin();
                (s.to_owned(), b.to_owned(), None)
            }
        };
        self.set_texts(subject.trim_end(), &body, html.as_deref().unwrap_or(""));
        self.loaded = self.parts();
        self.sample = name.sample_for(self.org.as_deref(), self.operator.as_deref());
    }

    fn set_texts(&mut self, subject: &str, body: &str, html: &str) {
        self.texts = [area_of(subject), area_of(body), area_of(html)];
        self.texts[HTML].set_placeholder_text("optional HTML alternative part");
    }

    /// Moves to the next (or previous) template; unsaved edits are dropped.
    pub fn switch(&mut self, step: isize) {
        let all = TemplateName::ALL;
        let at = all.iter().position(|t| *t == self.name).unwrap_or(0) as isize;
        let n = all.len() as isize;
        self.load(all[((at + step) % n + n) as usize % all.len()]);
        self.error = None;
    }

    pub fn next_field(&mut self) {
        self.focus = (self.focus + 1) % 3;
    }

    pub fn prev_field(&mut self) {
        self.focus = (self.focus + 2) % 3;
    }

    pub fn key(&mut self, key: KeyEvent) {
        if self.sending {
            return;
        }
        self.error = None;
        self.saved = None;
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if !(ctrl && matches!(key.code, KeyCode::Char('n' | 'p'))) {
            self.discard_armed = None;
        }
        match key.code {
            KeyCode::Char('n') if ctrl => {
                if self.may_discard(key.code, "^n") {
                    self.switch(1);
                }
            }
            KeyCode::Char('p') if ctrl => {
                if self.may_discard(key.code, "^p") {
                    self.switch(-1);
                }
            }
            KeyCode::Char('r') if ctrl => {
                let (s, b) = self.name.builtin();
                self.set_texts(s.trim_end(), b, "");
            }
            KeyCode::Enter if self.focus == SUBJECT => self.next_field(),
            _ => {
                self.texts[self.focus].input(key);
            }
        }
    }

    pub fn paste(&mut self, text: &str) {
        let text = if self.focus == SUBJECT {
            text.replace(['\r', '\n'], " ")
        } else {
            text.replace("\r\n", "\n")
        };
        self.texts[self.focus].insert_str(text);
    }

    /// Subject, body and HTML part as typed.
    pub fn parts(&self) -> (String, String, Option<String>) {
        let join = |i: usize| self.texts[i].lines().join("\n");
        let html = join(HTML);
        (
            join(SUBJECT),
            format!("{}\n", join(BODY).trim_end()),
            (!html.trim().is_empty()).then_some(html),
        )
    }

    /// usher's own text is in the editor: saving it is a reset.
    fn is_builtin(&self) -> bool {
        let (s, b, h) = self.parts();
        let (bs, bb) = self.name.builtin();
        h.is_none() && s.trim() == bs.trim() && b.trim() == bb.trim()
    }

    /// The preview with sample values, or why it would be refused.
    pub fn preview(&self) -> Result<Rendered, String> {
        let (s, b, h) = self.parts();
        check_with(self.name, &s, &b, h.as_deref(), &self.sample).map_err(|e| e.to_string())
    }

    pub fn submit(&mut self) -> Option<Effect> {
        if self.sending {
            return None;
        }
        if let Err(e) = self.preview() {
            self.error = Some(e);
            return None;
        }
        self.sending = true;
        if self.is_builtin() {
            return Some(Effect::ResetTemplate(self.name));
        }
        let (subject, body, html) = self.parts();
        Some(Effect::SaveTemplate {
            name: self.name,
            subject,
            body,
            html,
        })
    }

    pub fn finished(&mut self, result: &Result<String, crate::failure::Failure>) -> bool {
        self.sending = false;
        match result {
            Err(e) => self.error = Some(e.text.clone()),
            Ok(m) => {
                self.saved = Some(m.clone());
                // Stay open on the saved text, now the account's.
                let (subject, body, html) = self.parts();
                self.loaded = (subject.clone(), body.clone(), html.clone());
                if let Some(v) = self.views.iter_mut().find(|v| v.name == self.name.key()) {
                    (v.subject, v.body, v.html) = (subject, body, html);
                }
            }
        }
        true
    }

    pub fn render(&mut self, f: &mut Frame, area: Rect, theme: &Theme) {
        f.render_widget(Clear, area);
        let modified = if self.modified() { " ● modified" } else { "" };
        let block = Block::bordered()
            .title(format!(
                " Template: {} ({}){modified} ",
                self.name.key(),
                self.name.describe()
            ))
            .title_style(theme.title);
        let inner = block.inner(area);
        f.render_widget(block, area);
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Fill(1)]).areas(inner);
        let [subject, body_label, body, html_label, html, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Fill(3),
            Constraint::Length(1),
            Constraint::Fill(1),
            Constraint::Length(2),
        ])
        .areas(left);
        fields::line(
            f,
            subject,
            "Subject",
            10,
            &mut self.texts[SUBJECT],
            self.focus == SUBJECT,
            theme,
        );
        for (label_area, text_area, i, name) in [
            (body_label, body, BODY, "Body (plain text)"),
            (html_label, html, HTML, "HTML part"),
        ] {
            let style = if self.focus == i {
                theme.key
            } else {
                theme.header
            };
            f.render_widget(Line::styled(name, style), label_area);
            fields::text(f, text_area, &mut self.texts[i], self.focus == i, theme);
        }
        let hint = if self.sending {
            Line::styled("saving…", theme.dim)
        } else if let Some(e) = &self.error {
            Line::styled(escape_for_display(e), theme.error)
        } else if let Some(m) = &self.saved {
            Line::styled(escape_for_display(m), theme.ok)
        } else {
            Line::styled(
                "tab: field · ^s saves · ^r usher's text · ^n/^p next template · esc closes",
                theme.dim,
            )
        };
        f.render_widget(Paragraph::new(hint).wrap(Wrap { trim: true }), status);
        self.render_preview(f, right, theme);
    }

    fn render_preview(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        let block = Block::bordered()
            .title(" Preview ")
            .title_style(theme.header);
        let inner = block.inner(area);
        f.render_widget(block, area);
        let vars = self.name.variables().join(", ");
        let text = match self.preview() {
            Ok(r) => {
                let mut lines = vec![
                    Line::styled(
                        format!("Subject: {}", escape_for_display(&r.subject)),
                        theme.key,
                    ),
                    Line::from(""),
                ];
                lines.extend(r.body.lines().map(|l| Line::from(escape_for_display(l))));
                if r.html.is_some() {
                    lines.push(Line::from(""));
                    lines.push(Line::styled("(with an HTML alternative part)", theme.dim));
                }
                lines.push(Line::from(""));
                lines.push(Line::styled(format!("variables: {vars}"), theme.dim));
                Text::from(lines)
            }
            Err(e) => Text::from(vec![
                Line::styled("Cannot be saved:", theme.error),
                Line::styled(escape_for_display(&e), theme.error),
                Line::from(""),
                Line::styled(format!("variables: {vars}"), theme.dim),
            ]),
        };
        f.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), inner);
    }
}
