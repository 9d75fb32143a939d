//! An import's progress on the command line: an indicatif bar on stderr. indicatif draws
//! nothing when stderr is not a terminal, so pipes, logs and `--json` stay clean.

use indicatif::{ProgressBar, ProgressStyle};
use usher::import::{Progress, Stage};

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

pub(super) fn progress() -> Progress {
    let bar = ProgressBar::new_spinner();
    let stage_now = std::sync::Mutex::new(None::<Stage>);
    Progress::new(move |stage, done, total| {
        // For logs (USHER_LOG=debug), where no bar is drawn.
        tracing::debug!(
            "import {} {done}/{}",
            stage.label(),
            total.map_or_else(|| "?".to_owned(), |t| t.to_string())
        );
        if let Ok(mut s) = stage_now.lock()
            && *s != Some(stage)
        {
            *s = Some(stage);
            bar.reset();
            bar.set_message(stage.label());
            bar.set_style(match stage {
                Stage::Reading => style("{spinner} {msg} {human_pos} rows, {elapsed}"),
                Stage::Applying => {
                    style("{msg} [{bar:40}] {human_pos}/{human_len} rows, {eta} left")
                }
            });
        }
        if let Some(t) = total {
            bar.set_length(t);
        }
        bar.set_position(done);
        if Some(done) == total {
            bar.finish_and_clear();
        }
    })
}
