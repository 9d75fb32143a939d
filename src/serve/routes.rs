//! The enrolment server's pages: the invitation link (accept or decline) and
//! self-registration (ask for a link, then create the account). Every form is guarded by
//! CSRF and a per-link rate limit; a link that cannot be used gets one page whatever the
//! reason.

use std::net::IpAddr;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::App;
use super::respond::LinkPage;
use crate::config::Secret;
use crate::error::Error;
use crate::service::Enrolment;

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
    pub(super) display_name: String,
    password: String,
    confirm: String,
    pub(super) personal_mailbox: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RegisterForm {
    csrf: String,
    email: String,
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

/// The invitation behind a link, as a page; Err is the response for a link that cannot
/// be used or a failure.
async fn invitation_link(app: &App, u: &crate::Usher, token: &str) -> Result<LinkPage, Response> {
    match u.enrol_page(token).await {
        Ok(Some(p)) => Ok(LinkPage::invitation(token, p)),
        Ok(None) => Err(app.unusable()),
        Err(e) => Err(app.failed(&e)),
    }
}

async fn registration_link(app: &App, u: &crate::Usher, token: &str) -> Result<LinkPage, Response> {
    match u.registration_page(token).await {
        Ok(Some(p)) => Ok(LinkPage::registration(token, p)),
        Ok(None) => Err(app.unusable()),
        Err(e) => Err(app.failed(&e)),
    }
}

pub async fn enrol_get(State(app): State<Arc<App>>, Path(token): Path<String>) -> Response {
    match invitation_link(&app, &app.usher, &token).await {
        Ok(link) => app.account_form(&link, None, None),
        Err(r) => r,
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
    let link = match invitation_link(&app, &u, &token).await {
        Ok(link) => link,
        Err(r) => return r,
    };
    if f.answer == "decline" {
        return match u.decline_invitation(&token).await {
            Ok(_) => app.message(
                StatusCode::OK,
                &link.org,
                "Invitation declined",
                &["No account was created, and the person who invited you has been told."],
            ),
            Err(Error::LinkUnusable) => app.unusable(),
            Err(e) => app.failed(&e),
        };
    }
    if !link.registered && f.password != f.confirm {
        return app.account_form(&link, mismatch(), Some(&f));
    }
    let made = u.accept_invitation(&token, &enrolment(&f)).await;
    app.outcome(&link, made, &f)
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
    match registration_link(&app, &app.usher, &token).await {
        Ok(link) => app.account_form(&link, None, None),
        Err(r) => r,
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
    let link = match registration_link(&app, &u, &token).await {
        Ok(link) => link,
        Err(r) => return r,
    };
    if f.password != f.confirm {
        return app.account_form(&link, mismatch(), Some(&f));
    }
    let made = u.complete_registration(&token, &enrolment(&f)).await;
    app.outcome(&link, made, &f)
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
