//! What the enrolment server answers with: the pages for a link's account form, its
//! outcome, and the refusals (a link that cannot be used, a forged form, too many tries).

use std::net::IpAddr;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use super::forms::AccountForm;
use super::guard::{csrf_ok, new_csrf};
use super::state::App;
use usher_core::domain::Actor;
use usher_core::error::Error;
use usher_core::service::{EnrolPage, RegisterPage};
use usher_core::store::User;

/// The account form's variables, for the invitation and the registration pages alike.
#[derive(Debug, Serialize)]
struct FormPage<'a> {
    org: &'a str,
    heading: &'a str,
    intro: String,
    email: &'a str,
    expires: &'a str,
    display_name: &'a str,
    registered: bool,
    can_decline: bool,
    accept_label: &'a str,
    action: String,
    csrf: String,
    min_password: usize,
    personal_mailbox: bool,
    error: Option<String>,
    error_field: Option<&'static str>,
}

impl App {
    pub(super) fn usher_for(&self, ip: IpAddr) -> usher_core::Usher {
        self.usher.with_actor(Actor {
            name: "usher-serve".into(),
            from: Some(ip.to_string()),
            channel: usher_core::domain::Channel::Web,
            identity: None,
        })
    }

    pub(super) fn page(&self, status: StatusCode, name: &str, ctx: &impl Serialize) -> Response {
        match self.pages.render(name, ctx) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!("{e}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the page could not be drawn",
                )
                    .into_response()
            }
        }
    }

    pub(super) fn message(
        &self,
        status: StatusCode,
        org: &str,
        heading: &str,
        paragraphs: &[&str],
    ) -> Response {
        self.page(
            status,
            "message.html",
            &json!({"org": org, "heading": heading, "paragraphs": paragraphs}),
        )
    }

    /// The one page for a link that cannot be used, whatever the reason.
    pub(super) fn unusable(&self) -> Response {
        self.message(
            StatusCode::NOT_FOUND,
            "",
            "This link cannot be used",
            &[
                "The link may have expired, been replaced by a newer one, or been used already.",
                "Ask your administrator to send you a new invitation.",
            ],
        )
    }

    pub(super) fn failed(&self, e: &Error) -> Response {
        tracing::error!("enrolment failed: {e}");
        self.message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "",
            "Something went wrong",
            &["Nothing was changed. Please try again in a few minutes."],
        )
    }

    pub(super) fn forged(&self) -> Response {
        self.message(
            StatusCode::FORBIDDEN,
            "",
            "This form has expired",
            &["Go back, reload the page and submit the form again."],
        )
    }

    pub(super) fn too_many(&self) -> Response {
        let mut r = self.message(
            StatusCode::TOO_MANY_REQUESTS,
            "",
            "Too many attempts",
            &["Wait a while and try again."],
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
        r
    }

    /// The site's own page in place of an error the framework answered in its own words (a
    /// form that is not a form, a duplicated field, a method the page does not take, a
    /// body too large, a request too slow): the status and headers stay, the words are ours.
    pub(super) fn own_error(&self, resp: Response) -> Response {
        let status = resp.status();
        let is_html = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
        if is_html || !(status.is_client_error() || status.is_server_error()) {
            return resp;
        }
        let (heading, advice) = match status {
            StatusCode::BAD_REQUEST
            | StatusCode::UNSUPPORTED_MEDIA_TYPE
            | StatusCode::UNPROCESSABLE_ENTITY => (
                "This form could not be read",
                "Nothing was changed. Go back, reload the page and submit the form again.",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => (
                "This form is too large",
                "Nothing was changed. Go back and shorten what you typed.",
            ),
            StatusCode::REQUEST_TIMEOUT => (
                "This request took too long",
                "Nothing was changed. Please try again.",
            ),
            StatusCode::METHOD_NOT_ALLOWED => (
                "This page cannot do that",
                "Go back and follow the link again.",
            ),
            _ => (
                "Something went wrong",
                "Nothing was changed. Please try again in a few minutes.",
            ),
        };
        let mut page = self.message(status, "", heading, &[advice]);
        for (name, value) in resp.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                page.headers_mut().insert(name, value.clone());
            }
        }
        page
    }

    /// A form page with a fresh CSRF cookie.
    pub(super) fn form(
        &self,
        status: StatusCode,
        name: &str,
        mut ctx: serde_json::Value,
    ) -> Response {
        let (csrf, cookie) = new_csrf(self.secure, &self.csrf_key);
        ctx["csrf"] = json!(csrf);
        let mut r = self.page(status, name, &ctx);
        if let Ok(v) = header::HeaderValue::from_str(&cookie) {
            r.headers_mut().insert(header::SET_COOKIE, v);
        }
        r
    }

    /// The account form of a link, with the reason of a refused post and what was typed.
    pub(super) fn account_form(
        &self,
        link: &LinkPage,
        err: Option<(&'static str, String)>,
        typed: Option<&AccountForm>,
    ) -> Response {
        let page = FormPage {
            org: &link.org,
            heading: if link.invitation {
                "Your invitation"
            } else {
                "Create your account"
            },
            intro: link.intro(),
            email: &link.email,
            expires: &link.expires,
            display_name: typed.map_or(link.display_name.as_str(), |f| f.display_name.as_str()),
            registered: link.registered,
            can_decline: link.invitation,
            accept_label: if link.registered {
                "Accept the invitation"
            } else {
                "Create my account"
            },
            action: link.action.clone(),
            csrf: String::new(),
            min_password: usher_core::service::enrol_min_password(),
            personal_mailbox: typed.is_some_and(|f| f.personal_mailbox.is_some()),
            error_field: err.as_ref().map(|e| e.0),
            error: err.map(|e| e.1),
        };
        let status = if page.error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        };
        match serde_json::to_value(&page) {
            Ok(ctx) => self.form(status, "enrol.html", ctx),
            Err(e) => self.failed(&Error::corrupt("the enrolment page's fields", e)),
        }
    }

    /// The page after an account form's post: ready, the form again with the reason, or
    /// the page for a link that cannot be used.
    pub(super) fn outcome(
        &self,
        link: &LinkPage,
        made: usher_core::Result<User>,
        typed: &AccountForm,
    ) -> Response {
        match made {
            Ok(user) => self.message(
                StatusCode::OK,
                &link.org,
                "Your account is ready",
                &[
                    &format!("{} is now active at {}.", user.email_display, link.org),
                    "You can close this page and sign in to secure mail.",
                ],
            ),
            Err(Error::LinkUnusable) => self.unusable(),
            Err(e) => match fixable(&e) {
                Some(err) => self.account_form(link, Some(err), Some(typed)),
                None => self.failed(&e),
            },
        }
    }

    /// Checks what every form post must pass; Some(response) refuses it.
    pub(super) fn refuse_post(
        &self,
        headers: &HeaderMap,
        csrf: &str,
        token: Option<&str>,
    ) -> Option<Response> {
        if token.is_some_and(|t| !self.limits.link_allowed(t)) {
            return Some(self.too_many());
        }
        if !csrf_ok(headers, csrf, self.secure, &self.origin, &self.csrf_key) {
            return Some(self.forged());
        }
        None
    }
}

/// What an account form shows of its link: an invitation's or a registration's.
#[derive(Debug)]
pub(super) struct LinkPage {
    pub(super) org: String,
    pub(super) email: String,
    pub(super) expires: String,
    pub(super) display_name: String,
    pub(super) registered: bool,
    pub(super) invitation: bool,
    pub(super) action: String,
}

impl LinkPage {
    pub(super) fn invitation(token: &str, p: EnrolPage) -> Self {
        Self {
            org: p.org,
            email: p.email,
            expires: p.expires,
            display_name: p.display_name,
            registered: p.registered,
            invitation: true,
            action: format!("/enrol/{token}"),
        }
    }

    pub(super) fn registration(token: &str, p: RegisterPage) -> Self {
        Self {
            org: p.org,
            email: p.email,
            expires: p.expires,
            display_name: String::new(),
            registered: false,
            invitation: false,
            action: format!("/register/{token}"),
        }
    }

    fn intro(&self) -> String {
        match (self.invitation, self.registered) {
            (true, true) => format!("You are invited to join {} on secure mail.", self.org),
            (true, false) => format!(
                "You are invited to {} secure mail. Choose your name and a password to create your account.",
                self.org
            ),
            _ => format!(
                "Your address is confirmed. Choose your name and a password for {} secure mail.",
                self.org
            ),
        }
    }
}

/// A form error the person can fix, as (field, message); anything else is None.
pub(super) fn fixable(e: &Error) -> Option<(&'static str, String)> {
    match e {
        Error::Invalid { field, reason } => Some((field, format!("The {field} {reason}."))),
        Error::Seats(_) => Some((
            "",
            "The organisation has no licence free for a new account. Ask your administrator."
                .into(),
        )),
        _ => None,
    }
}
