//! The Users tab (docs/rules.md#users): every user, searchable, with a detail pane. Rows
//! are read a page at a time by address (keyset), and at most `MAX_ROWS` are held, so the
//! console's memory does not grow with the number of users.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

use std::collections::BTreeMap;

use super::{Ask, Col, Cursor, Outcome, columns, first_few, fit_widening, keep, plural};
use crate::action::{Effect, UserPage};
use crate::keymap::Cmd;
use crate::theme::Theme;
use usher_core::domain::sanitize::escape_for_display;
use usher_core::domain::{Timestamp, UserStatus, UserType};
use usher_core::service::UserDetail;
use usher_core::store::User;

pub const PAGE: i64 = 200;
pub const MAX_ROWS: usize = 1000;
/// Load the next page when the cursor comes this close to the end of the window.
const MARGIN: usize = 20;

#[derive(Debug, Default)]
pub struct UsersTab {
    pub rows: Vec<User>,
    pub cursor: Cursor,
    /// Marked users, kept as they were read so that the marks outlive the window's
    /// pages; cleared when the action on them succeeds.
    pub marked: BTreeMap<i64, User>,
    pub search: String,
    pub generation: u64,
    pub loading: bool,
    /// The window holds the first (last) user matching the search.
    pub at_start: bool,
    pub at_end: bool,
    pub show_detail: bool,
    pub detail: Option<UserDetail>,
    pub detail_generation: u64,
    /// Rows still to move once the next page arrives: a page move past the rows held
    /// goes on where the window's next page begins, so paging feels like one list.
    pending: isize,
    /// The next first page puts the cursor on the first row (`g`), not where it was.
    to_top: bool,
    /// How far the detail pane is scrolled (J/K); the view keeps it within the text.
    detail_scroll: std::cell::Cell<u16>,
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

    /// Takes a page of users; `next_generation` is for the page it may ask for next
    /// (when the cursor has come near the window's edge).
    pub fn loaded(
        &mut self,
        generation: u64,
        page: UserPage,
        result: Result<Vec<User>, crate::failure::Failure>,
        next_generation: u64,
        page_rows: usize,
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
                let to_top = std::mem::take(&mut self.to_top);
                let keep = keep.filter(|_| !to_top);
                match keep.and_then(|e| self.rows.iter().position(|u| u.email == e)) {
                    Some(pos) => self.cursor.index = pos,
                    None if to_top => self.cursor.index = 0,
                    None => self.cursor.clamp(self.rows.len()),
                }
                self.pending = 0;
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
                self.pending = 0;
            }
        }
        self.cursor.clamp(self.rows.len());
        let pending = std::mem::take(&mut self.pending);
        if pending != 0 {
            self.move_by(pending);
        }
        match self.after_move(next_generation, page_rows) {
            Outcome::Effects(fx) => Ok(fx),
            _ => Ok(Vec::new()),
        }
    }

    /// Moves the cursor; what goes past the rows held waits for the next page.
    fn move_by(&mut self, delta: isize) {
        let len = self.rows.len() as isize;
        let target = self.cursor.index as isize + delta;
        if target >= len && !self.at_end {
            self.pending = target - (len - 1).max(0);
        } else if target < 0 && !self.at_start {
            self.pending = target;
        }
        self.cursor.move_by(delta, self.rows.len());
    }

    pub fn detail_loaded(
        &mut self,
        generation: u64,
        result: Result<UserDetail, crate::failure::Failure>,
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

    /// After a move: more rows if the cursor nears an edge of the window (two pages
    /// ahead, so that paging never waits), and the detail.
    fn after_move(&mut self, generation: u64, page_rows: usize) -> Outcome {
        let margin = MARGIN.max(2 * page_rows);
        let mut fx = Vec::new();
        if !self.loading {
            if !self.at_end && self.cursor.index + margin >= self.rows.len() {
                if let Some(last) = self.rows.last() {
                    let after = last.email.clone();
                    fx.push(self.load(generation, UserPage::After(after), PAGE));
                }
            } else if !self.at_start
                && self.cursor.index < margin
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

    /// The marked users, else the one under the cursor.
    fn targets(&self) -> Vec<&User> {
        if self.marked.is_empty() {
            self.current().into_iter().collect()
        } else {
            self.marked.values().collect()
        }
    }

    /// A change of users, asked first when it touches several (or removes anyone). Users
    /// it would not change (already suspended, already a guest) are left out and said so.
    fn change(&self, cmd: Cmd) -> Outcome {
        let all = self.targets();
        let Some(first) = all.first() else {
            return Outcome::Message("no user selected".into());
        };
        let to_type = match first.user_type {
            UserType::Professional => UserType::Guest,
            UserType::Guest => UserType::Professional,
        };
        let applies = |u: &&User| match cmd {
            Cmd::ToggleType => u.user_type != to_type,
            Cmd::Suspend => u.status != UserStatus::Suspended,
            Cmd::Reactivate => u.status == UserStatus::Suspended,
            Cmd::ResetPassword => u.status == UserStatus::Active,
            _ => true,
        };
        let users: Vec<&User> = all.iter().copied().filter(applies).collect();
        let skipped = all.len() - users.len();
        let (verb, already) = match cmd {
            Cmd::ToggleType => (format!("Make {to_type}"), format!("already {to_type}")),
            Cmd::Suspend => ("Suspend".to_owned(), "already suspended".to_owned()),
            Cmd::Reactivate => ("Reactivate".to_owned(), "already active".to_owned()),
            Cmd::ResetPassword => (
                "Mail a link to choose a new password to".to_owned(),
                "suspended".to_owned(),
            ),
            _ => ("Remove".to_owned(), String::new()),
        };
        if users.is_empty() {
            return Outcome::Message(match all.as_slice() {
                [u] => format!("{} is {already}", escape_for_display(&u.email_display)),
                _ => format!("all {} are {already}", plural(all.len(), "marked user")),
            });
        }
        let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
        let n = ids.len();
        let effect = match cmd {
            Cmd::ToggleType => Effect::SetUserType(ids, to_type),
            Cmd::Suspend => Effect::Suspend(ids),
            Cmd::Reactivate => Effect::Reactivate(ids),
            Cmd::ResetPassword => Effect::SendPasswordReset(ids),
            _ => Effect::Remove(ids),
        };
        let one_harmless = n == 1 && matches!(cmd, Cmd::ToggleType | Cmd::Reactivate);
        if one_harmless && skipped == 0 {
            return Outcome::Effects(vec![effect]);
        }
        let who = first_few(users.iter().map(|u| u.email_display.as_str()), n);
        let what = if n == 1 {
            who
        } else {
            format!("{} ({who})", plural(n, "user"))
        };
        let consequence = match cmd {
            Cmd::Suspend => " They keep their data but cannot sign in.",
            Cmd::ResetPassword => {
                " A password they have keeps working until they choose a new one."
            }
            Cmd::Remove => " This cannot be undone.",
            Cmd::ToggleType if to_type == UserType::Professional => " Each takes a licence.",
            _ => "",
        };
        let left = if skipped > 0 {
            format!(" {skipped} {already} are left as they are.")
        } else {
            String::new()
        };
        let prompt = if cmd == Cmd::Remove {
            format!("Remove {what} from the account?{consequence}{left}")
        } else {
            format!("{verb} {what}?{consequence}{left}")
        };
        let ask = Ask::new(prompt, effect);
        Outcome::confirm(if cmd == Cmd::Remove {
            ask.removing(n)
        } else {
            ask
        })
    }

    pub fn command(&mut self, cmd: Cmd, page: usize, generation: u64) -> Outcome {
        let len = self.rows.len();
        match cmd {
            Cmd::Down => self.move_by(1),
            Cmd::Up => self.move_by(-1),
            Cmd::PageDown => self.move_by(page as isize),
            Cmd::PageUp => self.move_by(-(page as isize)),
            Cmd::Top => {
                self.pending = 0;
                if !self.at_start {
                    self.to_top = true;
                    return Outcome::Effects(vec![self.load(generation, UserPage::First, PAGE)]);
                }
                self.cursor.index = 0;
            }
            Cmd::Bottom => {
                self.pending = 0;
                if !self.at_end {
                    return Outcome::Effects(vec![self.load(generation, UserPage::Last, PAGE)]);
                }
                self.cursor.index = len.saturating_sub(1);
            }
            Cmd::Detail => {
                self.show_detail = !self.show_detail;
                self.detail = None;
                self.detail_scroll.set(0);
            }
            Cmd::DetailDown | Cmd::DetailUp => {
                let at = self.detail_scroll.get();
                self.detail_scroll.set(if cmd == Cmd::DetailDown {
                    at.saturating_add(3)
                } else {
                    at.saturating_sub(3)
                });
                return Outcome::None;
            }
            Cmd::Back => {
                if self.show_detail {
                    self.show_detail = false;
                } else if !self.marked.is_empty() {
                    self.marked.clear();
                } else if !self.search.is_empty() {
                    self.search.clear();
                    return Outcome::Effects(vec![self.reload(generation, page)]);
                }
                return Outcome::None;
            }
            Cmd::Mark => {
                if let Some(u) = self.current().cloned()
                    && self.marked.remove(&u.id).is_none()
                {
                    self.marked.insert(u.id, u);
                }
                self.move_by(1);
            }
            Cmd::MarkAll => {
                if self.rows.iter().all(|u| self.marked.contains_key(&u.id)) {
                    self.marked.clear();
                } else {
                    self.marked
                        .extend(self.rows.iter().map(|u| (u.id, u.clone())));
                }
            }
            Cmd::ToggleType | Cmd::Suspend | Cmd::Reactivate | Cmd::Remove | Cmd::ResetPassword => {
                return self.change(cmd);
            }
            Cmd::CopyAddress => {
                if let Some(u) = self.current() {
                    return Outcome::Effects(vec![Effect::Copy(u.email_display.clone())]);
                }
                return Outcome::None;
            }
            _ => return Outcome::None,
        }
        self.after_move(generation, page)
    }

    pub fn render(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        let (table_area, detail_area) = if self.show_detail {
            if area.width >= 110 {
                let [a, b] =
                    Layout::horizontal([Constraint::Fill(3), Constraint::Fill(2)]).areas(area);
                (a, Some(b))
            } else {
                // Narrow: the detail gets the larger share; J/K scroll what does not fit.
                let [a, b] =
                    Layout::vertical([Constraint::Fill(2), Constraint::Fill(3)]).areas(area);
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
            let height = table_area.height.saturating_sub(1) as usize;
            let start = self.cursor.window(height, self.rows.len());
            let mut cols = [
                Col::new("", Constraint::Length(1), 1, 0),
                Col::new("Address", Constraint::Fill(3), 20, 0),
                Col::new("First name", Constraint::Fill(2), 10, 3),
                Col::new("Last name", Constraint::Fill(2), 10, 4),
                Col::new("Type", Constraint::Length(12), 12, 2),
                Col::new("Status", Constraint::Length(9), 9, 1),
                Col::new("Unique ref", Constraint::Fill(2), 12, 5),
            ];
            let widest = self.rows.iter().skip(start).take(height);
            let widest = widest.map(|u| escape_for_display(&u.email_display).chars().count());
            let widest = widest.max().unwrap_or(0);
            let kept = fit_widening(&mut cols, 1, widest, table_area.width);
            let (header, widths) = columns(&cols, &kept);
            let rows = self
                .rows
                .iter()
                .enumerate()
                .skip(start)
                .take(height)
                .map(|(n, u)| {
                    let marked = self.marked.contains_key(&u.id);
                    let cells = vec![
                        Cell::from(if marked { "●" } else { " " }),
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
                        Cell::from(escape_for_display(
                            u.unique_ref.as_deref().unwrap_or_default(),
                        )),
                    ];
                    let mut row = Row::new(keep(cells, &kept));
                    if marked {
                        row = row.style(theme.marked);
                    }
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
                    mail_login(d.mail.as_ref(), theme),
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
        let p = Paragraph::new(lines).wrap(Wrap { trim: false });
        let (scroll, more) = super::scroll_within(&p, area, self.detail_scroll.get());
        self.detail_scroll.set(scroll);
        let block = if more {
            block.title_bottom(" J more ")
        } else {
            block
        };
        f.render_widget(p.scroll((scroll, 0)).block(block), area);
    }
}

fn field(name: &str, value: &str) -> Line<'static> {
    Line::from(format!("{name:<11} {value}"))
}

/// Whether the mail server lets them log in, and why not (docs/mailserver.md).
fn mail_login(m: Option<&usher_core::store::MailLogin>, theme: &Theme) -> Line<'static> {
    match m {
        Some(m) if m.may_login => field("Mail login", "yes"),
        Some(m) => Line::from(vec![
            Span::raw(format!("{:<11} ", "Mail login")),
            Span::styled(format!("no: {}", m.reason), theme.warn),
        ]),
        None => field("Mail login", "—"),
    }
}
