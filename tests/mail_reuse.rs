//! usher keeps its SMTP connections between messages (mail/smtp.rs). A relay that closes
//! a connection after each message, without a word, must not hold the next message back
//! until its retry: the kept connection that turns out gone is replaced at once, and
//! every message arrives once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{TestDb, account, invite_req};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use usher::domain::UserType;

/// A relay that takes one message per connection, then closes it silently. Returns its
/// port and the count of messages and connections.
async fn one_message_relay() -> (u16, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (messages, connections) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (m, c) = (messages.clone(), connections.clone());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            let m = m.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 relay ready\r\n").await.unwrap();
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    let reply: &[u8] = if in_data {
                        if line != "." {
                            continue;
                        }
                        m.fetch_add(1, Ordering::SeqCst);
                        write.write_all(b"250 queued\r\n").await.unwrap();
                        // Gone, without a 421: the client finds out on its next command.
                        return;
                    } else if line.starts_with("EHLO") {
                        b"250-relay\r\n250 8BITMIME\r\n"
                    } else if line.starts_with("DATA") {
                        in_data = true;
                        b"354 go on\r\n"
                    } else if line.starts_with("QUIT") {
                        b"221 bye\r\n"
                    } else {
                        b"250 ok\r\n"
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, messages, connections)
}

#[tokio::test]
async fn a_kept_connection_the_relay_closed_is_replaced_at_once() {
    let db = TestDb::sqlite();
    let (u, clock) = account(&db, 5).await;
    for who in ["ann", "bob", "cy"] {
        u.invite(&invite_req(&format!("{who}@acme.test"), UserType::Guest))
            .await
            .unwrap();
    }
    let (port, messages, connections) = one_message_relay().await;
    let toml = format!(
        "[mail]\ntransport = \"smtp\"\nfrom = \"it@acme.test\"\nconcurrency = 1\n\
         [mail.smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\ntimeout_seconds = 5\n"
    );
    let r = common::sender_from_toml(&u, &clock, &toml, Vec::new())
        .flush()
        .await
        .unwrap();
    assert_eq!((r.sent, r.retried, r.failed), (3, 0, 0), "{r:?}");
    assert_eq!(messages.load(Ordering::SeqCst), 3, "each message once");
    assert_eq!(
        connections.load(Ordering::SeqCst),
        3,
        "a new connection each time"
    );
}
