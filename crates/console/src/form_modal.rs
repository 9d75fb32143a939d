//! The popup forms as the app drives them: one trait, so that keys, paste, saving and
//! the save's outcome go through one path whatever the form.

use crossterm::event::KeyEvent;

use super::action::Effect;
use super::app::Modal;
use super::form::InviteForm;
use super::role_form::RoleForm;
use super::user_form::UserForm;

/// A form in a popup that saves through one effect: the invitation, role and
/// user forms.
pub trait FormModal {
    fn next_field(&mut self);
    fn prev_field(&mut self);
    fn key(&mut self, key: KeyEvent);
    fn paste(&mut self, text: &str);
    /// The effect that saves it, or None when something must be fixed first.
    fn save(&mut self) -> Option<Effect>;
    fn sending(&self) -> bool;
    /// The save's outcome; true keeps the form open.
    fn finished(&mut self, result: &Result<String, crate::failure::Failure>) -> bool;
}

macro_rules! form_modal {
    ($ty:ty, |$f:ident| $save:expr) => {
        impl FormModal for $ty {
            fn next_field(&mut self) {
                <$ty>::next_field(self)
            }
            fn prev_field(&mut self) {
                <$ty>::prev_field(self)
            }
            fn key(&mut self, key: KeyEvent) {
                <$ty>::key(self, key)
            }
            fn paste(&mut self, text: &str) {
                <$ty>::paste(self, text)
            }
            fn save(&mut self) -> Option<Effect> {
                let $f = self;
                $save
            }
            fn sending(&self) -> bool {
                self.sending
            }
            fn finished(&mut self, result: &Result<String, crate::failure::Failure>) -> bool {
                <$ty>::finished(self, result)
            }
        }
    };
}

form_modal!(InviteForm, |f| f
    .submit()
    .map(|req| Effect::Invite(Box::new(req))));
form_modal!(RoleForm, |f| f.submit().map(Effect::SaveRole));
form_modal!(super::template_form::TemplateForm, |f| f.submit());
form_modal!(UserForm, |f| f
    .submit()
    .map(|u| Effect::CreateUser(Box::new(u))));

impl Modal {
    pub fn form(&mut self) -> Option<&mut dyn FormModal> {
        match self {
            Modal::Form(f) => Some(f.as_mut()),
            Modal::Role(f) => Some(f.as_mut()),
            Modal::User(f) => Some(f.as_mut()),
            Modal::Template(f) => Some(f.as_mut()),
            _ => None,
        }
    }
}
