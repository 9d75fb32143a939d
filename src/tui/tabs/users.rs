//! The Users tab (seed 000): every user, searchable, with a detail pane. Rows are read a
//! page at a time by address (keyset), and at most `MAX_ROWS` are held, so the console's
//! memory does not grow with the number of users.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

use super::{Cursor, Outcome};
use crate::domain::sanitize::escape_for_display;
use crate::domain::{Timestamp, UserStatus, UserType};
use crate::service::UserDetail;
use crate::store::User;
use crate::tui::action::{Effect, UserPage};
use crate::tui::keymap::Cmd;
use crate::tui::theme::Theme;

pub const PAGE: i64 = 200;
pub const MAX_ROWS: usize = 1000;
/// Load the next page when the cursor comes this close to the end of the window.
const MARGIN: usize = 20;

#[derive(Debug, Default)]
pub struct UsersTab {
    pub rows: Vec<User>,
    pub cursor: Cursor,
    pub search: String,
    pub generation: u64,
    pub loading: bool,
    /// The window holds the first (last) user matching the search.
    pub at_start: bool,
    pub at_end: bool,
    pub show_detail: bool,
    pub detail: Option<UserDetail>,
    pub detail_generation: u64,
}

impl UsersTab {
    fn load(&mut self, generation: u64, page: UserPage, limit: i64) -> Effect {
        self.generation = generation;
        self.loading = true;
        Effect::LoadUsers {
            generation,
            search: self.search.clone(),
            page,
            limit,
        }
    }

    /// From the first user matching the search.
    pub fn reload(&mut self, generation: u64, _page_rows: usize) -> Effect {
        self.load(generation, UserPage::First, PAGE)
    }

    /// The same window again (another admin may have changed it).
    pub fn refresh(&mut self, generation: u64, _page_rows: usize) -> Effect {
        match (self.at_start, self.rows.first()) {
            (false, Some(first)) => {
                let from = first.email.clone();
                let limit = (self.rows.len() as i64).max(PAGE);
                self.load(generation, UserPage::From(from), limit)
            }
            _ => self.load(
                generation,
                UserPage::First,
                (self.rows.len() as i64).max(PAGE),
            ),
        }
    }

    pub fn current(&self) -> Option<&User> {
        self.rows.get(self.cursor.index)
    }

    pub fn detail_id(&self) -> Option<i64> {
        if self.show_detail {
            self.current().map(|u| u.id)
        } else {
            None
        }
    }

    pub fn loaded(
        &mut self,
        generation: u64,
        page: UserPage,
        result: Result<Vec<User>, String>,
    ) -> Result<Vec<Effect>, String> {
        if generation != self.generation {
            return Ok(Vec::new());
        }
        self.loading = false;
        let rows = result?;
        let full = rows.len() as i64 >= PAGE;
        let keep = self.current().map(|u| u.email.clone());
        match page {
            UserPage::First | UserPage::From(_) => {
                if page == UserPage::First {
                    self.at_start = true;
                }
                self.at_end = (rows.len() as i64) < (self.rows.len() as i64).max(PAGE);
                self.rows = rows;
                match keep.and_then(|e| self.rows.iter().position(|u| u.email == e)) {
                    Some(pos) => self.cursor.index = pos,
                    None => self.cursor.clamp(self.rows.len()),
                }
            }
            UserPage::After(_) => {
                self.at_end = !full;
                self.rows.extend(rows);
                let excess = self.rows.len().saturating_sub(MAX_ROWS);
                if excess > 0 {
                    self.rows.drain(..excess);
                    self.cursor.shift(-(excess as isize));
                    self.at_start = false;
                }
            }
            UserPage::Before(_) => {
                self.at_start = !full;
                let n = rows.len();
                self.rows.splice(0..0, rows);
                self.cursor.shift(n as isize);
                if self.rows.len() > MAX_ROWS {
                    self.rows.truncate(MAX_ROWS);
                    self.at_end = false;
                }
            }
            UserPage::Last => {
                self.at_end = true;
                self.at_start = !full;
                self.rows = rows;
                self.cursor.index = self.rows.len().saturating_sub(1);
            }
        }
        self.cursor.clamp(self.rows.len());
        Ok(self.detail_effect())
    }

    pub fn detail_loaded(
        &mut self,
        generation: u64,
        result: Result<UserDetail, String>,
    ) -> Result<(), String> {
        if generation == self.detail_generation {
            self.detail = Some(result?);
        }
        Ok(())
    }

    fn detail_effect(&mut self) -> Vec<Effect> {
        match self.detail_id() {
            Some(id) if self.detail.as_ref().is_none_or(|d| d.user.id != id) => {
                self.detail_generation += 1;
                vec![Effect::LoadUserDetail {
                    generation: self.detail_generation,
                    id,
                }]
            }
            _ => Vec::new(),
        }
    }

    /// After a move: more rows if the cursor nears an edge of the window, and the detail.
    fn after_move(&mut self, generation: u64) -> Outcome {
        let mut fx = Vec::new();
        if !self.loading {
            if !self.at_end && self.cursor.index + MARGIN >= self.rows.len() {
                if let Some(last) = self.rows.last() {
                    let after = last.email.clone();
                    fx.push(self.load(generation, UserPage::After(after), PAGE));
                }
            } else if !self.at_start
                && self.cursor.index < MARGIN
                && let Some(first) = self.rows.first()
            {
                let before = first.email.clone();
                fx.push(self.load(generation, UserPage::Before(before), PAGE));
            }
        }
        fx.extend(self.detail_effect());
        if fx.is_empty() {
            Outcome::None
        } else {
            Outcome::Effects(fx)
        }
    }

    pub fn command(&mut self, cmd: Cmd, page: usize, generation: u64) -> Outcome {
        let len = self.rows.len();
        match cmd {
            Cmd::Down => self.cursor.move_by(1, len),
            Cmd::Up => self.cursor.move_by(-1, len),
            Cmd::PageDown => self.cursor.move_by(page as isize, len),
            Cmd::PageUp => self.cursor.move_by(-(page as isize), len),
            Cmd::Top => {
                if !self.at_start {
                    return Outcome::Effects(vec![self.load(generation, UserPage::First, PAGE)]);
                }
                self.cursor.index = 0;
            }
            Cmd::Bottom => {
                if !self.at_end {
                    return Outcome::Effects(vec![self.load(generation, UserPage::Last, PAGE)]);
                }
                self.cursor.index = len.saturating_sub(1);
            }
            Cmd::Detail => {
                self.show_detail = !self.show_detail;
                self.detail = None;
            }
            Cmd::Back => {
                if self.show_detail {
                    self.show_detail = false;
                } else if !self.search.is_empty() {
                    self.search.clear();
                    return Outcome::Effects(vec![self.reload(generation, page)]);
                }
                return Outcome::None;
            }
            Cmd::ToggleType => {
                let Some(u) = self.current() else {
                    return Outcome::None;
                };
                let to = match u.user_type {
                    UserType::Professional => UserType::Guest,
                    UserType::Guest => UserType::Professional,
                };
                return Outcome::Effects(vec![Effect::SetUserType(u.id, to)]);
            }
            Cmd::Suspend => {
                let Some(u) = self.current() else {
                    return Outcome::None;
                };
                return Outcome::Confirm(
                    format!(
                        "Suspend {}? They keep their data but cannot sign in.",
                        escape_for_display(&u.email_display)
                    ),
                    Effect::Suspend(u.id),
                );
            }
            Cmd::Reactivate => {
                let Some(u) = self.current() else {
                    return Outcome::None;
                };
                return Outcome::Effects(vec![Effect::Reactivate(u.id)]);
            }
            Cmd::Remove => {
                let Some(u) = self.current() else {
                    return Outcome::None;
                };
                return Outcome::Confirm(
                    format!(
                        "Remove {} from the account? This cannot be undone.",
                        escape_for_display(&u.email_display)
                    ),
                    Effect::Remove(u.id),
                );
            }
            Cmd::CopyAddress => {
                if let Some(u) = self.current() {
                    return Outcome::Effects(vec![Effect::Copy(u.email_display.clone())]);
                }
                return Outcome::None;
            }
            _ => return Outcome::None,
        }
        self.after_move(generation)
    }

    pub fn render(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        let (table_area, detail_area) = if self.show_detail {
            if area.width >= 110 {
                let [a, b] =
                    Layout::horizontal([Constraint::Fill(3), Constraint::Fill(2)]).areas(area);
                (a, Some(b))
            } else {
                let [a, b] =
                    Layout::vertical([Constraint::Fill(1), Constraint::Length(10)]).areas(area);
                (a, Some(b))
            }
        } else {
            (area, None)
        };
        if self.rows.is_empty() {
            let text = if self.loading {
                "loading…"
            } else if self.search.is_empty() {
                "No users yet."
            } else {
                "No user matches. Esc clears the search."
            };
            f.render_widget(Paragraph::new(Line::styled(text, theme.dim)), table_area);
        } else {
            let wide = table_area.width >= 100;
            let mut header = vec!["Address", "First name", "Last name", "Type", "Status"];
            let mut widths = vec![
                Constraint::Fill(3),
                Constraint::Fill(2),
                Constraint::Fill(2),
                Constraint::Length(12),
                Constraint::Length(9),
            ];
            if wide {
                header.push("Unique ref");
                widths.push(Constraint::Fill(2));
            }
            let height = table_area.height.saturating_sub(1) as usize;
            let start = self.cursor.window(height, self.rows.len());
            let rows = self
                .rows
                .iter()
                .enumerate()
                .skip(start)
                .take(height)
                .map(|(n, u)| {
                    let mut cells = vec![
                        Cell::from(escape_for_display(&u.email_display)),
                        Cell::from(escape_for_display(&u.first_name)),
                        Cell::from(escape_for_display(&u.last_name)),
                        Cell::from(u.user_type.as_str()),
                        Cell::from(Span::styled(
                            u.status.as_str(),
                            if u.status == UserStatus::Suspended {
                                theme.warn
                            } else {
                                ratatui::style::Style::new()
                            },
                        )),
                    ];
                    if wide {
                        cells.push(Cell::from(escape_for_display(
                            u.unique_ref.as_deref().unwrap_or_default(),
                        )));
                    }
                    let row = Row::new(cells);
                    super::highlight(row, n == self.cursor.index, theme)
                });
            let table = Table::new(rows, widths)
                .header(Row::new(header).style(theme.header))
                .column_spacing(1);
            f.render_widget(table, table_area);
        }
        if let Some(area) = detail_area {
            self.render_detail(f, area, theme);
        }
    }

    fn render_detail(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        let block = Block::bordered().title(" Detail ");
        let lines: Vec<Line> = match &self.detail {
            None => vec![Line::styled("loading…", theme.dim)],
            Some(d) => {
                let u = &d.user;
                let mut l = vec![
                    Line::from(vec![Span::styled(
                        escape_for_display(&u.email_display),
                        theme.title,
                    )]),
                    field("Name", &escape_for_display(&u.display_name)),
                    field("Type", u.user_type.as_str()),
                    field("Status", u.status.as_str()),
                    field(
                        "Unique ref",
                        &escape_for_display(u.unique_ref.as_deref().unwrap_or("—")),
                    ),
                    field("Created", &Timestamp(u.created_at).human()),
                    Line::from(""),
                ];
                l.push(Line::styled(
                    format!("Roles and permissions ({})", d.grants.len()),
                    theme.header,
                ));
                for g in &d.grants {
                    l.push(Line::from(format!("  {}", escape_for_display(&g.label()))));
                }
                if d.grants.is_empty() {
                    l.push(Line::styled("  none; + grants one", theme.dim));
                }
                l.push(Line::from(""));
                l.push(Line::styled(
                    format!("Invitations sent ({})", d.invitations.len()),
                    theme.header,
                ));
                for i in &d.invitations {
                    l.push(Line::from(format!(
                        "  {} {} by {}",
                        Timestamp(i.created_at).human(),
                        i.status,
                        escape_for_display(&i.inviter)
                    )));
                }
                l
            }
        };
        f.render_widget(
            Paragraph::new(lines)
                .block(block)
                .wrap(Wrap { trim: false }),
            area,
        );
    }
}

fn field(name: &str, value: &str) -> Line<'static> {
    Line::from(format!("{name:<11} {value}"))
}
