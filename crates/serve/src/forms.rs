//! What the enrolment and registration forms submit.

use serde::Deserialize;

/// What the account forms submit. Every field defaults, so a mangled post gets our page,
/// not the framework's plain-text rejection.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AccountForm {
    pub(crate) csrf: String,
    pub(crate) answer: String,
    pub(crate) display_name: String,
    pub(crate) password: String,
    pub(crate) confirm: String,
    pub(crate) personal_mailbox: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RegisterForm {
    pub(crate) csrf: String,
    pub(crate) email: String,
}

/// What the password pages submit: the reset link's form (new password twice) and the
/// change form (address and current password too).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    pub(crate) csrf: String,
    pub(crate) email: String,
    pub(crate) current: String,
    pub(crate) password: String,
    pub(crate) confirm: String,
}
