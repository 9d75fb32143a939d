mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // color-eyre's hook reports panics; ordinary errors are printed plainly below,
    // because a refusal ("no licence free") is an answer, not a crash to debug. Its
    // error hook is not installed: with RUST_BACKTRACE set it resolves a backtrace for
    // every error, which cost each refusal 230 MB and 0.4 s and was never shown.
    let (panics, _) = color_eyre::config::HookBuilder::default()
        .display_location_section(false)
        .display_env_section(false)
        .into_hooks();
    panics.install();
    let _ = color_eyre::eyre::set_hook(Box::new(|_| Box::new(OneLine)));
    quiet_on_closed_pipe();
    let cli = cli::Cli::parse();
    // The server logs each request (never its link); other commands only warnings.
    let level = match cli.command {
        Some(cli::args::Command::Serve(_)) => "info",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("USHER_LOG")
                // sqlx warns of every statement over a second: a million-row import has
                // several, as expected, and the warning is noise to an operator.
                .unwrap_or_else(|_| {
                    tracing_subscriber::EnvFilter::new(format!("{level},sqlx::query=error"))
                }),
        )
        // Colour only on a terminal: a log file or journal gets plain text, and so does
        // the console's log file (no command).
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()) && cli.command.is_some())
        .with_writer(cli::log::Switch)
        .init();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(color_eyre::Report::from)
        .and_then(|rt| rt.block_on(cli::run(cli)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) if closed_pipe(&report) => ExitCode::from(CLOSED_PIPE),
        // A status that is an answer (changes pending, held by a limit), already said.
        Err(report) if report.downcast_ref::<cli::sync::Exit>().is_some() => {
            ExitCode::from(report.downcast_ref::<cli::sync::Exit>().map_or(1, |e| e.0))
        }
        Err(report) => {
            let chain: Vec<String> = report.chain().map(ToString::to_string).collect();
            let text = usher::domain::sanitize::escape_for_display(&chain.join(": "));
            eprintln!("error: {text}");
            ExitCode::FAILURE
        }
    }
}

/// The exit status of a process ended by SIGPIPE (128 + 13), as `head` leaves `cat`.
const CLOSED_PIPE: u8 = 141;

/// `usher users list | head -1`: the reader has gone, so the rest of the output has
/// nowhere to go. That ends the command quietly, as it ends other Unix tools, never with
/// a backtrace. What was committed before stays committed.
fn quiet_on_closed_pipe() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        // std's print macros panic with this text when their stream is closed.
        if text.starts_with("failed printing to std") && text.contains("Broken pipe") {
            std::process::exit(i32::from(CLOSED_PIPE));
        }
        previous(info);
    }));
}

fn closed_pipe(report: &color_eyre::Report) -> bool {
    report.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// An error as the line usher prints: its causes joined, nothing captured.
struct OneLine;

impl color_eyre::eyre::EyreHandler for OneLine {
    fn debug(
        &self,
        error: &(dyn std::error::Error + 'static),
        f: &mut std::fmt::Formatter<'_>,
    ) -> std::fmt::Result {
        write!(f, "{error}")?;
        let mut cause = error.source();
        while let Some(e) = cause {
            write!(f, ": {e}")?;
            cause = e.source();
        }
        Ok(())
    }
}
