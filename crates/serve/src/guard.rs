//! What stands between the internet and the enrolment forms: the client's address (from a
//! trusted proxy's X-Forwarded-For, else the peer), rate limits per client and per link,
//! and a double-submit CSRF token bound to a SameSite=Strict cookie and signed by the
//! server, so that only a value it issued passes.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

use axum::http::HeaderMap;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use usher_core::domain::mac::MacKey;
use usher_core::domain::token::random_hex;

/// The client a request comes from. Behind a trusted proxy, the rightmost address in
/// X-Forwarded-For that is not itself a trusted proxy (the leftmost is the client's to forge).
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let peer = peer.ip().to_canonical();
    if !trusted.contains(&peer) {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .map(|a| a.to_canonical())
        .rev()
        .find(|a| !trusted.contains(a))
        .unwrap_or(peer)
}

#[derive(Debug)]
pub struct Limits {
    per_client: DefaultKeyedRateLimiter<IpAddr>,
    per_link: DefaultKeyedRateLimiter<String>,
}

impl Limits {
    pub fn new(requests_per_minute: u32, attempts_per_link_hour: u32) -> Self {
        let nz = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        Self {
            per_client: RateLimiter::keyed(Quota::per_minute(nz(requests_per_minute))),
            per_link: RateLimiter::keyed(Quota::per_hour(nz(attempts_per_link_hour))),
        }
    }

    pub fn client_allowed(&self, ip: IpAddr) -> bool {
        self.per_client.check_key(&ip).is_ok()
    }

    /// Keyed by the token's hash, so the plain token is not even kept in memory.
    pub fn link_allowed(&self, token: &str) -> bool {
        self.per_link
            .check_key(&usher_core::domain::token::hash_token(token))
            .is_ok()
    }

    /// Forgets clients and links that are back to a full allowance, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.per_client.retain_recent();
        self.per_link.retain_recent();
    }
}

/// The CSRF cookie's name: the `__Host-` prefix (bound to this origin, Secure, Path=/)
/// when served over HTTPS.
pub fn csrf_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-usher_csrf"
    } else {
        "usher_csrf"
    }
}

/// A fresh CSRF value, a random nonce and its MAC under the server's key, and the
/// Set-Cookie header that carries it. A cookie set by other means (a script on a sibling
/// host, a hand-edited browser) lacks the MAC and is refused.
pub fn new_csrf(secure: bool, key: &MacKey) -> (String, String) {
    let nonce = random_hex(16).unwrap_or_default();
    let v = format!("{nonce}.{}", key.sign(nonce.as_bytes()));
    let cookie = format!(
        "{}={v}; Path=/; HttpOnly; SameSite=Strict{}",
        csrf_cookie_name(secure),
        if secure { "; Secure" } else { "" }
    );
    (v, cookie)
}

/// The CSRF value of the request's cookie, if any.
pub fn csrf_from_cookie(headers: &HeaderMap, secure: bool) -> Option<String> {
    let name = csrf_cookie_name(secure);
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A form post is genuine when its hidden field matches its cookie (compared in constant
/// time), the cookie is one the server signed, and, when the browser names an Origin, it
/// is ours. Under `Referrer-Policy:
/// no-referrer` browsers send `Origin: null` with a form post, which proves nothing either
/// way; the SameSite=Strict cookie still does.
pub fn csrf_ok(headers: &HeaderMap, field: &str, secure: bool, origin: &str, key: &MacKey) -> bool {
    if let Some(o) = headers.get(axum::http::header::ORIGIN)
        && o.as_bytes() != b"null"
        && o.as_bytes() != origin.as_bytes()
    {
        return false;
    }
    let Some(cookie) = csrf_from_cookie(headers, secure) else {
        return false;
    };
    let signed = cookie
        .split_once('.')
        .is_some_and(|(nonce, tag)| !nonce.is_empty() && key.verify(nonce.as_bytes(), tag));
    signed && constant_time_eq(cookie.as_bytes(), field.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                *k,
                HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")),
            );
        }
        h
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = [127, 0, 0, 1].into();
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 10.1.2.3")]);
        let peer = SocketAddr::new(proxy, 40000);
        assert_eq!(client_ip(peer, &h, &[proxy]), IpAddr::from([10, 1, 2, 3]));
        assert_eq!(client_ip(peer, &h, &[]), proxy);
        let other = SocketAddr::new([192, 0, 2, 9].into(), 1);
        assert_eq!(client_ip(other, &h, &[proxy]), IpAddr::from([192, 0, 2, 9]));
    }

    #[test]
    fn csrf_needs_the_matching_cookie_and_our_origin() {
        let key = MacKey::generate().unwrap();
        let ok_for =
            |h: &HeaderMap, field: &str| csrf_ok(h, field, false, "http://localhost:8080", &key);
        let (v, _) = new_csrf(false, &key);
        let ok = headers(&[("cookie", &format!("a=b; usher_csrf={v}"))]);
        assert!(ok_for(&ok, &v));
        assert!(!ok_for(&ok, "forged"));
        assert!(!ok_for(&headers(&[]), &v));
        let cross = headers(&[
            ("cookie", &format!("usher_csrf={v}")),
            ("origin", "https://evil.test"),
        ]);
        assert!(!ok_for(&cross, &v));
        let opaque = headers(&[("cookie", &format!("usher_csrf={v}")), ("origin", "null")]);
        assert!(ok_for(&opaque, &v));
    }

    #[test]
    fn a_cookie_the_server_did_not_sign_is_refused() {
        let key = MacKey::generate().unwrap();
        let ok_for =
            |h: &HeaderMap, field: &str| csrf_ok(h, field, false, "http://localhost:8080", &key);
        for forged in [
            "aaaa",
            "aaaa.bbbb",
            ".",
            "x.",
            &new_csrf(false, &MacKey::generate().unwrap()).0,
        ] {
            let h = headers(&[("cookie", &format!("usher_csrf={forged}"))]);
            assert!(!ok_for(&h, forged), "{forged}");
        }
    }

    #[test]
    fn each_link_gets_its_own_allowance() {
        let l = Limits::new(100, 2);
        assert!(l.link_allowed("a") && l.link_allowed("a"));
        assert!(!l.link_allowed("a"));
        assert!(l.link_allowed("b"));
    }
}
