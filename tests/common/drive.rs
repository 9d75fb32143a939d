//! The console on a real core, for tests: keys in, each effect run through the console's
//! own worker to the end, the screen drawn on ratatui's TestBackend.
#![allow(dead_code)] // each test binary uses a part

use std::collections::VecDeque;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;
use usher::Usher;
use usher::tui::action::{Action, Effect};
use usher::tui::app::App;
use usher::tui::keymap::Keymap;
use usher::tui::theme::Theme;
use usher::tui::{view, worker};

/// The console on a real core: keys in, effects run to the end, screen out.
pub struct Drive {
    pub app: App,
    pub u: Usher,
    tx: mpsc::UnboundedSender<Action>,
    rx: mpsc::UnboundedReceiver<Action>,
}

impl Drive {
    pub async fn new(u: Usher) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut d = Self {
            app: App::new(Keymap::defaults()),
            u,
            tx,
            rx,
        };
        d.app.now = d.u.clock().now();
        let fx = d.app.refresh();
        d.run(fx).await;
        d
    }

    /// Runs effects, and the effects their answers bring, until none are left.
    pub async fn run(&mut self, fx: Vec<Effect>) {
        let mut queue: VecDeque<Effect> = fx.into();
        while let Some(e) = queue.pop_front() {
            if matches!(e, Effect::Copy(_)) {
                continue;
            }
            let a = worker::perform_with(&self.u, &[], e, &self.tx).await;
            while let Ok(progress) = self.rx.try_recv() {
                queue.extend(self.app.update(progress));
            }
            queue.extend(self.app.update(a));
        }
    }

    pub async fn press(&mut self, code: KeyCode, mods: KeyModifiers) {
        let fx = self.app.update(Action::Key(KeyEvent::new(code, mods)));
        self.run(fx).await;
    }

    pub async fn keys(&mut self, text: &str) {
        for c in text.chars() {
            self.press(KeyCode::Char(c), KeyModifiers::NONE).await;
        }
    }

    pub async fn special(&mut self, code: KeyCode) {
        self.press(code, KeyModifiers::NONE).await;
    }

    pub fn message(&self) -> String {
        self.app
            .message
            .as_ref()
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    }

    pub fn screen(&mut self) -> String {
        self.screen_at(120, 36)
    }

    /// The screen at `w`×`h`, each line's trailing spaces trimmed.
    pub fn screen_at(&mut self, w: u16, h: u16) -> String {
        self.app.page_rows = view::page_rows(h);
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| view::draw(f, &mut self.app, &Theme::plain()))
            .unwrap();
        let buf = t.backend().buffer();
        (0..h)
            .map(|y| {
                let line: String = (0..w).map(|x| buf[(x, y)].symbol()).collect();
                line.trim_end().to_owned()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Moves the Users tab's cursor onto `email`.
    pub async fn select_user(&mut self, email: &str) {
        self.keys("2").await;
        self.keys("g").await;
        for _ in 0..self.app.users.rows.len() {
            if self.app.users.current().map(|u| u.email.as_str()) == Some(email) {
                return;
            }
            self.keys("j").await;
        }
        panic!("{email} is not in the Users tab");
    }
}
