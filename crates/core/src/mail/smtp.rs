//! The SMTP connections usher keeps to its relay. usher opens each socket itself, with
//! `TCP_NODELAY`, and hands it to lettre's SMTP session: lettre writes the end of a
//! message's data apart from the data, and with Nagle's algorithm on, that last write
//! waited for the relay's delayed acknowledgement (about 40 ms a message, so 23 messages
//! a second per connection). See docs/performance.md.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::send_error::SendError;
use crate::domain::sanitize::single_line;

/// How the connection is secured.
pub(super) enum Security {
    None,
    /// STARTTLS, required: lettre's own upgrade.
    Starttls(TlsParameters),
    /// TLS from the first byte (SMTPS, port 465).
    Implicit(Arc<rustls::ClientConfig>),
}

/// Where and how to connect.
pub(super) struct Relay {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub hello: ClientId,
    pub credentials: Option<Credentials>,
    /// For connecting, and for each message's whole exchange.
    pub timeout: Duration,
}

/// A connection that has sat idle this long is checked (NOOP) before it is used again;
/// a relay may have closed it. One in use back to back is not: the check would cost a
/// round trip per message.
const CHECK_AFTER: Duration = Duration::from_secs(5);
/// One idle this long is closed instead of used (relays drop idle clients after about
/// five minutes; Postfix's `smtpd_timeout` is 300 s).
const IDLE_LIMIT: Duration = Duration::from_secs(60);

pub struct SmtpPool {
    relay: Relay,
    max_idle: usize,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
}

impl std::fmt::Debug for SmtpPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmtpPool({}:{})", self.relay.host, self.relay.port)
    }
}

impl SmtpPool {
    pub(super) fn new(relay: Relay, max_idle: usize) -> Self {
        Self {
            relay,
            max_idle: max_idle.max(1),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Sends one message over a kept connection, or a new one. A connection that failed
    /// in any way is closed, never reused. A kept one that the relay had closed (a
    /// network error, no reply) is replaced once by a new one: nothing reached the relay
    /// on it, so the message is not held back until its retry.
    pub async fn send(&self, envelope: &Envelope, raw: &[u8]) -> Result<(), SendError> {
        let (conn, reused) = self.connection().await?;
        match self.send_on(conn, envelope, raw).await {
            Err(Failure::Network(_)) if reused => {
                let (conn, _) = self.connection_new().await?;
                self.send_on(conn, envelope, raw)
                    .await
                    .map_err(Failure::into)
            }
            r => r.map_err(Failure::into),
        }
    }

    async fn send_on(
        &self,
        mut conn: AsyncSmtpConnection,
        envelope: &Envelope,
        raw: &[u8],
    ) -> Result<(), Failure> {
        match tokio::time::timeout(self.relay.timeout, conn.send(envelope, raw)).await {
            Ok(Ok(_)) => {
                if !conn.has_broken() {
                    self.keep(conn);
                }
                Ok(())
            }
            Ok(Err(e)) => {
                close(conn).await;
                // No reply at all (a reset, or the stream ended: lettre's "incomplete
                // response"), as against the relay's 4xx or 5xx.
                let network = !(e.is_transient()
                    || e.is_permanent()
                    || e.is_client()
                    || e.is_tls()
                    || e.is_timeout());
                let why = classify(&e);
                Err(if network {
                    Failure::Network(why)
                } else {
                    Failure::Other(why)
                })
            }
            Err(_) => Err(Failure::Other(SendError::Transient(format!(
                "no answer from {}:{} within {:?}",
                self.relay.host, self.relay.port, self.relay.timeout
            )))),
        }
    }

    /// Closes the idle connections (QUIT), as a flush ends.
    pub async fn close_idle(&self) {
        let idle: Vec<_> = match self.idle.lock() {
            Ok(mut v) => v.drain(..).collect(),
            Err(_) => return,
        };
        for (conn, _) in idle {
            close(conn).await;
        }
    }

    /// A kept connection (true) or a new one (false).
    async fn connection(&self) -> Result<(AsyncSmtpConnection, bool), SendError> {
        while let Some((mut conn, since)) = self.take_idle() {
            let idle = since.elapsed();
            if idle > IDLE_LIMIT {
                close(conn).await;
            } else if idle < CHECK_AFTER || conn.test_connected().await {
                return Ok((conn, true));
            }
        }
        self.connection_new().await
    }

    async fn connection_new(&self) -> Result<(AsyncSmtpConnection, bool), SendError> {
        let timeout = self.relay.timeout;
        match tokio::time::timeout(timeout, self.connect()).await {
            Ok(conn) => Ok((conn?, false)),
            Err(_) => Err(SendError::Transient(format!(
                "{}:{}: no greeting within {timeout:?}",
                self.relay.host, self.relay.port
            ))),
        }
    }

    fn take_idle(&self) -> Option<(AsyncSmtpConnection, Instant)> {
        self.idle.lock().ok()?.pop()
    }

    fn keep(&self, conn: AsyncSmtpConnection) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.max_idle
        {
            idle.push((conn, Instant::now()));
        }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let r = &self.relay;
        let unreachable =
            |e: std::io::Error| SendError::Transient(format!("{}:{}: {e}", r.host, r.port));
        let tcp = TcpStream::connect((r.host.as_str(), r.port))
            .await
            .map_err(unreachable)?;
        tcp.set_nodelay(true).map_err(unreachable)?;
        let mut conn = match &r.security {
            Security::Implicit(config) => {
                let name = rustls::pki_types::ServerName::try_from(r.host.clone())
                    .map_err(|e| SendError::Permanent(format!("{}: {e}", r.host)))?;
                let tls = TlsConnector::from(config.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|e| SendError::Transient(format!("TLS with {}: {e}", r.host)))?;
                AsyncSmtpConnection::connect_with_transport(Box::new(Implicit(tls)), &r.hello).await
            }
            _ => AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &r.hello).await,
        }
        .map_err(|e| classify(&e))?;
        if let Security::Starttls(params) = &r.security {
            conn.starttls(params.clone(), &r.hello)
                .await
                .map_err(|e| classify(&e))?;
        }
        if let Some(credentials) = &r.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await
                .map_err(|e| classify(&e))?;
        }
        Ok(conn)
    }
}

/// How a send failed: on the network (no reply: the connection was gone), or otherwise.
enum Failure {
    Network(SendError),
    Other(SendError),
}

impl From<Failure> for SendError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Network(e) | Failure::Other(e) => e,
        }
    }
}

async fn close(mut conn: AsyncSmtpConnection) {
    // A relay that does not answer QUIT must not hold the sender up.
    let _ = tokio::time::timeout(Duration::from_secs(2), conn.abort()).await;
}

fn classify(e: &lettre::transport::smtp::Error) -> SendError {
    let text = single_line(&e.to_string());
    if e.is_permanent() {
        SendError::Permanent(text)
    } else {
        SendError::Transient(text)
    }
}

/// A TLS stream as lettre's session takes it.
#[derive(Debug)]
struct Implicit(TlsStream<TcpStream>);

impl AsyncTokioStream for Implicit {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

impl tokio::io::AsyncRead for Implicit {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Implicit {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// The roots an implicit TLS connection trusts: the system's, and the CA file's as
/// lettre's STARTTLS does.
pub(super) fn implicit_config(ca_pem: Option<&[u8]>) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        // A system certificate rustls cannot read is skipped, as lettre skips it.
        let _ = roots.add(cert);
    }
    if let Some(pem) = ca_pem {
        crate::tls::add_pem(&mut roots, pem)?;
    }
    crate::tls::client_config(roots)
}
