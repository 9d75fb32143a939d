//! The Import tab: open a file (`o`, Tab completes, `~` works), map its columns if they
//! are not recognised (`c`), review the preview by bucket, leave buckets or single rows
//! out, decide about missing users, apply after a confirmation with a progress gauge,
//! and see the history with undo.

use std::collections::BTreeSet;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Gauge, Paragraph, Row, Table};

use super::{Ask, Cursor, Outcome};
use crate::action::Effect;
use crate::keymap::Cmd;
use crate::theme::Theme;
use usher_core::domain::Timestamp;
use usher_core::domain::sanitize::escape_for_display;
use usher_core::import::plan::{Bucket, PlanRow};
use usher_core::import::{Field, Stage};
use usher_core::service::{ApplyOptions, Missing};
use usher_core::store::Batch;

pub use crate::complete::{complete_path, expand_home};
pub use crate::effect::Review;

#[derive(Debug, Default)]
pub struct ImportTab {
    pub review: Option<Review>,
    /// The file opened last (expanded), and the columns the operator mapped for it.
    pub path: String,
    pub mapping: Vec<(Field, String)>,
    /// Each bucket's rows, as positions in the plan (Bucket::ALL's order).
    index: Vec<Vec<usize>>,
    /// Single rows left out: file row numbers, and missing users by address.
    pub excluded_rows: BTreeSet<u64>,
    pub excluded_emails: BTreeSet<String>,
    /// Reading or applying: how far (stage, rows done, rows in all).
    pub progress: Option<(Stage, u64, Option<u64>)>,
    pub loading: bool,
    pub generation: u64,
    pub bucket: usize,
    pub rows: Cursor,
    /// Browsing the selected bucket's rows rather than the buckets.
    pub browsing: bool,
    pub skip: BTreeSet<Bucket>,
    pub missing: Missing,
    pub as_guests: bool,
    pub include_outside: bool,
    pub history: Vec<Batch>,
    pub summary: Option<String>,
    /// An apply is under way: its outcome clears the review.
    pub applying: bool,
    /// Apply the good rows and leave the faulty ones out (`e`), on purpose.
    pub skip_errors: bool,
    /// The open file's column headers, for completing a mapping.
    pub headers: Vec<String>,
}

impl ImportTab {
    /// Opens a file. The risky choices made for the last one (removing or suspending
    /// missing users, overflow, outside domains) start again at their safe values.
    pub fn open(&mut self, generation: u64, path: String) -> Effect {
        self.path = expand_home(&path);
        self.missing = Missing::Keep;
        self.as_guests = false;
        self.include_outside = false;
        self.skip_errors = false;
        self.headers.clear();
        self.review = None;
        self.remap(generation, Vec::new())
    }

    /// The open file's notes (a vendor's column left unread, masked passwords), as one
    /// line; empty when there are none.
    pub fn notes(&self) -> String {
        self.review
            .as_ref()
            .map(|r| r.parsed.notes.join("; "))
            .unwrap_or_default()
    }

    /// Tab in the mapping: a field's name before `=`, one of the file's columns after.
    pub fn complete_mapping(&self, text: &str) -> String {
        let at = text.rfind(',').map_or(0, |i| i + 1);
        let (done, pair) = text.split_at(at);
        let completed = match pair.split_once('=') {
            Some((field, column)) => format!(
                "{field}={}",
                crate::complete::complete_from(column, &self.headers)
            ),
            None => {
                let names: Vec<String> = Field::ALL
                    .iter()
                    .map(|f| format!("{}=", f.name()))
                    .collect();
                crate::complete::complete_from(pair.trim_start(), &names)
            }
        };
        format!("{done}{completed}")
    }

    /// Reads the open file again with the operator's column mapping.
    pub fn remap(&mut self, generation: u64, mapping: Vec<(Field, String)>) -> Effect {
        self.generation = generation;
        self.loading = true;
        self.summary = None;
        self.progress = None;
        self.mapping = mapping.clone();
        Effect::PreviewImport {
            generation,
            path: self.path.clone(),
            mapping,
        }
    }

    /// The mapping to edit: the operator's, else the columns as recognised.
    pub fn mapping_text(&self) -> String {
        let pairs: Vec<String> = if self.mapping.is_empty() {
            self.review
                .iter()
                .flat_map(|r| r.parsed.columns.found.iter())
                .map(|(f, _, h)| format!("{}={h}", f.name()))
                .collect()
        } else {
            self.mapping
                .iter()
                .map(|(f, h)| format!("{}={h}", f.name()))
                .collect()
        };
        if pairs.is_empty() {
            "email=".to_owned()
        } else {
            pairs.join(",")
        }
    }

    pub fn loaded(
        &mut self,
        generation: u64,
        result: Result<Review, crate::failure::Failure>,
    ) -> Result<(), String> {
        if generation != self.generation {
            return Ok(());
        }
        self.loading = false;
        self.progress = None;
        let review = result.map_err(String::from)?;
        let plan = &review.plan;
        // One pass over the plan, however many buckets.
        self.index = vec![Vec::new(); Bucket::ALL.len()];
        for i in 0..plan.len() {
            if let Some(at) = plan
                .bucket(i)
                .and_then(|b| Bucket::ALL.iter().position(|x| *x == b))
            {
                self.index[at].push(i);
            }
        }
        self.headers = review.parsed.columns.headers.clone();
        self.review = Some(review);
        self.bucket = 0;
        self.browsing = false;
        self.rows = Cursor::default();
        self.skip.clear();
        self.excluded_rows.clear();
        self.excluded_emails.clear();
        Ok(())
    }

    fn selected(&self) -> Bucket {
        Bucket::ALL[self.bucket.min(Bucket::ALL.len() - 1)]
    }

    fn bucket_len(&self) -> usize {
        self.index.get(self.bucket).map_or(0, Vec::len)
    }

    /// The selected bucket's `i`th row.
    fn bucket_row(&self, i: usize) -> Option<PlanRow> {
        let at = *self.index.get(self.bucket)?.get(i)?;
        self.review.as_ref()?.plan.row(at)
    }

    fn is_excluded(&self, p: &PlanRow) -> bool {
        match p.row {
            Some(n) => self.excluded_rows.contains(&n),
            None => self.excluded_emails.contains(&p.email.to_lowercase()),
        }
    }

    /// Leaves the selected row out, or puts it back; says why when it cannot.
    fn toggle_row(&mut self) -> Outcome {
        let Some(p) = self.bucket_row(self.rows.index) else {
            return Outcome::None;
        };
        if !matches!(
            p.bucket,
            Bucket::New | Bucket::Updated | Bucket::Missing | Bucket::OutsideDomains
        ) {
            return Outcome::Message(match p.bucket {
                Bucket::Error => "a faulty row is never imported: fix it in the file and open \
                                  it again (o); enter shows the whole reason"
                    .into(),
                b => format!(
                    "{}: nothing changes for these rows, so there is nothing to leave out",
                    b.short_label()
                ),
            });
        }
        match p.row {
            Some(n) => {
                if !self.excluded_rows.remove(&n) {
                    self.excluded_rows.insert(n);
                }
            }
            None => {
                let e = p.email.to_lowercase();
                if !self.excluded_emails.remove(&e) {
                    self.excluded_emails.insert(e);
                }
            }
        }
        Outcome::None
    }

    /// The selected row whole: every field, the reason or the changes in full.
    fn row_detail(&self) -> Outcome {
        let Some(p) = self.bucket_row(self.rows.index) else {
            return Outcome::None;
        };
        let mut fields = vec![
            (
                "Row".to_owned(),
                p.row
                    .map_or("— (not in the file)".to_owned(), |n| n.to_string()),
            ),
            ("Bucket".to_owned(), p.bucket.label().to_owned()),
            (
                "Address".to_owned(),
                if p.email.is_empty() {
                    "—".to_owned()
                } else {
                    p.email.clone()
                },
            ),
        ];
        if let Some(t) = p.user_type {
            fields.push(("Type".to_owned(), t.to_string()));
        }
        if let Some(r) = &p.reason {
            fields.push(("Reason".to_owned(), r.clone()));
        }
        for (n, c) in p.changes.iter().enumerate() {
            let name = if n == 0 { "Changes" } else { "" };
            fields.push((name.to_owned(), c.clone()));
        }
        if self.is_excluded(&p) {
            fields.push((
                "".to_owned(),
                "left out of the apply (space puts it back)".to_owned(),
            ));
        }
        Outcome::Show(crate::tabs::Detail {
            title: format!(" {} ", p.bucket.label()),
            fields,
            scroll: 0,
        })
    }

    pub fn options(&self, review: &Review) -> ApplyOptions {
        ApplyOptions {
            missing: self.missing,
            overflow_as_guests: self.as_guests,
            include_outside: self.include_outside,
            expect_digest: Some(review.plan.digest.clone()),
            skip: self.skip.iter().copied().collect(),
            exclude_rows: self.excluded_rows.iter().map(|n| (*n, *n)).collect(),
            exclude_emails: self.excluded_emails.iter().cloned().collect(),
            exclude_refs: Vec::new(),
            file_name: std::path::Path::new(&review.path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            file_sha256: review.sha256.clone(),
            skip_errors: self.skip_errors,
            progress: Default::default(),
        }
    }

    /// The question before an apply: what it will do, counted; refused at once when a
    /// faulty row would make the core refuse it whole.
    fn ask_apply(&self) -> Outcome {
        let Some(review) = &self.review else {
            return Outcome::Message("open a file first (o)".into());
        };
        let faulty = review.plan.counts.get(&Bucket::Error).copied().unwrap_or(0);
        if faulty > 0 && review.parsed.workbook.is_none() && !self.skip_errors {
            // The core refuses such a file whole: asking would only lead to that.
            return Outcome::Message(format!(
                "{} cannot be imported (the errors bucket says why): fix the file and \
                 open it again (o), or e leaves them out and applies the rest",
                super::plural(faulty, "row")
            ));
        }
        let c = |b: Bucket| {
            if self.skip.contains(&b) {
                0
            } else {
                review.plan.counts.get(&b).copied().unwrap_or(0)
            }
        };
        let invited = match c(Bucket::Missing) {
            0 => 0,
            _ => review.plan.missing_invitations(),
        };
        let users = c(Bucket::Missing) - invited;
        let revoke = match invited {
            0 => String::new(),
            n => format!(", revoke {}", super::plural(n, "pending invitation")),
        };
        let missing = match self.missing {
            Missing::Keep => "keep".to_owned(),
            Missing::Suspend => format!("suspend {users}{revoke}"),
            Missing::Remove => format!("REMOVE {users}{revoke}"),
        };
        let excluded = self.excluded_rows.len() + self.excluded_emails.len();
        let workbook = review.parsed.workbook.is_some();
        let prompt = format!(
            "Apply {}? {} {}{}, update {}, missing users: {missing}{}.",
            escape_for_display(&review.path),
            if workbook { "Create" } else { "Invite" },
            c(Bucket::New),
            if self.include_outside {
                format!(" + {} outside", c(Bucket::OutsideDomains))
            } else {
                String::new()
            },
            c(Bucket::Updated),
            match (excluded, workbook) {
                (0, true) => format!("; {} left out for faults", c(Bucket::Error)),
                (0, false) => String::new(),
                (n, _) => format!("; {} left out", super::plural(n, "row")),
            },
        ) + &if faulty > 0 && !workbook {
            format!(
                " {} LEFT OUT, written to {}.",
                super::plural(faulty, "faulty row"),
                usher_core::import::faulty::default_path(std::path::Path::new(&review.path))
                    .display()
            )
        } else {
            String::new()
        };
        let opts = self.options(review);
        let ask = Ask::new(
            prompt,
            Effect::ApplyImport {
                path: review.path.clone(),
                parsed: review.parsed.clone(),
                opts: Box::new(opts),
            },
        );
        Outcome::confirm(match self.missing {
            Missing::Remove => ask.removing(users),
            _ => ask,
        })
    }

    pub fn command(&mut self, cmd: Cmd, page: usize) -> Outcome {
        let buckets = Bucket::ALL.len();
        let n = self.bucket_len();
        match cmd {
            Cmd::Down if self.browsing => self.rows.move_by(1, n),
            Cmd::Up if self.browsing => self.rows.move_by(-1, n),
            Cmd::PageDown if self.browsing => self.rows.move_by(page as isize, n),
            Cmd::PageUp if self.browsing => self.rows.move_by(-(page as isize), n),
            Cmd::Down => self.bucket = (self.bucket + 1).min(buckets - 1),
            Cmd::Up => self.bucket = self.bucket.saturating_sub(1),
            Cmd::Detail if self.browsing => return self.row_detail(),
            Cmd::Detail => {
                self.browsing = true;
                self.rows = Cursor::default();
            }
            Cmd::Back => self.browsing = false,
            Cmd::Mark if self.browsing => return self.toggle_row(),
            Cmd::Mark => {
                let b = self.selected();
                if matches!(
                    b,
                    Bucket::New | Bucket::Updated | Bucket::Missing | Bucket::OutsideDomains
                ) && !self.skip.remove(&b)
                {
                    self.skip.insert(b);
                }
            }
            Cmd::MissingDecision => {
                self.missing = match self.missing {
                    Missing::Keep => Missing::Suspend,
                    Missing::Suspend => Missing::Remove,
                    Missing::Remove => Missing::Keep,
                };
            }
            Cmd::OverflowAsGuests => self.as_guests = !self.as_guests,
            Cmd::IncludeOutside => self.include_outside = !self.include_outside,
            Cmd::SkipErrors => self.skip_errors = !self.skip_errors,
            Cmd::Apply => return self.ask_apply(),
            Cmd::Undo => {
                let Some(b) = self.history.iter().find(|b| b.undone_at.is_none()) else {
                    return Outcome::Message("no import to undo".into());
                };
                return Outcome::confirm(Ask::new(
                    format!(
                        "Undo import {} ({})? Its pending invitations are revoked and its changes reverted.",
                        b.id,
                        escape_for_display(&b.file_name)
                    ),
                    Effect::UndoImport(b.id),
                ));
            }
            _ => {}
        }
        Outcome::None
    }

    pub fn render(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        // A short terminal keeps one history line (the newest, the one u undoes).
        let history_rows = if area.height >= 24 { 6 } else { 3 };
        let [top, main, history] = Layout::vertical([
            Constraint::Length(3),
            Constraint::Fill(1),
            Constraint::Length(history_rows),
        ])
        .areas(area);
        f.render_widget(Paragraph::new(self.head(theme)), top);
        if !self.render_gauge(f, main, theme) {
            self.render_review(f, main, theme);
        }
        self.render_history(f, history, theme);
    }

    /// The file, its licences and the decisions; or how to begin.
    fn head(&self, theme: &Theme) -> Vec<Line<'static>> {
        let mut head = Vec::new();
        match (&self.review, self.loading) {
            (_, true) => head.push(Line::styled(
                match self.progress {
                    Some((_, done, _)) => format!("reading and planning… {done} rows read"),
                    None => "reading and planning…".to_owned(),
                },
                theme.dim,
            )),
            (None, false) => {
                head.push(Line::from(vec![
                    Span::styled("o", theme.key),
                    Span::raw(
                        " open a CSV or spreadsheet (Tab completes the path, ~ is your home)",
                    ),
                ]));
                head.push(Line::styled(
                    "Columns are recognised by name; c maps others (FIELD=COLUMN,...).",
                    theme.dim,
                ));
            }
            (Some(r), false) => {
                let s = &r.parsed.source;
                let how = [
                    Some(s.format.clone()),
                    s.encoding.clone(),
                    s.delimiter.clone().map(|d| format!("delimiter {d}")),
                    s.sheet.clone().map(|x| format!("sheet {x}")),
                    (s.above_header > 0).then(|| format!("names on row {}", s.header_row)),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ");
                head.push(Line::from(vec![
                    Span::styled(escape_for_display(&r.path), theme.title),
                    Span::raw(format!("  ({how})")),
                ]));
                let l = &r.plan.licences;
                let lic = format!(
                    "licences {} of {} used, import adds {}",
                    l.used, l.total, l.wanted
                );
                let lic_style = if l.short_by > 0 && !self.as_guests {
                    theme.error
                } else {
                    theme.ok
                };
                let short = if l.short_by > 0 {
                    format!(": {} short", l.short_by)
                } else {
                    String::new()
                };
                head.push(Line::from(vec![Span::styled(lic + &short, lic_style)]));
                let on = |b: bool| if b { "on" } else { "off" };
                head.push(Line::styled(
                    format!(
                        "missing: {:?} (m) · guests: {} (l) · outside: {} (x) · faulty: {} (e)",
                        self.missing,
                        on(self.as_guests),
                        on(self.include_outside),
                        if self.skip_errors { "skip" } else { "stop" }
                    )
                    .to_lowercase(),
                    theme.dim,
                ));
            }
        }
        head
    }

    /// The apply's gauge, while it runs; false when there is none to draw.
    fn render_gauge(&self, f: &mut Frame, main: Rect, theme: &Theme) -> bool {
        if self.applying
            && let Some((Stage::Applying, done, Some(total))) = self.progress
        {
            let ratio = if total == 0 {
                1.0
            } else {
                (done as f64 / total as f64).clamp(0.0, 1.0)
            };
            f.render_widget(
                Gauge::default()
                    .block(Block::bordered().title(" Applying "))
                    .gauge_style(theme.ok)
                    .ratio(ratio)
                    .label(format!("{done} of {total} rows")),
                main,
            );
            return true;
        }
        false
    }

    /// The buckets and the rows of the one browsed, or the last apply's summary.
    fn render_review(&self, f: &mut Frame, main: Rect, theme: &Theme) {
        let Some(r) = &self.review else {
            if let Some(s) = &self.summary {
                f.render_widget(
                    Paragraph::new(Line::styled(escape_for_display(s), theme.ok)),
                    main,
                );
            }
            return;
        };
        // Side by side when wide; else the buckets, or the bucket being browsed, whole.
        let [buckets, rows] = if main.width >= 110 {
            Layout::horizontal([Constraint::Length(44), Constraint::Fill(1)]).areas(main)
        } else if self.browsing {
            [Rect::default(), main]
        } else {
            [main, Rect::default()]
        };
        self.render_buckets(f, buckets, r, theme);
        self.render_rows(f, rows, theme);
    }

    /// Each bucket's count, the selected one highlighted, the skipped ones marked.
    fn render_buckets(&self, f: &mut Frame, area: Rect, r: &Review, theme: &Theme) {
        let workbook = r.parsed.workbook.is_some();
        let lines: Vec<Line> = Bucket::ALL
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let n = r.plan.counts.get(b).copied().unwrap_or(0);
                let mark = if self.skip.contains(b) {
                    "skip"
                } else {
                    "    "
                };
                let line = Line::from(format!(
                    "{n:>8}  {:<22} {mark}",
                    b.short_label_for(workbook)
                ));
                if i == self.bucket && !self.browsing {
                    line.style(theme.selected)
                } else {
                    line
                }
            })
            .collect();
        let hint = if self.browsing { "" } else { " enter browses " };
        f.render_widget(
            Paragraph::new(lines).block(Block::bordered().title(" Preview ").title_bottom(hint)),
            area,
        );
    }

    /// The selected bucket's rows in view: what changes, or why a row fails.
    fn render_rows(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        let height = area.height.saturating_sub(3) as usize;
        let start = self.rows.window(height, self.bucket_len());
        let faults = self.selected() == Bucket::Error;
        let shown: Vec<(usize, PlanRow)> = (start..start + height)
            .filter_map(|i| self.bucket_row(i).map(|p| (i, p)))
            .collect();
        // The address whole when it fits in half the table; the change takes the rest.
        let widest = shown
            .iter()
            .map(|(_, p)| escape_for_display(&p.email).chars().count())
            .max()
            .unwrap_or(0)
            .max("Address".len());
        let address = u16::try_from(widest)
            .unwrap_or(u16::MAX)
            .min(area.width.saturating_sub(14) / 2);
        let table_rows = shown.into_iter().map(|(i, p)| {
            let mark = if self.is_excluded(&p) { "out" } else { "" };
            let mut cells = vec![
                Cell::from(mark),
                Cell::from(p.row.map_or("—".to_owned(), |n| n.to_string())),
            ];
            if !faults {
                cells.push(Cell::from(escape_for_display(&p.email)));
            }
            cells.push(Cell::from(escape_for_display(&what_of(&p))));
            let row = Row::new(cells);
            if self.browsing && i == self.rows.index {
                row.style(theme.selected)
            } else {
                row
            }
        });
        // A faulty row's address may be what is wrong: the reason says it.
        let (widths, header) = if faults {
            (
                vec![
                    Constraint::Length(3),
                    Constraint::Length(8),
                    Constraint::Fill(1),
                ],
                vec!["", "Row", "Reason"],
            )
        } else {
            (
                vec![
                    Constraint::Length(3),
                    Constraint::Length(8),
                    Constraint::Length(address),
                    Constraint::Fill(1),
                ],
                vec!["", "Row", "Address", "Change"],
            )
        };
        let table = Table::new(table_rows, widths)
            .header(Row::new(header).style(theme.header))
            .block(
                Block::bordered()
                    .title(format!(" {} ", self.selected().label()))
                    .title_bottom(" enter shows a row whole · esc back "),
            );
        f.render_widget(table, area);
    }

    fn render_history(&self, f: &mut Frame, history: Rect, theme: &Theme) {
        let lines: Vec<Line> = self
            .history
            .iter()
            .take(4)
            .map(|b| {
                let undone = b
                    .undone_at
                    .map(|t| format!("  undone {}", Timestamp(t).human()))
                    .unwrap_or_default();
                Line::from(format!(
                    "{:>5}  {}  {}  {}{undone}",
                    b.id,
                    Timestamp(b.at).human(),
                    escape_for_display(&b.file_name),
                    escape_for_display(&b.actor)
                ))
            })
            .collect();
        let lines = if lines.is_empty() {
            vec![Line::styled("no imports yet", theme.dim)]
        } else {
            lines
        };
        f.render_widget(
            Paragraph::new(lines).block(Block::bordered().title(" History (u undoes the newest) ")),
            history,
        );
    }
}

/// What changes for a row, or why it fails, without the row number its column shows.
fn what_of(p: &PlanRow) -> String {
    let what = p.reason.clone().unwrap_or_else(|| p.changes.join("; "));
    match p.row {
        Some(n) => what
            .strip_prefix(&format!("row {n}, "))
            .or_else(|| what.strip_prefix(&format!("row {n}: ")))
            .map(str::to_owned)
            .unwrap_or(what),
        None => what,
    }
}
