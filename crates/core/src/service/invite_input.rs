//! An invitation as a front end takes it in (text typed in the console's form, or the
//! command line's arguments), made into the request `invite` sends. One place checks
//! it, so the console and the command line refuse the same things in the same words,
//! each naming the field to fix.

use std::path::PathBuf;

use super::invite::{InviteOptions, InviteRequest};
use crate::domain::{Email, UserType, VALIDITY_DAYS, parse_address_list, validity_days_said};

/// What was typed or given, as text.
#[derive(Debug, Clone, Default)]
pub struct InviteInput {
    /// One address or more, separated by commas, semicolons or new lines.
    pub to: String,
    pub first_name: String,
    pub last_name: String,
    pub user_type: UserType,
    /// Days the link is valid; empty for the account's.
    pub validity: String,
    pub cc: String,
    pub bcc: String,
    /// Files to attach, read by `invite` itself.
    pub files: Vec<PathBuf>,
    /// This invitation's own subject and message; empty for the account's template.
    pub subject: String,
    pub message: String,
}

/// The fields `request` may refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteField {
    To,
    Validity,
    Cc,
    Bcc,
}

impl InviteField {
    pub fn label(self) -> &'static str {
        match self {
            Self::To => "to",
            Self::Validity => "validity",
            Self::Cc => "cc",
            Self::Bcc => "bcc",
        }
    }
}

/// A field that cannot be sent as given, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {reason}", field.label())]
pub struct InputError {
    pub field: InviteField,
    pub reason: String,
}

impl InviteInput {
    /// The request, or the first field to fix.
    pub fn request(self) -> Result<InviteRequest, InputError> {
        let addresses = address_list(InviteField::To, &self.to)?;
        if addresses.is_empty() {
            return Err(InputError {
                field: InviteField::To,
                reason: "no address given".into(),
            });
        }
        let expires_in_days = match self.validity.trim() {
            "" => None,
            v => match v.parse::<i64>() {
                Ok(d) if VALIDITY_DAYS.contains(&d) => Some(d),
                _ => {
                    return Err(InputError {
                        field: InviteField::Validity,
                        reason: format!("'{v}' is not a number of days {}", validity_days_said()),
                    });
                }
            },
        };
        let options = InviteOptions {
            cc: address_list(InviteField::Cc, &self.cc)?,
            bcc: address_list(InviteField::Bcc, &self.bcc)?,
            attachments: Vec::new(),
            files: self.files,
        };
        let given = |s: String| (!s.trim().is_empty()).then_some(s);
        Ok(InviteRequest {
            addresses,
            first_name: self.first_name,
            last_name: self.last_name,
            user_type: self.user_type,
            expires_in_days,
            subject: given(self.subject),
            message: given(self.message),
            options,
        })
    }
}

/// Every address of a list, or all that are wrong, each with why.
fn address_list(field: InviteField, text: &str) -> Result<Vec<Email>, InputError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    parse_address_list(text).map_err(|errs| InputError {
        field,
        reason: errs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(to: &str) -> InviteInput {
        InviteInput {
            to: to.into(),
            ..InviteInput::default()
        }
    }

    fn fault(input: InviteInput) -> Option<InputError> {
        input.request().err()
    }

    #[test]
    fn each_fault_names_its_field() {
        assert_eq!(fault(input(" ")).map(|e| e.field), Some(InviteField::To));
        let bad_copy = fault(InviteInput {
            cc: "ok@acme.test, nope".into(),
            ..input("ann@acme.test")
        });
        assert_eq!(bad_copy.as_ref().map(|e| e.field), Some(InviteField::Cc));
        assert!(
            bad_copy
                .is_some_and(|e| e.to_string().starts_with("cc: ") && e.reason.contains("nope"))
        );
        let too_long = fault(InviteInput {
            validity: "366".into(),
            ..input("ann@acme.test")
        });
        assert_eq!(too_long.map(|e| e.field), Some(InviteField::Validity));
        assert!(fault(input("ann@acme.test")).is_none());
    }

    #[test]
    fn empty_text_is_the_account_s_own() -> Result<(), InputError> {
        let req = InviteInput {
            validity: " 7 ".into(),
            subject: "  ".into(),
            message: "Welcome".into(),
            ..input("ann@acme.test; bob@acme.test")
        }
        .request()?;
        assert_eq!(req.addresses.len(), 2);
        assert_eq!(req.expires_in_days, Some(7));
        assert_eq!(req.subject, None);
        assert_eq!(req.message.as_deref(), Some("Welcome"));
        assert_eq!(req.user_type, UserType::Professional);
        Ok(())
    }
}
