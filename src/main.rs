mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // color-eyre's hooks report panics; ordinary errors are printed plainly below,
    // because a refusal ("no licence free") is an answer, not a crash to debug.
    let _ = color_eyre::config::HookBuilder::default()
        .display_location_section(false)
        .display_env_section(false)
        .install();
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
        // Colour only on a terminal: a log file or journal gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(color_eyre::Report::from)
        .and_then(|rt| rt.block_on(cli::run(cli)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) => {
            let chain: Vec<String> = report.chain().map(ToString::to_string).collect();
            let text = usher::domain::sanitize::escape_for_display(&chain.join(": "));
            eprintln!("error: {text}");
            ExitCode::FAILURE
        }
    }
}
