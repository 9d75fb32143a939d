//! One file per tab: its state, what its keys do, and how it is drawn.

pub mod domains;
pub mod import;
pub mod invitations;
pub mod roles;
pub mod sync;
pub mod users;

use std::cell::Cell;

use ratatui::widgets::Row;

use super::effect::Effect;
pub use super::effect::{Ask, TYPE_THE_COUNT_ABOVE};
use super::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Invitations,
    Users,
    Import,
    Roles,
    Domains,
    Sync,
}

impl Tab {
    pub const ALL: [Tab; 6] = [
        Tab::Invitations,
        Tab::Users,
        Tab::Import,
        Tab::Roles,
        Tab::Domains,
        Tab::Sync,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Invitations => "Invitations",
            Tab::Users => "Users",
            Tab::Import => "Import",
            Tab::Roles => "Roles",
            Tab::Domains => "Domains",
            Tab::Sync => "Sync",
        }
    }

    /// The tab `by` places along, wrapping round.
    pub fn step(self, by: isize) -> Tab {
        let n = Tab::ALL.len() as isize;
        let i = Tab::ALL.iter().position(|t| *t == self).unwrap_or(0) as isize;
        Tab::ALL[(i + by).rem_euclid(n) as usize]
    }
}

#[derive(Debug, Clone, Default)]
pub struct Detail {
    pub title: String,
    /// Name and value, both untrusted text escaped when drawn.
    pub fields: Vec<(String, String)>,
    pub scroll: u16,
}

/// 1204 -> "1,204".
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// The row under the cursor, highlighted.
pub fn highlight<'a>(row: Row<'a>, under_cursor: bool, theme: &Theme) -> Row<'a> {
    if under_cursor {
        row.style(theme.selected)
    } else {
        row
    }
}

/// A table column: its header, its width, the least it can be drawn in, and how early
/// it gives way when the terminal is narrow (0 never; higher numbers go first).
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub header: &'static str,
    pub width: ratatui::layout::Constraint,
    pub min: u16,
    pub gives_way: u8,
}

impl Col {
    pub const fn new(
        header: &'static str,
        width: ratatui::layout::Constraint,
        min: u16,
        gives_way: u8,
    ) -> Self {
        Self {
            header,
            width,
            min,
            gives_way,
        }
    }
}

/// The columns that fit in `width` (with one space between each), in their own order:
/// those that give way first are left out first, so the address stays whole longest.
pub fn fit(cols: &[Col], width: u16) -> Vec<usize> {
    let mut order: Vec<usize> = (0..cols.len()).collect();
    order.sort_by_key(|&i| (cols[i].gives_way, i));
    let mut kept = Vec::new();
    let mut used = 0u16;
    for i in order {
        let need = cols[i].min + u16::from(!kept.is_empty());
        if cols[i].gives_way > 0 && used + need > width {
            continue;
        }
        used += need;
        kept.push(i);
    }
    kept.sort_unstable();
    kept
}

/// The columns that fit in `width` with column `at` (the address) shown whole as far as
/// it can be: it asks for its widest value shown (`widest`, at most 60 % of the table)
/// before the columns that give way are chosen, then takes what they leave.
pub fn fit_widening(cols: &mut [Col], at: usize, widest: usize, width: u16) -> Vec<usize> {
    let widest = u16::try_from(widest).unwrap_or(u16::MAX);
    cols[at].min = widest.min(width / 5 * 3).max(cols[at].min);
    let kept = fit(cols, width);
    let others: u16 = kept
        .iter()
        .filter(|&&i| i != at)
        .map(|&i| cols[i].min + 1)
        .sum();
    let w = widest.min(width.saturating_sub(others)).max(cols[at].min);
    cols[at].width = ratatui::layout::Constraint::Length(w);
    kept
}

/// Scrolls a bordered paragraph of `area` to `at`, kept within its text; the scroll to
/// use and whether text remains below the view.
pub fn scroll_within(
    p: &ratatui::widgets::Paragraph,
    area: ratatui::layout::Rect,
    at: u16,
) -> (u16, bool) {
    let inner = area.height.saturating_sub(2);
    let total = u16::try_from(p.line_count(area.width.saturating_sub(2))).unwrap_or(u16::MAX);
    let at = at.min(total.saturating_sub(inner));
    (at, total > inner + at)
}

/// A table of the kept columns: their headers and widths.
pub fn columns(
    cols: &[Col],
    kept: &[usize],
) -> (Vec<&'static str>, Vec<ratatui::layout::Constraint>) {
    kept.iter()
        .map(|&i| (cols[i].header, cols[i].width))
        .unzip()
}

/// The kept cells of a row drawn for every column.
pub fn keep<'a>(
    cells: Vec<ratatui::widgets::Cell<'a>>,
    kept: &[usize],
) -> Vec<ratatui::widgets::Cell<'a>> {
    cells
        .into_iter()
        .enumerate()
        .filter(|(i, _)| kept.contains(i))
        .map(|(_, c)| c)
        .collect()
}

/// What a tab's command asks of the app.
#[derive(Debug)]
pub enum Outcome {
    None,
    Message(String),
    Effects(Vec<Effect>),
    /// Ask first (dangerous and bulk actions), then run the effect.
    Confirm(Box<Ask>),
    /// Show one item whole, in a popup.
    Show(crate::tabs::Detail),
}

impl Outcome {
    pub fn confirm(ask: Ask) -> Self {
        Outcome::Confirm(Box::new(ask))
    }
}

/// "1 user", "1,204 users" ("mailbox" takes "es").
pub fn plural(n: usize, one: &str) -> String {
    let many = if one.ends_with('x') { "es" } else { "s" };
    if n == 1 {
        format!("1 {one}")
    } else {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        format!("{} {one}{many}", thousands(n))
    }
}

/// The first few names of a set and how many more: "ann@x, bob@x, carol@x and 9 more".
pub fn first_few<'a>(names: impl IntoIterator<Item = &'a str>, total: usize) -> String {
    const FEW: usize = 3;
    let shown: Vec<String> = names
        .into_iter()
        .take(FEW)
        .map(usher_core::domain::sanitize::escape_for_display)
        .collect();
    match total.saturating_sub(shown.len()) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// A cursor over rows with a scroll offset that follows it. Only the rows in view are
/// handed to ratatui, whatever the number loaded.
#[derive(Debug, Default)]
pub struct Cursor {
    pub index: usize,
    offset: Cell<usize>,
}

impl Cursor {
    pub fn clamp(&mut self, len: usize) {
        self.index = self.index.min(len.saturating_sub(1));
    }

    pub fn move_by(&mut self, delta: isize, len: usize) {
        let max = len.saturating_sub(1) as isize;
        self.index = (self.index as isize + delta).clamp(0, max.max(0)) as usize;
    }

    /// The first row to draw so that the cursor is in a window of `height` rows. The
    /// window never starts so late that rows are left blank below the list's end: a list
    /// that shrank (a search, a filter) is shown from as early as it can be.
    pub fn window(&self, height: usize, len: usize) -> usize {
        let index = self.index.min(len.saturating_sub(1));
        let mut off = self.offset.get().min(len.saturating_sub(height));
        if index < off {
            off = index;
        } else if height > 0 && index >= off + height {
            off = index + 1 - height;
        }
        self.offset.set(off);
        off
    }

    /// Moves for the keys every list shares; false when `cmd` is not one of them.
    pub fn navigate(&mut self, cmd: super::keymap::Cmd, page: usize, len: usize) -> bool {
        use super::keymap::Cmd;
        match cmd {
            Cmd::Down => self.move_by(1, len),
            Cmd::Up => self.move_by(-1, len),
            Cmd::PageDown => self.move_by(page as isize, len),
            Cmd::PageUp => self.move_by(-(page as isize), len),
            Cmd::Top => self.index = 0,
            Cmd::Bottom => self.index = len.saturating_sub(1),
            _ => return false,
        }
        true
    }

    pub fn shift(&mut self, by: isize) {
        self.index = (self.index as isize + by).max(0) as usize;
        self.offset
            .set((self.offset.get() as isize + by).max(0) as usize);
    }
}

#[cfg(test)]
mod tests {
    use super::Cursor;

    #[test]
    fn a_shrinking_list_is_shown_from_its_start() {
        let mut c = Cursor {
            index: 27,
            ..Cursor::default()
        };
        assert_eq!(c.window(18, 28), 10, "the cursor on the last row");
        c.clamp(10);
        assert_eq!(c.index, 9);
        assert_eq!(c.window(18, 10), 0, "ten rows fit: none left blank above");
        c.index = 40;
        c.clamp(100);
        assert_eq!(c.window(18, 100), 23);
        c.clamp(30);
        assert_eq!(c.window(18, 30), 12, "the window ends at the list's end");
    }
}
