//! Bounds on connections, so that clients which open many and send slowly cannot starve
//! the rest: a cap in all and per client address, taken before the TLS handshake and
//! held until the connection closes. The time limits themselves (headers, handshake) are
//! set where the server is built.

use std::collections::HashMap;
use std::future::{Ready, ready};
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum_server::accept::Accept;
use futures::future::Either;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Leave this many descriptors for the database, the mail relay, files and logs.
const SPARE_FILES: u64 = 64;

/// How many connections are open, in all and per address.
#[derive(Debug)]
pub struct ConnLimits {
    total: usize,
    per_client: usize,
    /// Addresses held only by the total: trusted proxies, whose clients are many.
    exempt: Vec<IpAddr>,
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

impl ConnLimits {
    pub fn new(total: usize, per_client: usize, exempt: Vec<IpAddr>) -> Arc<Self> {
        Arc::new(Self {
            total: total.min(file_allowance()).max(1),
            per_client,
            exempt,
            open: Mutex::new((0, HashMap::new())),
        })
    }

    pub fn total(&self) -> usize {
        self.total
    }

    pub fn per_client(&self) -> usize {
        self.per_client
    }

    /// A place for a connection from `ip`, or None when it would pass a limit.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Permit> {
        let ip = ip.to_canonical();
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let (all, by_ip) = &mut *open;
        let mine = by_ip.get(&ip).copied().unwrap_or(0);
        if *all >= self.total || (mine >= self.per_client && !self.exempt.contains(&ip)) {
            return None;
        }
        *all += 1;
        by_ip.insert(ip, mine + 1);
        Some(Permit {
            limits: self.clone(),
            ip,
        })
    }
}

/// The open-file limit, raised to its hard ceiling, less what the rest of the server needs.
fn file_allowance() -> usize {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return usize::MAX;
    };
    let limit = if hard > soft && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
        hard
    } else {
        soft
    };
    usize::try_from(limit.saturating_sub(SPARE_FILES).max(1)).unwrap_or(usize::MAX)
}

/// One connection's place, given back when the connection is dropped.
#[derive(Debug)]
pub struct Permit {
    limits: Arc<ConnLimits>,
    ip: IpAddr,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut open = self.limits.open.lock().unwrap_or_else(|e| e.into_inner());
        let (all, by_ip) = &mut *open;
        *all = all.saturating_sub(1);
        if let Some(n) = by_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                by_ip.remove(&self.ip);
            }
        }
    }
}

/// A connection that holds its place while it lives.
#[derive(Debug)]
pub struct Counted {
    stream: TcpStream,
    _permit: Permit,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// An acceptor that admits a connection within the limits, then hands it to `inner` (plain
/// or TLS); one over a limit is closed at once, before any work is spent on it.
#[derive(Debug, Clone)]
pub struct Guarded<A> {
    pub inner: A,
    pub limits: Arc<ConnLimits>,
}

impl<A, S> Accept<TcpStream, S> for Guarded<A>
where
    A: Accept<Counted, S>,
{
    type Stream = A::Stream;
    type Service = A::Service;
    type Future = Either<A::Future, Ready<io::Result<(A::Stream, A::Service)>>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let permit = stream
            .peer_addr()
            .ok()
            .and_then(|peer| self.limits.admit(peer.ip()));
        match permit {
            Some(permit) => Either::Left(self.inner.accept(
                Counted {
                    stream,
                    _permit: permit,
                },
                service,
            )),
            None => {
                tracing::debug!("connection refused: over the connection limit");
                Either::Right(ready(Err(io::Error::other("over the connection limit"))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn places_are_held_per_client_and_in_all_and_given_back() {
        let l = ConnLimits::new(3, 2, vec![[10, 0, 0, 1].into()]);
        let a: IpAddr = [192, 0, 2, 1].into();
        let proxy: IpAddr = [10, 0, 0, 1].into();
        let first = l.admit(a).unwrap();
        let _second = l.admit(a).unwrap();
        assert!(l.admit(a).is_none(), "two per client");
        let _p = l.admit(proxy).unwrap();
        assert!(l.admit(proxy).is_none(), "three in all, proxies included");
        drop(first);
        assert!(
            l.admit(a).is_some(),
            "a closed connection gives its place back"
        );
    }
}
