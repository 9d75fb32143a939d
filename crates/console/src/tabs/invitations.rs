//! The Invitations tab (docs/rules.md#invitations): every invitation with its status and
//! delivery.

use std::collections::BTreeSet;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::{Ask, Col, Cursor, Outcome, columns, first_few, fit_widening, keep, plural};
use crate::action::Effect;
use crate::keymap::Cmd;
use crate::theme::Theme;
use usher_core::domain::sanitize::escape_for_display;
use usher_core::domain::{DeliveryState, InvitationStatus, Timestamp};
use usher_core::store::{Invitation, InvitationFilter};

/// At most this many invitations are loaded for one filter and search; sorting works on
/// them. The tab says when there are more, so the operator narrows the search.
pub const LIMIT: i64 = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Created,
    Address,
    Status,
    Expires,
}

impl SortKey {
    fn next(self) -> Self {
        match self {
            SortKey::Created => SortKey::Address,
            SortKey::Address => SortKey::Status,
            SortKey::Status => SortKey::Expires,
            SortKey::Expires => SortKey::Created,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Created => "sent",
            SortKey::Address => "address",
            SortKey::Status => "status",
            SortKey::Expires => "expires",
        }
    }
}

#[derive(Debug, Default)]
pub struct InvitationsTab {
    pub rows: Vec<Invitation>,
    pub cursor: Cursor,
    pub marked: BTreeSet<i64>,
    pub filter: Option<InvitationStatus>,
    pub search: String,
    pub sort: SortKey,
    pub ascending: bool,
    pub generation: u64,
    pub loading: bool,
    pub truncated: bool,
}

impl InvitationsTab {
    pub fn reload(&mut self, generation: u64) -> Effect {
        self.generation = generation;
        self.loading = true;
        Effect::LoadInvitations {
            generation,
            filter: InvitationFilter {
                status: self.filter,
                search: self.search.clone(),
                before_id: 0,
                limit: LIMIT + 1,
            },
        }
    }

    pub fn loaded(
        &mut self,
        generation: u64,
        result: Result<Vec<Invitation>, crate::failure::Failure>,
    ) -> Result<(), String> {
        if generation != self.generation {
            return Ok(()); // an answer to an older request
        }
        self.loading = false;
        let mut rows = result?;
        self.truncated = rows.len() as i64 > LIMIT;
        rows.truncate(LIMIT as usize);
        let current = self.current().map(|i| i.id);
        self.rows = rows;
        self.sort_rows();
        if let Some(id) = current
            && let Some(pos) = self.rows.iter().position(|i| i.id == id)
        {
            self.cursor.index = pos;
        }
        self.cursor.clamp(self.rows.len());
        let ids: BTreeSet<i64> = self.rows.iter().map(|i| i.id).collect();
        self.marked.retain(|id| ids.contains(id));
        Ok(())
    }

    fn sort_rows(&mut self) {
        let key = self.sort;
        self.rows.sort_by(|a, b| {
            let o = match key {
                SortKey::Created => a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)),
                SortKey::Address => a.email.cmp(&b.email),
                SortKey::Status => a.status.as_str().cmp(b.status.as_str()),
                SortKey::Expires => a.expires_at.cmp(&b.expires_at),
            };
            if self.ascending { o } else { o.reverse() }
        });
    }

    pub fn current(&self) -> Option<&Invitation> {
        self.rows.get(self.cursor.index)
    }

    /// The marked rows, else the row under the cursor.
    fn targets(&self) -> Vec<i64> {
        if self.marked.is_empty() {
            self.current().map(|i| vec![i.id]).unwrap_or_default()
        } else {
            self.marked.iter().copied().collect()
        }
    }

    /// The first few addresses of these invitations, for a question.
    fn names(&self, ids: &[i64]) -> String {
        let names = ids
            .iter()
            .filter_map(|id| self.rows.iter().find(|i| i.id == *id))
            .map(|i| i.email_display.as_str());
        first_few(names, ids.len())
    }

    pub fn command(&mut self, cmd: Cmd, page: usize, generation: u64) -> Outcome {
        match cmd {
            c if self.cursor.navigate(c, page, self.rows.len()) => {}
            Cmd::Mark => {
                if let Some(id) = self.current().map(|i| i.id)
                    && !self.marked.remove(&id)
                {
                    self.marked.insert(id);
                }
                self.cursor.move_by(1, self.rows.len());
            }
            Cmd::MarkAll => {
                if self.marked.len() == self.rows.len() {
                    self.marked.clear();
                } else {
                    self.marked = self.rows.iter().map(|i| i.id).collect();
                }
            }
            Cmd::Back => {
                self.marked.clear();
                if !self.search.is_empty() {
                    self.search.clear();
                    return Outcome::Effects(vec![self.reload(generation)]);
                }
            }
            Cmd::FilterStatus => {
                self.filter = match self.filter {
                    None => Some(InvitationStatus::Pending),
                    Some(InvitationStatus::Pending) => Some(InvitationStatus::Expired),
                    Some(InvitationStatus::Expired) => Some(InvitationStatus::Accepted),
                    Some(InvitationStatus::Accepted) => Some(InvitationStatus::Declined),
                    Some(InvitationStatus::Declined) => Some(InvitationStatus::Revoked),
                    Some(InvitationStatus::Revoked) => None,
                };
                return Outcome::Effects(vec![self.reload(generation)]);
            }
            Cmd::Sort => {
                self.sort = self.sort.next();
                // Newest first reads best for "sent"; A to Z for the others.
                self.ascending = self.sort != SortKey::Created;
                self.sort_rows();
            }
            Cmd::SortReverse => {
                self.ascending = !self.ascending;
                self.sort_rows();
            }
            Cmd::Resend => {
                let ids = self.targets();
                return match ids.len() {
                    0 => Outcome::Message("no invitation selected".into()),
                    1 => Outcome::Effects(vec![Effect::Resend(ids)]),
                    n => Outcome::confirm(Ask::new(
                        format!(
                            "Resend {} ({})? Each gets a new link; the old links stop working.",
                            plural(n, "invitation"),
                            self.names(&ids)
                        ),
                        Effect::Resend(ids),
                    )),
                };
            }
            // How many are expired is read first: the question names them.
            Cmd::ResendExpired => return Outcome::Effects(vec![Effect::AskResendExpired]),
            Cmd::Revoke => {
                let ids = self.targets();
                let prompt = match ids.len() {
                    0 => return Outcome::Message("no invitation selected".into()),
                    1 => format!(
                        "Revoke the invitation for {}? Its link stops working.",
                        self.names(&ids)
                    ),
                    n => format!(
                        "Revoke {} ({})? Their links stop working.",
                        plural(n, "invitation"),
                        self.names(&ids)
                    ),
                };
                return Outcome::confirm(Ask::new(prompt, Effect::Revoke(ids)));
            }
            Cmd::CopyAddress => {
                if let Some(i) = self.current() {
                    return Outcome::Effects(vec![Effect::Copy(i.email_display.clone())]);
                }
            }
            _ => {}
        }
        Outcome::None
    }

    pub fn render(&self, f: &mut Frame, area: Rect, theme: &Theme, now: Timestamp) {
        if self.rows.is_empty() {
            let text = if self.loading {
                "loading…"
            } else if self.filter.is_some() || !self.search.is_empty() {
                "No invitations match. Esc clears the search, f changes the filter."
            } else {
                "No invitations yet. Press n to invite someone."
            };
            f.render_widget(Paragraph::new(Line::styled(text, theme.dim)), area);
            return;
        }
        // The sorted column stays in view: sorting by a hidden one would look random.
        let sent_gives_way = if self.sort == SortKey::Created { 1 } else { 6 };
        let height = area.height.saturating_sub(1) as usize;
        let start = self.cursor.window(height, self.rows.len());
        let mut cols = [
            Col::new("", Constraint::Length(1), 1, 0),
            Col::new("Address", Constraint::Fill(3), 22, 0),
            Col::new("Name", Constraint::Fill(2), 14, 7),
            Col::new("Type", Constraint::Length(5), 5, 4),
            Col::new("Status", Constraint::Length(8), 8, 1),
            Col::new("Expires in", Constraint::Length(10), 10, 2),
            Col::new("Sent", Constraint::Length(11), 11, sent_gives_way),
            Col::new("Delivery", Constraint::Length(9), 9, 3),
            Col::new("Error", Constraint::Fill(2), 12, 5),
        ];
        let widest = self.rows.iter().skip(start).take(height);
        let widest = widest.map(|i| escape_for_display(&i.email_display).chars().count());
        let widest = widest.max().unwrap_or(0);
        let kept = fit_widening(&mut cols, 1, widest, area.width);
        let (header, widths) = columns(&cols, &kept);
        let rows = self
            .rows
            .iter()
            .enumerate()
            .skip(start)
            .take(height)
            .map(|(n, i)| {
                let status_style = match i.status {
                    InvitationStatus::Expired | InvitationStatus::Revoked => theme.warn,
                    InvitationStatus::Accepted => theme.ok,
                    _ => ratatui::style::Style::new(),
                };
                let (delivery, style) = match i.delivery {
                    Some(DeliveryState::Failed) => ("failed", theme.error),
                    Some(DeliveryState::Queued) if i.last_error.is_some() => {
                        ("retrying", theme.warn)
                    }
                    Some(d) => (d.as_str(), ratatui::style::Style::new()),
                    None => ("", ratatui::style::Style::new()),
                };
                let cells = vec![
                    Cell::from(if self.marked.contains(&i.id) {
                        "●"
                    } else {
                        " "
                    }),
                    Cell::from(escape_for_display(&i.email_display)),
                    Cell::from(escape_for_display(
                        format!("{} {}", i.first_name, i.last_name).trim(),
                    )),
                    Cell::from(match i.user_type {
                        usher_core::domain::UserType::Professional => "pro",
                        usher_core::domain::UserType::Guest => "guest",
                    }),
                    Cell::from(Span::styled(i.status.as_str(), status_style)),
                    Cell::from(expires_in(i, now)),
                    Cell::from(i.sent_at.map(short_time).unwrap_or_default()),
                    Cell::from(Span::styled(delivery, style)),
                    Cell::from(Span::styled(
                        escape_for_display(i.last_error.as_deref().unwrap_or_default()),
                        theme.dim,
                    )),
                ];
                let mut row = Row::new(keep(cells, &kept));
                if self.marked.contains(&i.id) {
                    row = row.style(theme.marked);
                }
                if n == self.cursor.index {
                    row = row.style(theme.selected);
                }
                row
            });
        let table = Table::new(rows, widths)
            .header(Row::new(header).style(theme.header))
            .column_spacing(1);
        f.render_widget(table, area);
    }
}

/// "9d 23h", "5h 12m", "40m"; "—" once it no longer matters.
pub fn expires_in(i: &Invitation, now: Timestamp) -> String {
    if i.status != InvitationStatus::Pending {
        return "—".into();
    }
    let mins = (i.expires_at - now.0) / 60_000;
    match mins {
        m if m >= 1440 => format!("{}d {}h", m / 1440, (m % 1440) / 60),
        m if m >= 60 => format!("{}h {}m", m / 60, m % 60),
        m => format!("{}m", m.max(0)),
    }
}

fn short_time(ms: i64) -> String {
    let h = Timestamp(ms).human(); // "2026-11-21 14:05 UTC"
    h.get(5..16).unwrap_or(&h).to_owned()
}

/// Every field of one invitation, the last error in full, for the detail popup.
pub fn detail(i: &Invitation) -> crate::tabs::Detail {
    let t = |ms: Option<i64>| ms.map_or_else(|| "—".to_owned(), |ms| Timestamp(ms).human());
    let fields = [
        ("Address", i.email_display.clone()),
        (
            "Name",
            format!("{} {}", i.first_name, i.last_name)
                .trim()
                .to_owned(),
        ),
        ("Type", i.user_type.to_string()),
        (
            "Unique ref",
            i.unique_ref.clone().unwrap_or_else(|| "—".into()),
        ),
        ("Status", i.status.to_string()),
        ("Invited by", i.inviter.clone()),
        ("Created", t(Some(i.created_at))),
        ("Sent", t(i.sent_at)),
        ("Expires", t(Some(i.expires_at))),
        ("Resent", super::plural(i.resend_count as usize, "time")),
        (
            "Delivery",
            i.delivery.map_or_else(|| "—".to_owned(), |d| d.to_string()),
        ),
        (
            "Last error",
            i.last_error.clone().unwrap_or_else(|| "—".into()),
        ),
    ];
    crate::tabs::Detail {
        title: format!(" Invitation {} ", i.id),
        fields: fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        scroll: 0,
    }
}
