//! The enrolment server's pages: the invitation link (accept or decline) and
//! self-registration (ask for a link, then create the account). Every form is guarded by
//! CSRF and a per-link rate limit; a link that cannot be used gets one page whatever the
//! reason.

use std::net::IpAddr;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::App;
use super::guard::{csrf_ok, new_csrf};
use crate::config::Secret;
use crate::domain::Actor;
use crate::error::Error;
use crate::service::{EnrolPage, Enrolment, RegisterPage};

/// The client's address, set by the protecting middleware.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

/// What the account forms submit. Every field defaults, so a mangled post gets our page,
/// not the framework's plain-text rejection.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AccountForm {
    csrf: String,
    answer: String,
    display_name: String,
    password: String,
    confirm: String,
    personal_mailbox: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RegisterForm {
    csrf: String,
    email: String,
}

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
    fn usher_for(&self, ip: IpAddr) -> crate::Usher {
        self.usher.with_actor(Actor {
            name: "usher-serve".into(),
            from: Some(ip.to_string()),
        })
    }

    fn page(&self, status: StatusCode, name: &str, ctx: &impl Serialize) -> Response {
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
    fn unusable(&self) -> Response {
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

    fn failed(&self, e: &Error) -> Response {
        tracing::error!("enrolment failed: {e}");
        self.message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "",
            "Something went wrong",
            &["Nothing was changed. Please try again in a few minutes."],
        )
    }

    fn forged(&self) -> Response {
        self.message(
            StatusCode::FORBIDDEN,
            "",
            "This form has expired",
            &["Go back, reload the page and submit the form again."],
        )
    }

    fn too_many(&self) -> Response {
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

    /// A form page with a fresh CSRF cookie.
    fn form(&self, status: StatusCode, name: &str, mut ctx: serde_json::Value) -> Response {
        let (csrf, cookie) = new_csrf(self.secure);
        ctx["csrf"] = json!(csrf);
        let mut r = self.page(status, name, &ctx);
        if let Ok(v) = header::HeaderValue::from_str(&cookie) {
            r.headers_mut().insert(header::SET_COOKIE, v);
        }
        r
    }

    fn enrol_form(
        &self,
        token: &str,
        p: &EnrolPage,
        err: Option<(&'static str, String)>,
        f: Option<&AccountForm>,
    ) -> Response {
        let intro = if p.registered {
            format!("You are invited to join {} on secure mail.", p.org)
        } else {
            format!(
                "You are invited to {} secure mail. Choose your name and a password to create your account.",
                p.org
            )
        };
        self.account_form(FormPage {
            org: &p.org,
            heading: "Your invitation",
            intro,
            email: &p.email,
            expires: &p.expires,
            display_name: f.map_or(p.display_name.as_str(), |f| f.display_name.as_str()),
            registered: p.registered,
            can_decline: true,
            accept_label: if p.registered {
                "Accept the invitation"
            } else {
                "Create my account"
            },
            action: format!("/enrol/{token}"),
            csrf: String::new(),
            min_password: crate::service::enrol_min_password(),
            personal_mailbox: f.is_some_and(|f| f.personal_mailbox.is_some()),
            error_field: err.as_ref().map(|e| e.0),
            error: err.map(|e| e.1),
        })
    }

    fn register_form(
        &self,
        token: &str,
        p: &RegisterPage,
        err: Option<(&'static str, String)>,
        f: Option<&AccountForm>,
    ) -> Response {
        self.account_form(FormPage {
            org: &p.org,
            heading: "Create your account",
            intro: format!(
                "Your address is confirmed. Choose your name and a password for {} secure mail.",
                p.org
            ),
            email: &p.email,
            expires: &p.expires,
            display_name: f.map_or("", |f| f.display_name.as_str()),
            registered: false,
            can_decline: false,
            accept_label: "Create my account",
            action: format!("/register/{token}"),
            csrf: String::new(),
            min_password: crate::service::enrol_min_password(),
            personal_mailbox: f.is_some_and(|f| f.personal_mailbox.is_some()),
            error_field: err.as_ref().map(|e| e.0),
            error: err.map(|e| e.1),
        })
    }

    fn account_form(&self, page: FormPage<'_>) -> Response {
        let status = if page.error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        };
        match serde_json::to_value(&page) {
            Ok(ctx) => self.form(status, "enrol.html", ctx),
            Err(e) => self.failed(&Error::Serve(e.to_string())),
        }
    }

    /// Checks what every form post must pass; Some(response) refuses it.
    fn refuse_post(
        &self,
        headers: &HeaderMap,
        csrf: &str,
        token: Option<&str>,
    ) -> Option<Response> {
        if token.is_some_and(|t| !self.limits.link_allowed(t)) {
            return Some(self.too_many());
        }
        if !csrf_ok(headers, csrf, self.secure, &self.origin) {
            return Some(self.forged());
        }
        None
    }
}

/// A form error the person can fix, as (field, message); anything else is None.
fn fixable(e: &Error) -> Option<(&'static str, String)> {
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

fn enrolment(f: &AccountForm) -> Enrolment {
    Enrolment {
        display_name: f.display_name.clone(),
        password: Secret::new(f.password.clone()),
        personal_mailbox: f.personal_mailbox.is_some(),
    }
}

fn mismatch() -> Option<(&'static str, String)> {
    Some(("confirm", "The two passwords differ.".into()))
}

pub async fn enrol_get(State(app): State<Arc<App>>, Path(token): Path<String>) -> Response {
    match app.usher.enrol_page(&token).await {
        Ok(Some(p)) => app.enrol_form(&token, &p, None, None),
        Ok(None) => app.unusable(),
        Err(e) => app.failed(&e),
    }
}

pub async fn enrol_post(
    State(app): State<Arc<App>>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(f): Form<AccountForm>,
) -> Response {
    if let Some(r) = app.refuse_post(&headers, &f.csrf, Some(&token)) {
        return r;
    }
    let u = app.usher_for(ip);
    let page = match u.enrol_page(&token).await {
        Ok(Some(p)) => p,
        Ok(None) => return app.unusable(),
        Err(e) => return app.failed(&e),
    };
    if f.answer == "decline" {
        return match u.decline_invitation(&token).await {
            Ok(_) => app.message(
                StatusCode::OK,
                &page.org,
                "Invitation declined",
                &["No account was created, and the person who invited you has been told."],
            ),
            Err(Error::LinkUnusable) => app.unusable(),
            Err(e) => app.failed(&e),
        };
    }
    if !page.registered && f.password != f.confirm {
        return app.enrol_form(&token, &page, mismatch(), Some(&f));
    }
    match u.accept_invitation(&token, &enrolment(&f)).await {
        Ok(user) => app.message(
            StatusCode::OK,
            &page.org,
            "Your account is ready",
            &[
                &format!("{} is now active at {}.", user.email_display, page.org),
                "You can close this page and sign in to secure mail.",
            ],
        ),
        Err(Error::LinkUnusable) => app.unusable(),
        Err(e) => match fixable(&e) {
            Some(err) => app.enrol_form(&token, &page, Some(err), Some(&f)),
            None => app.failed(&e),
        },
    }
}

pub async fn register_get(State(app): State<Arc<App>>) -> Response {
    app.form(StatusCode::OK, "register.html", json!({"email": ""}))
}

pub async fn register_post(
    State(app): State<Arc<App>>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    headers: HeaderMap,
    Form(f): Form<RegisterForm>,
) -> Response {
    if let Some(r) = app.refuse_post(&headers, &f.csrf, None) {
        return r;
    }
    match app.usher_for(ip).request_registration(&f.email).await {
        Ok(()) => app.message(
            StatusCode::OK,
            "",
            "Check your mail",
            &[
                &format!("If {} can register here, a link to confirm it is on its way.", f.email.trim()),
                "The link works once. If nothing arrives, ask your administrator for an invitation.",
            ],
        ),
        Err(e @ (Error::Email(_) | Error::Emails(_))) => app.form(
            StatusCode::UNPROCESSABLE_ENTITY,
            "register.html",
            json!({"email": f.email, "error": format!("That is not a mail address: {e}")}),
        ),
        Err(e) => app.failed(&e),
    }
}

pub async fn complete_get(State(app): State<Arc<App>>, Path(token): Path<String>) -> Response {
    match app.usher.registration_page(&token).await {
        Ok(Some(p)) => app.register_form(&token, &p, None, None),
        Ok(None) => app.unusable(),
        Err(e) => app.failed(&e),
    }
}

pub async fn complete_post(
    State(app): State<Arc<App>>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(f): Form<AccountForm>,
) -> Response {
    if let Some(r) = app.refuse_post(&headers, &f.csrf, Some(&token)) {
        return r;
    }
    let u = app.usher_for(ip);
    let page = match u.registration_page(&token).await {
        Ok(Some(p)) => p,
        Ok(None) => return app.unusable(),
        Err(e) => return app.failed(&e),
    };
    if f.password != f.confirm {
        return app.register_form(&token, &page, mismatch(), Some(&f));
    }
    match u.complete_registration(&token, &enrolment(&f)).await {
        Ok(user) => app.message(
            StatusCode::OK,
            &page.org,
            "Your account is ready",
            &[
                &format!("{} is now active at {}.", user.email_display, page.org),
                "You can close this page and sign in to secure mail.",
            ],
        ),
        Err(Error::LinkUnusable) => app.unusable(),
        Err(e) => match fixable(&e) {
            Some(err) => app.register_form(&token, &page, Some(err), Some(&f)),
            None => app.failed(&e),
        },
    }
}

pub async fn css(State(app): State<Arc<App>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        app.pages.css.clone(),
    )
        .into_response()
}

pub async fn health() -> &'static str {
    "ok\n"
}

pub async fn not_found(State(app): State<Arc<App>>) -> Response {
    app.message(StatusCode::NOT_FOUND, "", "Page not found", &[])
}
