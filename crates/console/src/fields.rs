//! Pieces the popup forms share: a label beside a one-line text area.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui_textarea::TextArea;

use super::theme::Theme;

/// Draws `name` right-aligned in `width` columns, highlighted when `focused`, and returns
/// the area left beside it.
pub fn label(
    f: &mut Frame,
    area: Rect,
    name: &str,
    width: u16,
    focused: bool,
    theme: &Theme,
) -> Rect {
    let [l, r] = Layout::horizontal([Constraint::Length(width), Constraint::Fill(1)]).areas(area);
    let style = if focused { theme.key } else { theme.header };
    let w = width.saturating_sub(2) as usize;
    f.render_widget(Span::styled(format!("{name:>w$}: "), style), l);
    r
}

/// Draws a text area, its cursor shown only when `focused`. An empty one shows its hint
/// in the placeholder style and, when focused, the cursor on the hint's first cell, so
/// one always sees where typing goes.
pub fn text(f: &mut Frame, area: Rect, ta: &mut TextArea<'static>, focused: bool, theme: &Theme) {
    ta.set_cursor_line_style(Style::new());
    ta.set_placeholder_style(theme.placeholder);
    ta.set_cursor_style(if focused {
        theme.selected
    } else {
        Style::new()
    });
    f.render_widget(&*ta, area);
    let empty = ta.lines().iter().all(String::is_empty);
    if focused && empty && area.width > 0 && area.height > 0 {
        let inner = ta.block().map_or(area, |b| b.inner(area));
        if inner.width > 0 && inner.height > 0 {
            f.buffer_mut()[(inner.x, inner.y)].set_style(theme.selected);
        }
    }
}

/// A labelled one-line text field.
pub fn line(
    f: &mut Frame,
    area: Rect,
    name: &str,
    width: u16,
    ta: &mut TextArea<'static>,
    focused: bool,
    theme: &Theme,
) {
    let r = label(f, area, name, width, focused, theme);
    text(f, r, ta, focused, theme);
}

/// The professional / guest choice; professional greyed out, with why, when no licence
/// is free.
pub fn user_type(
    chosen: usher_core::domain::UserType,
    professional_unavailable: bool,
    theme: &Theme,
) -> ratatui::text::Line<'static> {
    use usher_core::domain::UserType;
    let mark = |on: bool| if on { "(•) " } else { "( ) " };
    let pro = if professional_unavailable {
        Span::styled("professional (no licence free)", theme.dim)
    } else {
        Span::raw("professional")
    };
    ratatui::text::Line::from(vec![
        Span::raw(mark(chosen == UserType::Professional)),
        pro,
        Span::raw("   "),
        Span::raw(mark(chosen == UserType::Guest)),
        Span::raw("guest"),
    ])
}
