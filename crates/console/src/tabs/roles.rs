//! The Roles tab (docs/rules.md#roles): the account's roles with what each allows and who
//! holds it, and a matrix of every role against every permission.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use super::{Cursor, Outcome};
use crate::action::Effect;
use crate::keymap::Cmd;
use crate::theme::Theme;
use usher_core::domain::Permission;
use usher_core::domain::sanitize::escape_for_display;
use usher_core::service::{RoleDetail, RoleView};

#[derive(Debug, Default)]
pub struct RolesTab {
    pub rows: Vec<RoleView>,
    pub cursor: Cursor,
    /// The selected role's members, loaded when the cursor rests on it.
    pub detail: Option<RoleDetail>,
    pub detail_generation: u64,
    /// Every role against every permission, instead of the list and one role's detail.
    pub matrix: bool,
    /// The matrix's first permission row shown (j/k scroll it; h/l move across roles).
    matrix_top: usize,
}

impl RolesTab {
    pub fn current(&self) -> Option<&RoleView> {
        self.rows.get(self.cursor.index)
    }

    pub fn loaded(&mut self, rows: Vec<RoleView>, generation: u64) -> Vec<Effect> {
        let keep = self.current().map(|r| r.role.name.clone());
        self.rows = rows;
        if let Some(pos) = keep.and_then(|n| self.rows.iter().position(|r| r.role.name == n)) {
            self.cursor.index = pos;
        }
        self.cursor.clamp(self.rows.len());
        // Members may have changed too: ask again, showing the old list until then.
        self.detail_effect(generation, true)
    }

    pub fn detail_loaded(
        &mut self,
        generation: u64,
        result: Result<RoleDetail, crate::failure::Failure>,
    ) {
        if generation == self.detail_generation {
            self.detail = result.ok();
        }
    }

    fn detail_effect(&mut self, generation: u64, again: bool) -> Vec<Effect> {
        let wanted = self
            .current()
            .filter(|r| {
                again
                    || self
                        .detail
                        .as_ref()
                        .is_none_or(|d| d.view.role.id != r.role.id)
            })
            .map(|r| r.role.name.clone());
        match wanted {
            Some(name) => {
                self.detail_generation = generation;
                vec![Effect::LoadRole { generation, name }]
            }
            None => Vec::new(),
        }
    }

    /// Refuses a system role for `verb`, saying why; else the custom role.
    fn custom(&self, verb: &str) -> Result<&RoleView, Outcome> {
        match self.current() {
            None => Err(Outcome::None),
            Some(r) if r.role.system => Err(Outcome::Message(format!(
                "{} is a system role and cannot be {verb}; n creates a custom role",
                r.role.name
            ))),
            Some(r) => Ok(r),
        }
    }

    pub fn command(&mut self, cmd: Cmd, page: usize, generation: u64) -> Outcome {
        let perms = Permission::ALL.len();
        match cmd {
            Cmd::Down if self.matrix => self.matrix_top = (self.matrix_top + 1).min(perms - 1),
            Cmd::Up if self.matrix => self.matrix_top = self.matrix_top.saturating_sub(1),
            Cmd::PageDown if self.matrix => {
                self.matrix_top = (self.matrix_top + page).min(perms - 1);
            }
            Cmd::PageUp if self.matrix => self.matrix_top = self.matrix_top.saturating_sub(page),
            Cmd::Top if self.matrix => self.matrix_top = 0,
            Cmd::Bottom if self.matrix => self.matrix_top = perms - 1,
            Cmd::ScrollRight if self.matrix => self.cursor.move_by(1, self.rows.len()),
            Cmd::ScrollLeft if self.matrix => self.cursor.move_by(-1, self.rows.len()),
            Cmd::ScrollRight | Cmd::ScrollLeft => {
                return Outcome::Message("h and l scroll the matrix (m opens it)".into());
            }
            Cmd::Back if self.matrix => self.matrix = false,
            c if self.cursor.navigate(c, page, self.rows.len()) => {}
            Cmd::Matrix => self.matrix = !self.matrix,
            Cmd::DeleteRole => {
                let r = match self.custom("deleted") {
                    Ok(r) => r,
                    Err(o) => return o,
                };
                let name = escape_for_display(&r.role.name);
                let prompt = if r.holders > 0 {
                    format!(
                        "Delete the role {name}? {} {} it and what it allows.",
                        super::plural(r.holders as usize, "holder"),
                        if r.holders == 1 { "loses" } else { "lose" }
                    )
                } else {
                    format!("Delete the role {name}? Nobody holds it.")
                };
                return Outcome::confirm(super::Ask::new(
                    prompt,
                    Effect::DeleteRole {
                        name: r.role.name.clone(),
                    },
                ));
            }
            _ => return Outcome::None,
        }
        let fx = self.detail_effect(generation, false);
        if fx.is_empty() {
            Outcome::None
        } else {
            Outcome::Effects(fx)
        }
    }

    /// The role to edit, or why it cannot be.
    pub fn editable(&self) -> Result<&RoleView, Outcome> {
        self.custom("edited")
    }

    pub fn render(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        if self.matrix {
            self.render_matrix(f, area, theme);
            return;
        }
        let [list, detail] = if area.width >= 100 {
            Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(area)
        } else {
            Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(area)
        };
        let height = list.height.saturating_sub(1) as usize;
        let start = self.cursor.window(height, self.rows.len());
        let rows = self
            .rows
            .iter()
            .enumerate()
            .skip(start)
            .take(height)
            .map(|(n, r)| {
                let row = Row::new(vec![
                    Cell::from(escape_for_display(&r.role.name)),
                    Cell::from(r.role.scope.clone()),
                    Cell::from(if r.role.system { "system" } else { "custom" }),
                    Cell::from(r.permissions.len().to_string()),
                    Cell::from(r.holders.to_string()),
                ]);
                super::highlight(row, n == self.cursor.index, theme)
            });
        let table = Table::new(
            rows,
            [
                Constraint::Fill(1),
                Constraint::Length(8),
                Constraint::Length(7),
                Constraint::Length(6),
                Constraint::Length(8),
            ],
        )
        .header(Row::new(["Role", "Scope", "Kind", "Perms", "Holders"]).style(theme.header))
        .column_spacing(1);
        f.render_widget(table, list);
        self.render_detail(f, detail, theme);
    }

    fn render_detail(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        let Some(r) = self.current() else {
            f.render_widget(Line::styled("No roles.", theme.dim), area);
            return;
        };
        let mut lines = vec![
            Line::styled(escape_for_display(&r.role.name), theme.title),
            Line::styled(escape_for_display(&r.role.description), theme.dim),
            Line::from(""),
        ];
        for p in Permission::ALL
            .iter()
            .filter(|p| p.scope().as_str() == r.role.scope)
        {
            let on = r.permissions.contains(p);
            lines.push(Line::from(vec![
                Span::styled(
                    if on { " ✓ " } else { " · " },
                    if on { theme.ok } else { theme.dim },
                ),
                Span::raw(format!("{:<20} ", p.key())),
                Span::styled(p.describe(), theme.dim),
            ]));
        }
        lines.push(Line::from(""));
        match self.detail.as_ref().filter(|d| d.view.role.id == r.role.id) {
            None => lines.push(Line::styled("members: loading…", theme.dim)),
            Some(d) => {
                lines.push(Line::styled(
                    format!("Members ({})", d.members.len()),
                    theme.header,
                ));
                for m in &d.members {
                    let mut text = format!("  {}", escape_for_display(&m.email));
                    if let Some(mb) = &m.mailbox {
                        text.push_str(&format!(" on {}", escape_for_display(mb)));
                    }
                    if m.invitation {
                        text.push_str(" (invitation)");
                    }
                    lines.push(Line::from(text));
                }
            }
        }
        f.render_widget(
            Paragraph::new(lines).block(Block::bordered().title(" Role ")),
            area,
        );
    }

    /// Permissions down the side, roles across the top: ✓ where the role allows it. The
    /// selected role's column is highlighted and its whole name shown above; h/l move
    /// across the roles, j/k down the permissions.
    fn render_matrix(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        let [title, table] =
            Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
        let col = 9u16;
        let fits = (area.width.saturating_sub(22) / (col + 1)).max(1) as usize;
        let start = self
            .cursor
            .index
            .saturating_sub(fits - 1)
            .min(self.rows.len().saturating_sub(fits));
        let roles: Vec<(usize, &RoleView)> = self
            .rows
            .iter()
            .enumerate()
            .skip(start)
            .take(fits)
            .collect();
        if let Some(r) = self.current() {
            let shown = format!(
                "{} · roles {}-{} of {} (h/l) · permissions {}-{} of {} (j/k) · esc leaves",
                escape_for_display(&r.role.name),
                start + 1,
                start + roles.len(),
                self.rows.len(),
                self.matrix_top + 1,
                (self.matrix_top + table.height.saturating_sub(1) as usize)
                    .min(Permission::ALL.len()),
                Permission::ALL.len()
            );
            f.render_widget(Line::styled(shown, theme.dim), title);
        }
        let mut header = vec![Cell::from("Permission")];
        header.extend(roles.iter().map(|(i, r)| {
            let name: String = escape_for_display(&r.role.name)
                .chars()
                .take(col as usize)
                .collect();
            let style = if *i == self.cursor.index {
                theme.selected
            } else {
                theme.header
            };
            Cell::from(Span::styled(name, style))
        }));
        let rows = Permission::ALL.iter().skip(self.matrix_top).map(|p| {
            let mut cells = vec![Cell::from(p.key())];
            cells.extend(roles.iter().map(|(_, r)| {
                if r.role.scope != p.scope().as_str() {
                    Cell::from(Span::styled("", theme.dim))
                } else if r.permissions.contains(p) {
                    Cell::from(Span::styled("✓", theme.ok))
                } else {
                    Cell::from(Span::styled("·", theme.dim))
                }
            }));
            Row::new(cells)
        });
        let mut widths = vec![Constraint::Length(20)];
        widths.extend(roles.iter().map(|_| Constraint::Length(col)));
        f.render_widget(
            Table::new(rows, widths)
                .header(Row::new(header).style(theme.header))
                .column_spacing(1),
            table,
        );
    }
}
