//! Creating or editing a custom role (docs/rules.md#roles): a name, a description, and
//! the permissions of its scope, narrowed by a search as you type and ticked with space.

use std::collections::BTreeSet;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui_textarea::TextArea;

use super::fields;
use super::theme::Theme;
use usher_core::domain::{Permission, Scope};
use usher_core::service::{RoleSpec, RoleView};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Description,
    Scope,
    Search,
    Permissions,
}

const ORDER: [Field; 5] = [
    Field::Name,
    Field::Description,
    Field::Scope,
    Field::Search,
    Field::Permissions,
];

pub use super::effect::Save;

#[derive(Debug)]
pub struct RoleForm {
    /// The role's name before this edit; None when creating.
    pub editing: Option<String>,
    pub scope: Scope,
    pub focus: Field,
    pub name: TextArea<'static>,
    pub description: TextArea<'static>,
    pub search: TextArea<'static>,
    pub ticked: BTreeSet<Permission>,
    /// Position in the filtered permission list.
    pub cursor: usize,
    pub error: Option<String>,
    pub sending: bool,
}

fn line_area(text: &str) -> TextArea<'static> {
    let mut t = TextArea::new(vec![text.to_owned()]);
    t.move_cursor(ratatui_textarea::CursorMove::End);
    t
}

fn text(a: &TextArea<'_>) -> String {
    a.lines().join(" ").trim().to_owned()
}

impl RoleForm {
    pub fn new() -> Self {
        let mut search = line_area("");
        search.set_placeholder_text("type to narrow the permissions");
        Self {
            editing: None,
            scope: Scope::Account,
            focus: Field::Name,
            name: line_area(""),
            description: line_area(""),
            search,
            ticked: BTreeSet::new(),
            cursor: 0,
            error: None,
            sending: false,
        }
    }

    pub fn edit(role: &RoleView) -> Self {
        let mut f = Self::new();
        f.editing = Some(role.role.name.clone());
        f.scope = if role.role.scope == Scope::Mailbox.as_str() {
            Scope::Mailbox
        } else {
            Scope::Account
        };
        f.name = line_area(&role.role.name);
        f.description = line_area(&role.role.description);
        f.ticked = role.permissions.iter().copied().collect();
        f
    }

    /// The permissions of the scope that match the search (key or description).
    pub fn shown(&self) -> Vec<Permission> {
        let q = text(&self.search).to_lowercase();
        Permission::ALL
            .iter()
            .copied()
            .filter(|p| p.scope() == self.scope)
            .filter(|p| {
                q.is_empty() || p.key().contains(&q) || p.describe().to_lowercase().contains(&q)
            })
            .collect()
    }

    pub fn next_field(&mut self) {
        let i = ORDER.iter().position(|f| *f == self.focus).unwrap_or(0);
        self.focus = ORDER[(i + 1) % ORDER.len()];
    }

    pub fn prev_field(&mut self) {
        let i = ORDER.iter().position(|f| *f == self.focus).unwrap_or(0);
        self.focus = ORDER[(i + ORDER.len() - 1) % ORDER.len()];
    }

    /// Ticks or unticks the permission under the cursor.
    pub fn toggle(&mut self) {
        if let Some(p) = self.shown().get(self.cursor).copied()
            && !self.ticked.remove(&p)
        {
            self.ticked.insert(p);
        }
    }

    fn move_cursor(&mut self, by: isize) {
        let n = self.shown().len();
        self.cursor = (self.cursor as isize + by).clamp(0, n.saturating_sub(1) as isize) as usize;
    }

    pub fn key(&mut self, key: KeyEvent) {
        if self.sending {
            return;
        }
        self.error = None;
        match (self.focus, key.code) {
            (Field::Scope, KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right) => {
                if self.editing.is_some() {
                    self.error = Some("a role's scope is fixed once it exists".into());
                } else {
                    self.scope = match self.scope {
                        Scope::Account => Scope::Mailbox,
                        Scope::Mailbox => Scope::Account,
                    };
                    self.ticked.clear();
                    self.cursor = 0;
                }
            }
            (Field::Search | Field::Permissions, KeyCode::Down) => self.move_cursor(1),
            (Field::Search | Field::Permissions, KeyCode::Up) => self.move_cursor(-1),
            (Field::Permissions, KeyCode::Char('j')) => self.move_cursor(1),
            (Field::Permissions, KeyCode::Char('k')) => self.move_cursor(-1),
            (Field::Permissions, KeyCode::Char(' ')) => self.toggle(),
            (Field::Permissions | Field::Scope, _) => {}
            (_, KeyCode::Enter) => self.next_field(),
            (field, _) => {
                let area = match field {
                    Field::Name => &mut self.name,
                    Field::Description => &mut self.description,
                    _ => &mut self.search,
                };
                area.input(key);
                if field == Field::Search {
                    self.cursor = 0;
                }
            }
        }
    }

    pub fn paste(&mut self, pasted: &str) {
        let clean = pasted.replace(['\r', '\n'], " ");
        match self.focus {
            Field::Name => self.name.insert_str(clean),
            Field::Description => self.description.insert_str(clean),
            Field::Search => self.search.insert_str(clean),
            _ => false,
        };
    }

    /// What to save, or None with `error` set to what to fix.
    pub fn submit(&mut self) -> Option<Save> {
        if self.sending {
            return None;
        }
        let name = text(&self.name);
        if name.is_empty() {
            self.focus = Field::Name;
            self.error = Some("name: a role needs a name".into());
            return None;
        }
        let spec = RoleSpec {
            name,
            description: text(&self.description),
            permissions: self.ticked.iter().map(|p| p.key().to_owned()).collect(),
        };
        self.sending = true;
        Some(match &self.editing {
            Some(old) => Save::Edit(old.clone(), spec),
            None => Save::Create(self.scope, spec),
        })
    }

    /// The save's outcome: an error keeps the form open to fix it.
    pub fn finished(&mut self, result: &Result<String, crate::failure::Failure>) -> bool {
        self.sending = false;
        if let Err(e) = result {
            self.error = Some(e.text.clone());
        }
        result.is_err()
    }

    pub fn render(&mut self, f: &mut Frame, area: Rect, theme: &Theme) {
        f.render_widget(Clear, area);
        let title = match &self.editing {
            Some(n) => format!(
                " Edit role {} ",
                usher_core::domain::sanitize::escape_for_display(n)
            ),
            None => " New custom role ".to_owned(),
        };
        let block = Block::bordered().title(title).title_style(theme.title);
        let inner = block.inner(area);
        f.render_widget(block, area);
        let [name, desc, scope, search, list, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Fill(1),
            Constraint::Length(2),
        ])
        .areas(inner);
        let focus = self.focus;
        for (area, title, field) in [
            (name, "Name", Field::Name),
            (desc, "Description", Field::Description),
            (search, "Search", Field::Search),
        ] {
            let ta = match field {
                Field::Name => &mut self.name,
                Field::Description => &mut self.description,
                _ => &mut self.search,
            };
            fields::line(f, area, title, 14, ta, focus == field, theme);
        }
        let r = fields::label(f, scope, "Scope", 14, focus == Field::Scope, theme);
        let mark = |on: bool| if on { "(•) " } else { "( ) " };
        f.render_widget(
            Line::from(format!(
                "{}account   {}mailbox",
                mark(self.scope == Scope::Account),
                mark(self.scope == Scope::Mailbox)
            )),
            r,
        );
        let shown = self.shown();
        let height = list.height.saturating_sub(2) as usize;
        let start = self.cursor.saturating_sub(height.saturating_sub(1));
        let lines: Vec<Line> = shown
            .iter()
            .enumerate()
            .skip(start)
            .take(height)
            .map(|(i, p)| {
                let line = self.permission_line(p, theme);
                if i == self.cursor && focus == Field::Permissions {
                    line.style(theme.selected)
                } else {
                    line
                }
            })
            .collect();
        let title = format!(
            " Permissions: {} of {} ticked ",
            self.ticked.len(),
            Permission::ALL
                .iter()
                .filter(|p| p.scope() == self.scope)
                .count()
        );
        f.render_widget(
            Paragraph::new(lines).block(Block::bordered().title(title).border_style(theme.dim)),
            list,
        );
        let line = if self.sending {
            Line::styled("  saving…", theme.dim)
        } else if let Some(e) = &self.error {
            Line::styled(
                format!("  {}", usher_core::domain::sanitize::escape_for_display(e)),
                theme.error,
            )
        } else {
            Line::styled(
                "  tab: next field · space ticks · ^s saves · esc cancels",
                theme.dim,
            )
        };
        f.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), status);
    }

    /// A permission: ticked or not, its key, whether guests may not hold it, and what it
    /// allows.
    fn permission_line(&self, p: &Permission, theme: &Theme) -> Line<'static> {
        let tick = if self.ticked.contains(p) {
            "[x]"
        } else {
            "[ ]"
        };
        // Before the description, so a narrow screen cuts the words, not this.
        let guest = if p.guest_may_hold() {
            "           "
        } else {
            "not guests "
        };
        Line::from(vec![
            Span::raw(format!("{tick} {:<20} ", p.key())),
            Span::styled(guest, theme.warn),
            Span::styled(p.describe(), theme.dim),
        ])
    }
}

impl Default for RoleForm {
    fn default() -> Self {
        Self::new()
    }
}
