//! What comes back to the console: each answer from the worker (a page of rows, the
//! status, the outcome of a change) and the passing of time, folded into the state.

use super::{App, Modal, Tab, professional_unavailable};
use crate::action::Effect;
use usher_core::service::Status;

impl App {
    /// Time passes: the spinner, "expires in", a refresh every few ticks, or while the
    /// database is away one probe a second.
    pub(super) fn tick(&mut self, now: usher_core::domain::Timestamp) -> Vec<Effect> {
        self.now = now;
        self.ticks += 1;
        self.spinner = self.spinner.wrapping_add(1);
        if self.connection_lost {
            // No refreshes pile up while the database is away: one probe a second.
            if !self.probing && self.ticks.is_multiple_of(4) {
                self.probing = true;
                self.in_flight += 1;
                return vec![Effect::LoadStatus];
            }
            return Vec::new();
        }
        if self.refresh_every_ticks > 0 && self.ticks.is_multiple_of(self.refresh_every_ticks) {
            return self.refresh();
        }
        Vec::new()
    }

    pub(super) fn status_loaded(
        &mut self,
        r: Result<Status, crate::failure::Failure>,
    ) -> Vec<Effect> {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.probing = false;
        let mut reconnected = false;
        match r {
            Ok(s) => {
                self.status = Some(s);
                reconnected = std::mem::take(&mut self.connection_lost);
            }
            // While reconnecting, the first message (what was lost) stays.
            Err(_) if self.connection_lost => {}
            Err(e) => self.error(e),
        }
        let why = professional_unavailable(self.status.as_ref());
        let org = self.status.as_ref().map(|s| s.account.as_str());
        match &mut self.modal {
            Some(Modal::Form(f)) => f.set_professional_unavailable(why),
            Some(Modal::User(f)) => f.set_professional_unavailable(why),
            Some(Modal::Template(t)) => t.know(org, None),
            _ => {}
        }
        if reconnected {
            // Everything on screen may be stale: read it all again.
            self.info("reconnected to the database");
            return self.refresh();
        }
        Vec::new()
    }

    pub(super) fn users_loaded(
        &mut self,
        generation: u64,
        page: crate::action::UserPage,
        result: Result<Vec<usher_core::store::User>, crate::failure::Failure>,
    ) -> Vec<Effect> {
        self.in_flight = self.in_flight.saturating_sub(1);
        let next = self.next_generation();
        match self
            .users
            .loaded(generation, page, result, next, self.page_rows)
        {
            Ok(fx) => {
                self.in_flight += fx.len();
                fx
            }
            Err(e) => {
                self.error(e);
                Vec::new()
            }
        }
    }

    pub(super) fn roles_loaded(
        &mut self,
        generation: u64,
        result: Result<Vec<usher_core::service::RoleView>, crate::failure::Failure>,
    ) -> Vec<Effect> {
        self.in_flight = self.in_flight.saturating_sub(1);
        match result {
            Ok(rows) => {
                let fx = self.roles.loaded(rows, generation);
                self.in_flight += fx.len();
                fx
            }
            Err(e) => {
                self.error(e);
                Vec::new()
            }
        }
    }

    pub(super) fn operator_loaded(
        &mut self,
        r: Result<usher_core::service::Operator, crate::failure::Failure>,
    ) -> Vec<Effect> {
        self.in_flight = self.in_flight.saturating_sub(1);
        match r {
            Ok(op) => {
                self.keymap.set_denied(crate::rights::denied(&op));
                if let Some(Modal::Template(t)) = &mut self.modal {
                    t.know(None, Some(&op.name));
                }
                self.operator = Some(op);
            }
            Err(e) => self.error(e),
        }
        Vec::new()
    }

    pub(super) fn templates_loaded(
        &mut self,
        name: usher_core::mail::TemplateName,
        result: Result<Vec<usher_core::service::TemplateView>, crate::failure::Failure>,
    ) -> Vec<Effect> {
        match result {
            Ok(views) => {
                let org = self.status.as_ref().map(|s| s.account.as_str());
                let operator = self.operator.as_ref().map(|o| o.name.as_str());
                self.modal = Some(Modal::Template(Box::new(
                    crate::template_form::TemplateForm::new(views, name, org, operator),
                )));
            }
            Err(e) => self.error(e),
        }
        Vec::new()
    }

    /// A change's outcome: the form that sent it, the import's gauge, the marks it
    /// acted on, the status line; a success reloads what is on screen.
    pub(super) fn done(&mut self, r: Result<String, crate::failure::Failure>) -> Vec<Effect> {
        self.in_flight = self.in_flight.saturating_sub(1);
        if self.import.applying {
            self.import.applying = false;
            self.import.progress = None;
            if let Ok(m) = &r {
                self.import.review = None;
                self.import.summary = Some(m.clone());
            }
        }
        let ok = r.is_ok();
        let keep = match &mut self.modal {
            Some(m) => match m.form() {
                Some(f) if f.sending() => f.finished(&r),
                _ => true,
            },
            None => true,
        };
        if !keep {
            self.modal = None;
        }
        match self.clear_marks_after.take() {
            Some(Tab::Invitations) if ok => self.invitations.marked.clear(),
            Some(Tab::Users) if ok => self.users.marked.clear(),
            _ => {}
        }
        match r {
            Ok(m) => self.info(m),
            Err(e) => self.error(e),
        }
        if ok { self.refresh() } else { Vec::new() }
    }
}
