//! The password pages: "forgot password" (a mailed link), the page behind that link, and
//! a change with the current password. Guarded like the enrolment forms: CSRF, a limit per
//! link, and a limit per address on the change form against guessing.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::forms::PasswordForm;
use super::respond::fixable;
use super::routes::ClientIp;
use super::state::App;
use usher_core::config::Secret;
use usher_core::error::Error;
use usher_core::service::ResetPage;
use usher_core::store::User;

pub async fn forgot_get(State(app): State<Arc<App>>) -> Response {
    app.form(StatusCode::OK, "forgot.html", json!({"email": ""}))
}

pub async fn forgot_post(
    State(app): State<Arc<App>>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    headers: HeaderMap,
    Form(f): Form<PasswordForm>,
) -> Response {
    if let Some(r) = app.refuse_post(&headers, &f.csrf, None) {
        return r;
    }
    match app.usher_for(ip).request_password_reset(&f.email).await {
        Ok(()) => app.message(
            StatusCode::OK,
            "",
            "Check your mail",
            &[
                &format!(
                    "If {} has an account here, a link to choose a new password is on its way.",
                    f.email.trim()
                ),
                "The link works once, for an hour. If nothing arrives, ask your administrator.",
            ],
        ),
        Err(e @ (Error::Email(_) | Error::Emails(_))) => app.form(
            StatusCode::UNPROCESSABLE_ENTITY,
            "forgot.html",
            json!({"email": f.email, "error": format!("That is not a mail address: {e}")}),
        ),
        Err(e) => app.failed(&e),
    }
}

/// The password page with `fields` (what differs between the reset and the change
/// forms), and the reason of a refused post: 422 with it, 200 without.
fn password_form(
    app: &App,
    mut fields: serde_json::Value,
    err: Option<(&str, String)>,
) -> Response {
    let status = if err.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    fields["min_password"] = json!(usher_core::service::enrol_min_password());
    fields["error_field"] = json!(err.as_ref().map(|e| e.0));
    fields["error"] = json!(err.map(|e| e.1));
    app.form(status, "password.html", fields)
}

/// The form behind a reset link, with the reason of a refused post.
fn reset_form(app: &App, token: &str, page: &ResetPage, err: Option<(&str, String)>) -> Response {
    let fields = json!({
        "heading": format!("A new password for {}", page.org),
        "email": page.email,
        "expires": page.expires,
        "action": format!("/password/reset/{token}"),
    });
    password_form(app, fields, err)
}

async fn reset_page(app: &App, token: &str) -> Result<ResetPage, Response> {
    match app.usher.password_reset_page(token).await {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(app.unusable()),
        Err(e) => Err(app.failed(&e)),
    }
}

pub async fn reset_get(State(app): State<Arc<App>>, Path(token): Path<String>) -> Response {
    match reset_page(&app, &token).await {
        Ok(page) => reset_form(&app, &token, &page, None),
        Err(r) => r,
    }
}

pub async fn reset_post(
    State(app): State<Arc<App>>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(f): Form<PasswordForm>,
) -> Response {
    if let Some(r) = app.refuse_post(&headers, &f.csrf, Some(&token)) {
        return r;
    }
    let page = match reset_page(&app, &token).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if f.password != f.confirm {
        return reset_form(&app, &token, &page, Some(("confirm", differ())));
    }
    match app
        .usher_for(ip)
        .reset_password(&token, &Secret::new(f.password.clone()))
        .await
    {
        Ok(user) => changed(&app, &page.org, &user),
        Err(Error::LinkUnusable) => app.unusable(),
        Err(e) => match fixable(&e) {
            Some(err) => reset_form(&app, &token, &page, Some(err)),
            None => app.failed(&e),
        },
    }
}

fn change_form(app: &App, email: &str, err: Option<(&str, String)>) -> Response {
    let fields = json!({
        "heading": "Change your password",
        "change": true,
        "email": email,
        "action": "/password/change",
    });
    password_form(app, fields, err)
}

pub async fn change_get(State(app): State<Arc<App>>) -> Response {
    change_form(&app, "", None)
}

pub async fn change_post(
    State(app): State<Arc<App>>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    headers: HeaderMap,
    Form(f): Form<PasswordForm>,
) -> Response {
    // Guesses at one address are limited like posts to one link.
    let key = format!("change:{}", f.email.trim().to_lowercase());
    if let Some(r) = app.refuse_post(&headers, &f.csrf, Some(&key)) {
        return r;
    }
    if f.password != f.confirm {
        return change_form(&app, &f.email, Some(("confirm", differ())));
    }
    let u = app.usher_for(ip);
    let current = Secret::new(f.current.clone());
    match u
        .change_password(&f.email, &current, &Secret::new(f.password.clone()))
        .await
    {
        Ok(user) => changed(&app, "", &user),
        Err(e) => match fixable(&e) {
            Some(err) => change_form(&app, &f.email, Some(err)),
            None => app.failed(&e),
        },
    }
}

fn differ() -> String {
    "The two passwords differ.".into()
}

fn changed(app: &App, org: &str, user: &User) -> Response {
    app.message(
        StatusCode::OK,
        org,
        "Your password is changed",
        &[
            &format!("{} has a new password.", user.email_display),
            "Use it from now on, in your mail programs too: the old one no longer works.",
        ],
    )
}
