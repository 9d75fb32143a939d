//! What a package installs beside the binary, made from the command line's own shape so
//! that it never drifts from it: shell completions and a manual page per command.

use std::path::Path;

use clap::CommandFactory;
use color_eyre::Result;
use color_eyre::eyre::WrapErr;

use super::Cli;
use super::args::Command;

/// Runs `usher completions` or `usher manpages`.
pub fn run(command: &Command) -> Result<()> {
    match command {
        Command::Completions { shell } => completions(*shell)?,
        Command::Manpages { dir } => {
            let n = manpages(dir)?;
            println!("wrote {n} manual pages to {}", dir.display());
        }
        _ => {}
    }
    Ok(())
}

/// Prints the completion script for `shell`. Made in memory first: clap_complete panics
/// when its writer fails, and a closed pipe (`| head`) must end quietly.
pub fn completions(shell: clap_complete::Shell) -> Result<()> {
    use std::io::Write;
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "usher", &mut script);
    std::io::stdout().write_all(&script)?;
    Ok(())
}

/// Writes `usher.1` and one page per command and subcommand (`usher-users-suspend.1`)
/// into `dir`; returns how many.
pub fn manpages(dir: &Path) -> Result<usize> {
    std::fs::create_dir_all(dir).wrap_err_with(|| format!("creating {}", dir.display()))?;
    let mut cmd = Cli::command();
    // Gives each subcommand its whole path as its display name ("usher-users-suspend"),
    // which titles its page, as git's are.
    cmd.build();
    write_pages(&cmd, dir)
}

fn write_pages(cmd: &clap::Command, dir: &Path) -> Result<usize> {
    let name = cmd.get_display_name().unwrap_or(cmd.get_name());
    let path = dir.join(format!("{name}.1"));
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .source(format!("usher {}", env!("CARGO_PKG_VERSION")))
        .manual("usher manual")
        .render(&mut out)?;
    std::fs::write(&path, out).wrap_err_with(|| format!("writing {}", path.display()))?;
    let mut written = 1;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        written += write_pages(sub, dir)?;
    }
    Ok(written)
}
