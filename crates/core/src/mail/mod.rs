//! Mail: templates, message composition, transports and the outbox sender.

pub mod catalog;
pub mod compose;
pub mod draft;
mod mailing;
mod send_error;
pub mod sender;
mod smtp;
pub mod template;
pub mod transport;

pub use compose::{Composed, compose};
pub use draft::{Draft, Renderer};
pub use sender::{FlushReport, Sender, SenderSettings};
pub use template::{InvitationVars, TemplateName, Templates};
pub use transport::{MailTransport, SendError};
