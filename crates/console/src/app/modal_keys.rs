//! Keys while a popup is open: the help and a detail scroll, a question waits for its
//! answer, a form takes the keys its fields need.

use crossterm::event::{KeyCode, KeyEvent};

use super::{App, Modal, scroll};
use crate::action::Effect;
use crate::keymap::Cmd;

impl App {
    pub(super) fn on_modal_key(&mut self, cmd: Option<Cmd>, key: KeyEvent) -> Vec<Effect> {
        match &mut self.modal {
            Some(Modal::Detail(d)) => {
                if !scroll(&mut d.scroll, cmd, self.page_rows) {
                    match cmd {
                        Some(Cmd::Cancel) => self.modal = None,
                        _ => self.no_key(key),
                    }
                }
                return Vec::new();
            }
            Some(Modal::Help { scroll: at, .. }) => {
                if !scroll(at, cmd, self.page_rows) {
                    match cmd {
                        Some(Cmd::Cancel) => self.modal = None,
                        _ => self.no_key(key),
                    }
                }
                return Vec::new();
            }
            Some(Modal::Confirm { .. }) => return self.on_confirm_key(cmd, key),
            Some(Modal::Form(form)) if cmd == Some(Cmd::ToggleAnother) => {
                form.another = !form.another;
                return Vec::new();
            }
            Some(m @ (Modal::Form(_) | Modal::Role(_) | Modal::User(_) | Modal::Template(_))) => {
                let Some(form) = m.form() else {
                    return Vec::new();
                };
                let fx = match cmd {
                    Some(Cmd::Cancel) => {
                        if let Modal::Template(t) = m
                            && !t.may_discard(KeyCode::Esc, "esc")
                        {
                            return Vec::new();
                        }
                        self.modal = None;
                        return Vec::new();
                    }
                    Some(Cmd::NextField) => {
                        form.next_field();
                        Vec::new()
                    }
                    Some(Cmd::PrevField) => {
                        form.prev_field();
                        Vec::new()
                    }
                    Some(Cmd::Submit) => form.save().into_iter().collect(),
                    _ => {
                        form.key(key);
                        Vec::new()
                    }
                };
                self.in_flight += fx.len();
                return fx;
            }
            None => {}
        }
        Vec::new()
    }
}
