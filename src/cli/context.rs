//! What every command that touches the database needs, built once: the configuration,
//! the core, and a mail sender on demand.

use std::sync::Arc;
use std::time::Duration;

use color_eyre::eyre::Result;
use usher::Usher;
use usher::config::{Config, Overrides, ProcessEnv};
use usher::domain::{Actor, SystemClock};
use usher::mail::{MailTransport, Sender, SenderSettings};
use usher::service::Settings;
use usher::store::{ConnectOptions, Store};

use super::args::{Cli, Command, DbCmd};

/// Everything a command needs, built once.
pub struct Context {
    pub config: Config,
    pub usher: Usher,
}

impl Context {
    pub async fn open(cli: &Cli) -> Result<Self> {
        let config = Config::load(
            &Overrides {
                config: cli.config.clone(),
                database_url: cli.database_url.clone(),
            },
            &ProcessEnv,
        )?;
        let mut store = Store::open(
            &config.database_url,
            &ConnectOptions {
                password: config.database_password.clone(),
                // The console (no command) must say "reconnecting" within seconds of
                // losing the database; a command may wait longer for it.
                connect_timeout: Duration::from_secs(if cli.command.is_none() { 4 } else { 10 }),
                create: matches!(
                    cli.command,
                    Some(Command::Init(_) | Command::Db(DbCmd::Migrate))
                ),
                ..ConnectOptions::default()
            },
        )
        .await?;
        anchor(&mut store, &config).await;
        let actor = Actor::detect(
            config.operator.as_deref(),
            std::env::var("SSH_CONNECTION").ok().as_deref(),
        );
        let settings = Settings::from_config(&config)?;
        let usher = Usher::new(store, Arc::new(SystemClock), actor, settings)
            .authenticate()
            .await?;
        Ok(Self { config, usher })
    }

    pub fn sender(&self) -> Result<Sender> {
        let transport = MailTransport::from_config(&self.config.mail)?;
        Ok(Sender::new(
            self.usher.store().clone(),
            transport,
            self.usher.clock().clone(),
            SenderSettings::from_config(&self.config.mail),
            self.usher.renderer(),
        )?)
    }

    /// Tries to deliver what was just queued. A delivery problem is not the command's
    /// failure: the mail stays queued and is retried, and the operator is told.
    pub async fn deliver_now(&self) -> String {
        if !self.usher.may_send_mail() {
            return "mail: queued; `usher serve` sends it (an operator's database role may \
                    not read the mail it queues)"
                .to_owned();
        }
        let attempt = async {
            let r = self.sender()?.flush().await?;
            Ok::<_, color_eyre::Report>(r)
        };
        match attempt.await {
            Ok(r) if r.retried == 0 && r.failed == 0 => format!("mail: {} sent", r.sent),
            Ok(r) => format!(
                "mail: {} sent, {} will be retried, {} failed (see `usher invitations list`)",
                r.sent, r.retried, r.failed
            ),
            Err(e) => format!("mail: queued, not sent yet ({e}); `usher outbox flush` retries"),
        }
    }
}

/// Anchors the audit chain when this process can read (or make) the audit key. One that
/// cannot still works: its changes are anchored by the next process that can (`usher
/// serve` each minute, `usher audit anchor`).
async fn anchor(store: &mut Store, config: &Config) {
    let a = &config.audit;
    if let Err(e) = store.anchor_with(&a.key_file, &a.anchor_file).await {
        tracing::info!("the audit chain is not anchored by this process: {e}");
    }
}
