//! The Sync tab (docs/sync.md): each directory source with its last run, what that run
//! found, and a run a limit holds for approval; below, the selected source's last preview
//! or run. `p` previews (`usher sync NAME --dry-run`), `a` applies (`--apply`), `A`
//! approves the held run (`--apply --approve RUN`); each asks first and names what it
//! touches.

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

use super::{Ask, Cursor, Outcome};
use crate::action::Effect;
use crate::keymap::Cmd;
use crate::theme::Theme;
use usher_core::domain::Timestamp;
use usher_core::domain::sanitize::escape_for_display;
use usher_core::service::{SourceStatus, SyncReport};
use usher_core::store::SyncRun;

#[derive(Debug, Default)]
pub struct SyncTab {
    pub rows: Vec<SourceStatus>,
    pub cursor: Cursor,
    /// The last preview, by source.
    pub previews: BTreeMap<String, SyncReport>,
    /// How far the run below is scrolled (J/K).
    pub scroll: u16,
}

impl SyncTab {
    pub fn current(&self) -> Option<&SourceStatus> {
        self.rows.get(self.cursor.index)
    }

    pub fn loaded(&mut self, rows: Vec<SourceStatus>) {
        self.rows = rows;
        self.cursor.clamp(self.rows.len());
    }

    pub fn previewed(&mut self, report: SyncReport) {
        self.previews.insert(report.source.clone(), report);
        self.scroll = 0;
    }

    pub fn command(&mut self, cmd: Cmd, page: usize) -> Outcome {
        if self.cursor.navigate(cmd, page, self.rows.len()) {
            self.scroll = 0;
            return Outcome::None;
        }
        match cmd {
            Cmd::DetailDown => {
                self.scroll = self.scroll.saturating_add(5);
                return Outcome::None;
            }
            Cmd::DetailUp => {
                self.scroll = self.scroll.saturating_sub(5);
                return Outcome::None;
            }
            _ => {}
        }
        let Some(s) = self.current() else {
            return match cmd {
                Cmd::SyncPreview | Cmd::SyncApply | Cmd::SyncApprove => Outcome::Message(
                    "no sources: add a [[sync.source]] to the config (docs/sync.md)".into(),
                ),
                _ => Outcome::None,
            };
        };
        let name = s.source.clone();
        match cmd {
            Cmd::SyncPreview => Outcome::Effects(vec![Effect::SyncPreview { name }]),
            Cmd::SyncApply => Outcome::confirm(Ask::new(
                self.apply_question(&name),
                Effect::SyncApply {
                    name,
                    approve: None,
                },
            )),
            Cmd::SyncApprove => match &s.waiting {
                Some(run) => Outcome::confirm(Ask::new(
                    format!(
                        "Approve run {} of {}? It {}. It applies only if the directory \
                         and the account are as they were when it was held.",
                        run.id,
                        escape_for_display(&name),
                        run.held_reason
                            .as_deref()
                            .map(escape_for_display)
                            .unwrap_or_default()
                    ),
                    Effect::SyncApply {
                        name,
                        approve: Some(run.id),
                    },
                )),
                None => Outcome::Message(format!("{name} has no run waiting for approval")),
            },
            _ => Outcome::None,
        }
    }

    /// What an apply would do, from the last preview when there is one.
    fn apply_question(&self, name: &str) -> String {
        let shown = escape_for_display(name);
        match self.previews.get(name) {
            Some(p) => format!(
                "Apply {shown}? The last preview (run {}) would change {} user(s): suspend {}, \
                 remove {}, take roles from {}. It reads the directory again, and a run over \
                 a limit is held, changing nothing.",
                p.run_id, p.losses.changes, p.losses.suspend, p.losses.remove, p.losses.role_loss
            ),
            None => format!(
                "Apply {shown} without a preview? It reads the directory and applies what it \
                 finds; a run over a limit is held, changing nothing. (p previews first.)"
            ),
        }
    }

    pub fn render(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        let [list, below] =
            Layout::vertical([Constraint::Length(self.list_height()), Constraint::Fill(1)])
                .areas(area);
        self.render_list(f, list, theme);
        let text = self.current().map(|s| self.summary(s)).unwrap_or_else(|| {
            vec![Line::from(
                "No directory sources: add a [[sync.source]] to the config (docs/sync.md).",
            )]
        });
        f.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: false })
                .scroll((self.scroll, 0))
                .block(Block::bordered().title(" Run (J/K scroll) ")),
            below,
        );
    }

    fn list_height(&self) -> u16 {
        (self.rows.len().clamp(1, 6) + 3) as u16
    }

    fn render_list(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        let rows = self.rows.iter().enumerate().map(|(i, s)| {
            let last = s.last_run.as_ref();
            let row = Row::new([
                Cell::from(escape_for_display(&s.source)),
                Cell::from(last.map_or("never".to_owned(), |r| when(r.finished_at))),
                Cell::from(last.map(|r| r.outcome.clone()).unwrap_or_default()),
                Cell::from(
                    s.waiting
                        .as_ref()
                        .map_or(String::new(), |r| format!("run {} waits", r.id)),
                ),
            ]);
            super::highlight(row, i == self.cursor.index, theme)
        });
        let table = Table::new(
            rows,
            [
                Constraint::Length(14),
                Constraint::Length(20),
                Constraint::Length(10),
                Constraint::Fill(1),
            ],
        )
        .header(Row::new(["Source", "Last run", "Outcome", "Approval"]).style(theme.header))
        .block(Block::bordered().title(" Directories "));
        f.render_widget(table, area);
    }

    /// The selected source's last preview if newer than its last run, else its last run.
    fn summary(&self, s: &SourceStatus) -> Vec<Line<'static>> {
        let preview = self.previews.get(&s.source);
        let newer = preview.is_some_and(|p| s.last_run.as_ref().is_none_or(|r| p.run_id >= r.id));
        let mut out = match (preview, &s.last_run) {
            (Some(p), _) if newer => preview_lines(p),
            (_, Some(r)) => run_lines(r),
            _ => vec![Line::from("Never run: p previews it.")],
        };
        if let Some(w) = &s.waiting {
            out.push(Line::from(format!(
                "Held: run {} {} (A approves it)",
                w.id,
                escape_for_display(w.held_reason.as_deref().unwrap_or_default())
            )));
        }
        out
    }
}

/// The status line after a preview.
pub fn said(p: &SyncReport) -> String {
    let held = match &p.held_reason {
        Some(why) => format!("; an apply would be held: {}", escape_for_display(why)),
        None => String::new(),
    };
    format!(
        "{}: {} entries read, {} change(s){held}",
        escape_for_display(&p.source),
        p.entries,
        p.losses.changes
    )
}

fn when(ms: i64) -> String {
    Timestamp(ms).human()
}

/// A run's counts by bucket, from its record.
fn counts_line(counts: &str) -> String {
    let v: BTreeMap<String, u64> = serde_json::from_str(counts).unwrap_or_default();
    let said: Vec<String> = v
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(b, n)| format!("{b} {n}"))
        .collect();
    if said.is_empty() {
        "no entries".into()
    } else {
        said.join(", ")
    }
}

fn run_lines(r: &SyncRun) -> Vec<Line<'static>> {
    let mut out = vec![
        Line::from(format!(
            "Run {} ({} read), {} by {}: {}, {} entries",
            r.id,
            r.scope,
            when(r.finished_at),
            escape_for_display(&r.actor),
            r.outcome,
            r.entries
        )),
        Line::from(counts_line(&r.counts)),
    ];
    if let Some(e) = &r.error {
        out.push(Line::from(format!("Error: {}", escape_for_display(e))));
    }
    out
}

fn preview_lines(p: &SyncReport) -> Vec<Line<'static>> {
    let l = &p.losses;
    let mut out = vec![
        Line::from(format!(
            "Preview (run {}, {} read): {} entries; {} change(s): suspend {}, remove {}, \
             roles taken from {}, of {} active users",
            p.run_id,
            p.scope,
            p.entries,
            l.changes,
            l.suspend,
            l.remove,
            l.role_loss,
            l.active_users
        )),
        Line::from(match &p.plan {
            Some(plan) => counts_line(&serde_json::to_string(&plan.counts).unwrap_or_default()),
            None => String::new(),
        }),
    ];
    if let Some(why) = &p.held_reason {
        out.push(Line::from(format!(
            "An apply would be held: {}",
            escape_for_display(why)
        )));
    }
    if let Some(plan) = &p.plan {
        out.extend(
            plan.rows()
                .filter(|r| !r.changes.is_empty() || r.reason.is_some())
                .take(200)
                .map(|r| {
                    Line::from(format!(
                        "  {:<10} {}  {}",
                        format!("{:?}", r.bucket),
                        escape_for_display(&r.email),
                        escape_for_display(&r.reason.unwrap_or_else(|| r.changes.join("; ")))
                    ))
                }),
        );
    }
    for fault in p.faults.iter().take(20) {
        out.push(Line::from(format!("  fault: {fault}")));
    }
    out
}
