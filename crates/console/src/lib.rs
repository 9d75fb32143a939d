//! The console: a ratatui front end on the core. It knows the core; the core does not
//! know it.

pub mod action;
pub mod app;
pub mod command;
pub mod complete;
pub mod effect;
pub mod failure;
pub mod fields;
pub mod form;
pub mod form_modal;
pub mod keymap;
pub mod prompt;
pub mod rights;
pub mod role_form;
pub mod tabs;
pub mod template_form;
pub mod theme;
pub mod user_form;
pub mod view;
pub mod worker;

use std::io::Write;
use std::time::Duration;

use base64::Engine;
use crossterm::event::{
    DisableBracketedPaste, EnableBracketedPaste, Event, EventStream, KeyCode, KeyEventKind,
    KeyModifiers,
};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use action::{Action, Effect};
use app::App;
use keymap::{Keymap, Overrides};
use theme::Theme;
use usher_core::Usher;
use usher_core::mail::Sender;

#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error("keys: {0}")]
    Keymap(String),
    #[error("terminal: {0}")]
    Io(#[from] std::io::Error),
}

#[derive(Debug)]
pub struct Options {
    pub read_only: bool,
    pub keys: Overrides,
    pub refresh_seconds: u64,
    /// Runs while the console is open, so invitations leave without another command.
    pub sender: Option<Sender>,
    /// The directories the Sync tab runs.
    pub sync: Vec<usher_core::config::SyncSource>,
}

const TICK: Duration = Duration::from_millis(250);

type Term = Terminal<CrosstermBackend<std::io::Stdout>>;

fn enter() -> std::io::Result<Term> {
    enable_raw_mode()?;
    crossterm::execute!(
        std::io::stdout(),
        EnterAlternateScreen,
        EnableBracketedPaste
    )?;
    let mut t = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
    t.clear()?;
    Ok(t)
}

fn leave() {
    let _ = crossterm::execute!(
        std::io::stdout(),
        DisableBracketedPaste,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = disable_raw_mode();
}

/// Puts the terminal back before any panic message, whatever else is installed.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        leave();
        previous(info);
    }));
}

/// OSC 52: the terminal (even over SSH) puts the text on the local clipboard.
fn copy_to_clipboard(text: &str) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let mut out = std::io::stdout();
    let _ = write!(out, "\x1b]52;c;{b64}\x07");
    let _ = out.flush();
}

/// Ctrl-Z: give the terminal back, stop, and take it again on `fg`.
fn suspend(terminal: &mut Term) -> std::io::Result<()> {
    leave();
    let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGTSTP);
    *terminal = enter()?;
    Ok(())
}

pub async fn run(usher: Usher, opts: Options) -> Result<(), TuiError> {
    let keymap = Keymap::load(&opts.keys, opts.read_only).map_err(TuiError::Keymap)?;
    let mut app = App::new(keymap);
    app.refresh_every_ticks = (opts.refresh_seconds.max(1) * 1000 / TICK.as_millis() as u64).max(1);
    app.now = usher.clock().now();
    let theme = Theme::from_env();
    let (act_tx, mut act_rx) = tokio::sync::mpsc::unbounded_channel();
    let fx_tx = worker::spawn(usher.clone(), opts.sync.clone(), act_tx);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let sender_task = opts.sender.map(|s| {
        tokio::spawn(async move {
            s.run_until(async {
                let _ = stop_rx.await;
            })
            .await;
        })
    });
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut sighup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;

    install_panic_hook();
    let mut terminal = enter()?;
    let result = async {
        app.page_rows = view::page_rows(terminal.size()?.height);
        let send = |fx: Vec<Effect>| {
            for e in fx {
                match e {
                    Effect::Copy(text) => copy_to_clipboard(&text),
                    other => {
                        let _ = fx_tx.send(other);
                    }
                }
            }
        };
        send(app.refresh());
        let mut events = EventStream::new();
        let mut tick = tokio::time::interval(TICK);
        let mut ticks: u64 = 0;
        let mut dirty = true;
        loop {
            if std::mem::take(&mut app.redraw) {
                // Whatever else wrote to the terminal goes: every cell is drawn again.
                terminal.clear()?;
                dirty = true;
            }
            if dirty {
                terminal.draw(|f| view::draw(f, &mut app, &theme))?;
                dirty = false;
            }
            let action = tokio::select! {
                ev = events.next() => match ev {
                    Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => {
                        if k.code == KeyCode::Char('z') && k.modifiers.contains(KeyModifiers::CONTROL) {
                            suspend(&mut terminal)?;
                            dirty = true;
                            continue;
                        }
                        Action::Key(k)
                    }
                    Some(Ok(Event::Paste(s))) => Action::Paste(s),
                    Some(Ok(Event::Resize(_, h))) => {
                        app.page_rows = view::page_rows(h);
                        Action::Resize
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(TuiError::Io(e)),
                    None => break,
                },
                Some(a) = act_rx.recv() => a,
                _ = tick.tick() => {
                    ticks += 1;
                    Action::Tick(usher.clock().now())
                }
                _ = sigterm.recv() => break,
                _ = sighup.recv() => break,
            };
            // Ticks redraw only for the spinner and, once a second, the "expires in" column.
            dirty = !matches!(action, Action::Tick(_)) || app.in_flight > 0 || ticks.is_multiple_of(4);
            let fx = app.update(action);
            send(fx);
            dirty |= app.redraw;
            if app.quit {
                break;
            }
        }
        Ok(())
    }
    .await;
    leave();
    let _ = stop_tx.send(());
    if let Some(t) = sender_task {
        let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
    }
    result
}
