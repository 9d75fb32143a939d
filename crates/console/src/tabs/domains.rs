//! The Domains tab (docs/rules.md#domains): the account's domains with how each was
//! verified and the record still to publish, and its mailboxes below.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use super::{Cursor, Outcome};
use crate::action::Effect;
use crate::keymap::Cmd;
use crate::theme::Theme;
use usher_core::domain::Timestamp;
use usher_core::domain::sanitize::escape_for_display;
use usher_core::service::{DomainView, Verify};
use usher_core::store::Mailbox;

#[derive(Debug, Default)]
pub struct DomainsTab {
    pub rows: Vec<DomainView>,
    pub mailboxes: Vec<Mailbox>,
    pub cursor: Cursor,
}

impl DomainsTab {
    pub fn current(&self) -> Option<&DomainView> {
        self.rows.get(self.cursor.index)
    }

    pub fn loaded(&mut self, domains: Vec<DomainView>, mailboxes: Vec<Mailbox>) {
        let keep = self.current().map(|d| d.domain.name.clone());
        self.rows = domains;
        self.mailboxes = mailboxes;
        if let Some(pos) = keep.and_then(|n| self.rows.iter().position(|d| d.domain.name == n)) {
            self.cursor.index = pos;
        }
        self.cursor.clamp(self.rows.len());
    }

    pub fn command(&mut self, cmd: Cmd, page: usize) -> Outcome {
        match cmd {
            c if self.cursor.navigate(c, page, self.rows.len()) => {}
            Cmd::VerifyDomain => {
                if let Some(d) = self.current() {
                    return Outcome::Effects(vec![Effect::VerifyDomain {
                        name: d.domain.name.clone(),
                        how: Verify::Dns,
                    }]);
                }
            }
            Cmd::ActivateDomain => {
                if let Some(d) = self.current() {
                    return Outcome::Effects(vec![Effect::SetDomainActive {
                        name: d.domain.name.clone(),
                        active: true,
                    }]);
                }
            }
            Cmd::DeactivateDomain => {
                if let Some(d) = self.current() {
                    return Outcome::confirm(super::Ask::new(
                        format!(
                            "Deactivate {}? Its users keep their permissions, but no new \
                             corporate user can be created on it.",
                            escape_for_display(&d.domain.name)
                        ),
                        Effect::SetDomainActive {
                            name: d.domain.name.clone(),
                            active: false,
                        },
                    ));
                }
            }
            _ => {}
        }
        Outcome::None
    }

    pub fn render(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        let [domains, record, mailboxes] = Layout::vertical([
            Constraint::Fill(1),
            Constraint::Length(3),
            Constraint::Fill(1),
        ])
        .areas(area);
        if self.rows.is_empty() {
            f.render_widget(
                Line::styled("No domains yet. n adds one.", theme.dim),
                domains,
            );
        } else {
            let height = domains.height.saturating_sub(1) as usize;
            let start = self.cursor.window(height, self.rows.len());
            let rows = self
                .rows
                .iter()
                .enumerate()
                .skip(start)
                .take(height)
                .map(|(n, v)| super::highlight(domain_row(v), n == self.cursor.index, theme));
            f.render_widget(
                Table::new(
                    rows,
                    [
                        Constraint::Fill(2),
                        Constraint::Length(18),
                        Constraint::Length(9),
                        Constraint::Length(6),
                        Constraint::Fill(2),
                    ],
                )
                .header(
                    Row::new(["Domain", "Verified", "State", "Users", "Reason"])
                        .style(theme.header),
                )
                .column_spacing(1),
                domains,
            );
        }
        let txt = match self.current() {
            Some(DomainView {
                txt_name: Some(n),
                txt_value: Some(v),
                domain,
                ..
            }) if !domain.verified => vec![
                Line::from(format!(
                    "To verify, publish TXT {} = \"{}\"",
                    escape_for_display(n),
                    escape_for_display(v)
                )),
                Line::styled(
                    "then press v; or V to mark it verified by hand, with a reason",
                    theme.dim,
                ),
            ],
            _ => Vec::new(),
        };
        f.render_widget(Paragraph::new(txt), record);
        let rows = self.mailboxes.iter().map(|m| {
            Row::new(vec![
                Cell::from(escape_for_display(&m.address)),
                Cell::from(escape_for_display(&m.name)),
                Cell::from(m.kind.clone()),
                Cell::from(escape_for_display(m.owner.as_deref().unwrap_or(""))),
            ])
        });
        f.render_widget(
            Table::new(
                rows,
                [
                    Constraint::Fill(2),
                    Constraint::Fill(2),
                    Constraint::Length(9),
                    Constraint::Fill(2),
                ],
            )
            .header(Row::new(["Mailbox", "Name", "Kind", "Owner"]).style(theme.header))
            .block(Block::bordered().title(format!(" Mailboxes ({}) ", self.mailboxes.len())))
            .column_spacing(1),
            mailboxes,
        );
    }
}

/// One domain's row: its name, how and when it was verified, state, users and reason.
fn domain_row(v: &DomainView) -> Row<'static> {
    let d = &v.domain;
    let verified = match (d.verified, d.verified_how.as_deref()) {
        (false, _) => "no".to_owned(),
        // The day is enough here; `usher domains list` has the time.
        (true, Some(how)) => format!(
            "{how}, {}",
            d.verified_at.map_or(String::new(), |t| {
                Timestamp(t).human().chars().take(10).collect()
            })
        ),
        (true, None) => "yes".to_owned(),
    };
    Row::new(vec![
        Cell::from(escape_for_display(&d.name)),
        Cell::from(verified),
        Cell::from(if d.active { "active" } else { "inactive" }),
        Cell::from(v.users.to_string()),
        Cell::from(escape_for_display(
            d.verified_reason.as_deref().unwrap_or(""),
        )),
    ])
}
