//! Styles: a default that reads well in 16 colours, and none at all under NO_COLOR
//! (selection and emphasis then use reverse and bold, which every terminal has).

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub title: Style,
    pub header: Style,
    pub selected: Style,
    pub marked: Style,
    pub dim: Style,
    pub error: Style,
    pub ok: Style,
    pub warn: Style,
    pub key: Style,
    pub tab_active: Style,
    /// An empty field's hint: it must never read as a value, with or without colour.
    pub placeholder: Style,
}

impl Theme {
    pub fn from_env() -> Self {
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            Self::plain()
        } else {
            Self::colour()
        }
    }

    pub fn colour() -> Self {
        Self {
            title: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            header: Style::new().add_modifier(Modifier::BOLD),
            selected: Style::new().add_modifier(Modifier::REVERSED),
            marked: Style::new().fg(Color::Yellow),
            dim: Style::new().fg(Color::DarkGray),
            error: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            ok: Style::new().fg(Color::Green),
            warn: Style::new().fg(Color::Yellow),
            key: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            tab_active: Style::new()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
            placeholder: Style::new()
                .fg(Color::DarkGray)
                .add_modifier(Modifier::ITALIC),
        }
    }

    pub fn plain() -> Self {
        let none = Style::new();
        Self {
            title: none.add_modifier(Modifier::BOLD),
            header: none.add_modifier(Modifier::BOLD),
            selected: none.add_modifier(Modifier::REVERSED),
            marked: none.add_modifier(Modifier::BOLD),
            dim: none,
            error: none.add_modifier(Modifier::BOLD),
            ok: none,
            warn: none,
            key: none.add_modifier(Modifier::BOLD),
            tab_active: none.add_modifier(Modifier::REVERSED),
            placeholder: none.add_modifier(Modifier::ITALIC | Modifier::DIM),
        }
    }
}
