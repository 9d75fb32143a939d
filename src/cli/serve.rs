//! `usher serve`: binds, says where it listens, and runs until SIGTERM or Ctrl-C.

use std::net::SocketAddr;

use clap::Args;
use color_eyre::eyre::{Result, WrapErr};

use usher::Usher;
use usher::config::Config;
use usher::mail::Sender;
use usher::serve::{App, install_crypto, run as serve};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen here instead of serve.bind (e.g. 0.0.0.0:8080; port 0 picks a free one)
    #[arg(long)]
    pub bind: Option<SocketAddr>,
    /// Do not run the mail sender (another process, `usher outbox flush` from cron or a
    /// console, sends the mail)
    #[arg(long)]
    pub no_send: bool,
}

pub async fn run(config: &Config, u: &Usher, sender: Sender, a: &ServeArgs) -> Result<()> {
    install_crypto();
    let bind = a.bind.unwrap_or(config.serve.bind);
    let listener = std::net::TcpListener::bind(bind)
        .wrap_err_with(|| format!("cannot listen on {bind} (serve.bind, or --bind)"))?;
    let local = listener.local_addr()?;
    let app = App::new(u.clone(), config)?;
    let scheme = if config.serve.tls.is_some() {
        "https"
    } else {
        "http"
    };
    // The first line is for people and for scripts that start the server on port 0.
    say(format_args!(
        "usher serve: listening on {scheme}://{local}; links point at {}",
        u.public_url()
    ));
    if !a.no_send {
        say(format_args!(
            "usher serve: sending mail ({:?})",
            config.mail.transport
        ));
    }
    if let Some(h) = config.serve.reminder_hours_before {
        say(format_args!(
            "usher serve: reminders {h} hour(s) before an invitation expires"
        ));
    }
    for s in config.sync.iter() {
        match s.interval {
            Some(i) => say(format_args!(
                "usher serve: sync {} every {} minute(s), a full read every {} hour(s)",
                s.name,
                i.as_secs() / 60,
                s.full_interval.as_secs() / 3600
            )),
            None => say(format_args!(
                "usher serve: sync {} has no interval_minutes: run by hand only",
                s.name
            )),
        }
    }
    serve(
        app,
        listener,
        config.serve.tls.clone(),
        (!a.no_send).then_some(sender),
        stop_signal(),
    )
    .await?;
    say(format_args!("usher serve: stopped"));
    Ok(())
}

/// A line on stdout; a closed stdout (a supervisor that stopped reading) is no reason to
/// stop serving.
fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// SIGTERM (systemd's stop) or SIGINT (Ctrl-C).
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
