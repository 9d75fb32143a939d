//! One file per tab: its state, what its keys do, and how it is drawn.

pub mod domains;
pub mod import;
pub mod invitations;
pub mod roles;
pub mod users;

use std::cell::Cell;

use ratatui::widgets::Row;

use super::action::Effect;
use super::theme::Theme;

/// The row under the cursor, highlighted.
pub fn highlight<'a>(row: Row<'a>, under_cursor: bool, theme: &Theme) -> Row<'a> {
    if under_cursor {
        row.style(theme.selected)
    } else {
        row
    }
}

/// What a tab's command asks of the app.
#[derive(Debug)]
pub enum Outcome {
    None,
    Message(String),
    Effects(Vec<Effect>),
    /// Ask first (dangerous actions), then run the effect.
    Confirm(String, Effect),
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

    /// The first row to draw so that the cursor is in a window of `height` rows.
    pub fn window(&self, height: usize, len: usize) -> usize {
        let mut off = self.offset.get().min(len.saturating_sub(1));
        if self.index < off {
            off = self.index;
        } else if height > 0 && self.index >= off + height {
            off = self.index + 1 - height;
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
