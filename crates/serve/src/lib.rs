//! `usher serve`: the enrolment server behind the invitation link
//! (docs/rules.md#enrolment), with self-registration, and the mail sender and reminders
//! running beside it. Plain HTTP for a reverse proxy, or HTTPS from PEM files. It stops
//! gracefully: requests in flight finish, the sender ends its batch.

mod conn;
mod error;
mod forms;
mod guard;
mod pages;
mod password;
mod respond;
mod routes;
mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use usher_core::error::Result;
use usher_core::mail::Sender;

pub use error::ServeError;
pub use guard::{Limits, client_ip};
pub use pages::Pages;
pub use state::App;

/// Largest form accepted: two passwords of 1024 characters, percent-encoded, and change.
const BODY_LIMIT: usize = 32 * 1024;
/// Time to send a request's headers, from the connection's start or its last answer
/// (so it bounds an idle keep-alive connection too), and to finish a TLS handshake.
const HEADERS: Duration = Duration::from_secs(10);
const HANDSHAKE: Duration = Duration::from_secs(10);
/// Time to read a request's body and answer it.
const REQUEST: Duration = Duration::from_secs(30);
/// Seconds between reminder runs.
const REMINDER_EVERY: Duration = Duration::from_secs(60);

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route(
            "/enrol/{token}",
            get(routes::enrol_get).post(routes::enrol_post),
        )
        .route(
            "/register",
            get(routes::register_get).post(routes::register_post),
        )
        .route(
            "/register/{token}",
            get(routes::complete_get).post(routes::complete_post),
        )
        .route(
            "/password/forgot",
            get(password::forgot_get).post(password::forgot_post),
        )
        .route(
            "/password/reset/{token}",
            get(password::reset_get).post(password::reset_post),
        )
        .route(
            "/password/change",
            get(password::change_get).post(password::change_post),
        )
        .route("/static/usher.css", get(routes::css))
        .route("/healthz", get(routes::health))
        .fallback(routes::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST,
        ))
        // Outermost, so that a 413 or a timeout is logged and carries the headers too.
        .layer(middleware::from_fn_with_state(app.clone(), protect))
        .with_state(app)
}

/// The path as logged: its first segment only, since the rest of an enrolment path is the
/// link's secret.
fn loggable(path: &str) -> String {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    match first {
        "enrol" | "register" if path.len() > first.len() + 1 => format!("/{first}/…"),
        "password" if path.starts_with("/password/reset/") => "/password/reset/…".into(),
        "enrol" | "register" | "password" | "static" | "healthz" => path.chars().take(40).collect(),
        _ => "/…".into(),
    }
}

/// Per-client rate limit, security headers and an access log without secrets.
async fn protect(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let ip = client_ip(peer, req.headers(), &app.trusted);
    let method = req.method().clone();
    let path = loggable(req.uri().path());
    let mut resp = if app.limits.client_allowed(ip) {
        req.extensions_mut().insert(routes::ClientIp(ip));
        app.own_error(next.run(req).await)
    } else {
        app.too_many()
    };
    let status = resp.status();
    let h = resp.headers_mut();
    for (name, value) in [
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    // These answer before the request body is read, so the connection cannot carry another
    // request: saying so stops a client reusing it and losing its next request to the close.
    if matches!(
        status,
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS
    ) {
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    if app.secure {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    tracing::info!(
        client = %ip,
        method = %method,
        path = %path,
        status = resp.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    resp
}

/// Runs the server on `listener` until `shutdown` resolves, with the mail sender (if
/// given) and the reminders beside it; then lets requests in flight finish.
pub async fn run(
    app: App,
    listener: std::net::TcpListener,
    tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
    sender: Option<Sender>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let app = Arc::new(app);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let mut background = tokio::task::JoinSet::new();
    if let Some(sender) = sender {
        let stop = stopped(stop_rx.clone());
        background.spawn(async move { sender.run_until(stop).await });
    }
    {
        let app = app.clone();
        let mut stop = stop_rx.clone();
        background.spawn(async move {
            loop {
                match app.usher.send_reminders().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!("queued {n} reminder(s)"),
                    Err(e) => tracing::warn!("reminders: {e}"),
                }
                app.limits.forget_idle();
                anchor_audit(&app).await;
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => return,
                    () = tokio::time::sleep(REMINDER_EVERY) => {}
                }
            }
        });
    }
    if !app.sync.is_empty() {
        let app = app.clone();
        let stop = stop_rx.clone();
        background.spawn(async move { sync_on_schedule(app, stop).await });
    }
    let handle = axum_server::Handle::<SocketAddr>::new();
    {
        let handle = handle.clone();
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down: finishing requests in flight");
            handle.graceful_shutdown(Some(Duration::from_secs(10)));
            let _ = stop_tx.send(true);
        });
    }
    listener.set_nonblocking(true).map_err(ServeError::Listen)?;
    let limits = app.connections.clone();
    tracing::info!(
        "at most {} connection(s) at once, {} per client",
        limits.total(),
        limits.per_client()
    );
    let service = router(app).into_make_service_with_connect_info::<SocketAddr>();
    let server = axum_server::from_tcp(listener).map_err(ServeError::Listen)?;
    let served = match tls {
        Some((cert, key)) => {
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .map_err(|e| ServeError::Tls {
                    cert: cert.clone(),
                    key: key.clone(),
                    reason: e.to_string(),
                })?;
            // HTTP/1.1 alone, as in plain HTTP: the header deadline is HTTP/1's.
            let mut only_h1 = (*config.get_inner()).clone();
            only_h1.alpn_protocols = vec![b"http/1.1".to_vec()];
            let config = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(only_h1));
            let inner =
                axum_server::tls_rustls::RustlsAcceptor::new(config).handshake_timeout(HANDSHAKE);
            let mut server = server
                .acceptor(conn::Guarded { inner, limits })
                .http1_only();
            timed(server.http_builder());
            server.handle(handle).serve(service).await
        }
        None => {
            let inner = axum_server::accept::DefaultAcceptor;
            let mut server = server
                .acceptor(conn::Guarded { inner, limits })
                .http1_only();
            timed(server.http_builder());
            server.handle(handle).serve(service).await
        }
    };
    served.map_err(ServeError::Listen)?;
    while background.join_next().await.is_some() {}
    Ok(())
}

/// HTTP/1.1 only, with the header deadline (hyper keeps none without a timer, so a client
/// sending a header byte every few seconds held its connection for ever).
fn timed(builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>) {
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADERS);
}

/// Anchors changes made where the audit key cannot be read (an operator's own command),
/// and says loudly when the chain no longer verifies from the anchor on.
async fn anchor_audit(app: &App) {
    if app.usher.store().anchor().is_none() {
        return;
    }
    if let Err(e) = app.usher.anchor_audit().await {
        tracing::error!("audit: {e}");
    }
}

/// How often the schedule looks for a source that is due.
const SYNC_CHECK_EVERY: Duration = Duration::from_secs(30);

/// Runs each directory source when it is due (docs/sync.md#incremental-runs-and-the-schedule), and logs what it
/// did: a held run waits for an operator, who is told how to approve it.
async fn sync_on_schedule(app: Arc<App>, mut stop: tokio::sync::watch::Receiver<bool>) {
    use usher_core::service::RunOutcome;
    loop {
        for (name, result) in app.usher.sync_scheduled(&app.sync).await {
            match result {
                Ok(r) if r.outcome == RunOutcome::Held => tracing::warn!(
                    "sync {name}: run {} held, nothing changed: {}; approve it with \
                     `usher sync {name} --apply --approve {} --yes`",
                    r.run_id,
                    r.held_reason.unwrap_or_default(),
                    r.run_id
                ),
                Ok(r) => tracing::info!(
                    "sync {name}: run {} {} ({} read, {} entries){}",
                    r.run_id,
                    r.outcome.as_str(),
                    r.scope,
                    r.entries,
                    r.applied
                        .map(|o| format!(": {}", o.summary()))
                        .unwrap_or_default()
                ),
                Err(e) => tracing::error!("sync {name}: {e}"),
            }
        }
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            () = tokio::time::sleep(SYNC_CHECK_EVERY) => {}
        }
    }
}

/// Installs ring as rustls's provider for the server's TLS (once per process).
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_paths_are_not_logged() {
        assert_eq!(loggable("/enrol/SECRET-TOKEN"), "/enrol/…");
        assert_eq!(loggable("/register/SECRET"), "/register/…");
        assert_eq!(loggable("/register"), "/register");
        assert_eq!(loggable("/password/reset/SECRET"), "/password/reset/…");
        assert_eq!(loggable("/password/change"), "/password/change");
        assert_eq!(loggable("/anything/else"), "/…");
    }
}
