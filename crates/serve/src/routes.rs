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
use serde_json::json;

use super::forms::{AccountForm, RegisterForm};
use super::respond::LinkPage;
use super::state::App;
use usher_core::config::Secret;
use usher_core::error::Error;
use usher_core::service::Enrolment;

/// The client's address, set by the protecting middleware.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

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

/// Which kind of link a path carries.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Invitation,
    Registration,
}

/// The link behind a token, as a page; Err is the response for a link that cannot be
/// used, or a failure.
async fn link(
    app: &App,
    u: &usher_core::Usher,
    kind: Kind,
    token: &str,
) -> Result<LinkPage, Response> {
    let page = match kind {
        Kind::Invitation => u
            .enrol_page(token)
            .await
            .map(|p| p.map(|p| LinkPage::invitation(token, p))),
        Kind::Registration => u
            .registration_page(token)
            .await
            .map(|p| p.map(|p| LinkPage::registration(token, p))),
    };
    match page {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(app.unusable()),
        Err(e) => Err(app.failed(&e)),
    }
}

/// What every post to a link goes through first: its limits and CSRF, then the link.
/// Gives the core acting for this client, and the page.
async fn posted(
    app: &App,
    ip: IpAddr,
    headers: &HeaderMap,
    f: &AccountForm,
    kind: Kind,
    token: &str,
) -> Result<(usher_core::Usher, LinkPage), Response> {
    if let Some(r) = app.refuse_post(headers, &f.csrf, Some(token)) {
        return Err(r);
    }
    let u = app.usher_for(ip);
    let page = link(app, &u, kind, token).await?;
    Ok((u, page))
}

/// The form page of a link.
async fn shown(app: &App, kind: Kind, token: &str) -> Response {
    match link(app, &app.usher, kind, token).await {
        Ok(page) => app.account_form(&page, None, None),
        Err(r) => r,
    }
}

pub async fn enrol_get(State(app): State<Arc<App>>, Path(token): Path<String>) -> Response {
    shown(&app, Kind::Invitation, &token).await
}

pub async fn enrol_post(
    State(app): State<Arc<App>>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(f): Form<AccountForm>,
) -> Response {
    let (u, link) = match posted(&app, ip, &headers, &f, Kind::Invitation, &token).await {
        Ok(x) => x,
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
    shown(&app, Kind::Registration, &token).await
}

pub async fn complete_post(
    State(app): State<Arc<App>>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(f): Form<AccountForm>,
) -> Response {
    let (u, link) = match posted(&app, ip, &headers, &f, Kind::Registration, &token).await {
        Ok(x) => x,
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
