//! Draws the whole screen from the app's state: header, tabs, the tab's body, the status
//! or input line, the key hints, and any popup.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::app::{App, Input, Level, Modal, Tab};
use super::theme::Theme;
use crate::domain::sanitize::escape_for_display;

const SPINNER: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];

/// Rows the body has for a table at this terminal height (for page moves).
pub fn page_rows(height: u16) -> usize {
    height.saturating_sub(5) as usize
}

pub fn draw(f: &mut Frame, app: &mut App, theme: &Theme) {
    let [header, tabs, body, status, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(f.area());
    draw_header(f, header, app, theme);
    draw_tabs(f, tabs, app, theme);
    match app.tab {
        Tab::Invitations => app.invitations.render(f, body, theme, app.now),
        Tab::Users => app.users.render(f, body, theme),
        Tab::Import => app.import.render(f, body, theme),
        Tab::Roles => app.roles.render(f, body, theme),
        Tab::Domains => app.domains.render(f, body, theme),
    }
    draw_status(f, status, app, theme);
    draw_footer(f, footer, app, theme);
    let area = f.area();
    match &mut app.modal {
        Some(Modal::Help { scroll }) => draw_help(f, area, &app.keymap, *scroll, theme),
        Some(Modal::Confirm {
            prompt,
            typed,
            text,
            ..
        }) => draw_confirm(
            f,
            area,
            prompt,
            typed.as_deref().map(|t| (t, text.as_str())),
            theme,
        ),
        Some(Modal::Invitation(i)) => draw_invitation(f, area, i, theme),
        Some(Modal::Form(form)) => {
            let r = centered(area, 76, 24);
            form.render(f, r, theme);
        }
        Some(Modal::Role(form)) => {
            let r = centered(area, 90, 26);
            form.render(f, r, theme);
        }
        Some(Modal::User(form)) => {
            let r = centered(area, 76, 12);
            form.render(f, r, theme);
        }
        Some(Modal::Template(form)) => {
            let r = centered(
                area,
                area.width.saturating_sub(4).max(60),
                area.height.saturating_sub(2).max(16),
            );
            form.render(f, r, theme);
        }
        None => {}
    }
}

fn draw_header(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    // The long form when it fits, else a compact one, so 80 columns still show everything.
    for compact in [false, true] {
        let line = header_line(app, theme, compact);
        if line.width() <= area.width as usize || compact {
            f.render_widget(line, area);
            return;
        }
    }
}

fn header_line(app: &App, theme: &Theme, compact: bool) -> Line<'static> {
    let sep = if compact { " · " } else { " │ " };
    let mut spans = vec![Span::styled(" usher ", theme.title)];
    if app.connection_lost {
        // What follows is the last status read, kept until the database answers again.
        spans.push(Span::styled(
            if compact {
                "reconnecting… "
            } else {
                "reconnecting to the database… "
            },
            theme.error,
        ));
    }
    match &app.status {
        Some(s) => {
            let licences_style = if s.licences_used >= s.licences_total {
                theme.warn
            } else {
                theme.header
            };
            let (lic, mail) = if compact {
                ("lic", "mail")
            } else {
                ("licences", "outbox")
            };
            spans.extend([
                Span::raw(escape_for_display(&s.account)),
                Span::styled(sep, theme.dim),
                Span::raw(format!("{} users", thousands(s.users))),
                Span::styled(sep, theme.dim),
                Span::raw(format!("{} pending", thousands(s.pending_invitations))),
                Span::styled(sep, theme.dim),
                Span::styled(
                    format!(
                        "{lic} {}/{}",
                        thousands(s.licences_used),
                        thousands(s.licences_total)
                    ),
                    licences_style,
                ),
                Span::styled(sep, theme.dim),
                Span::raw(format!("{mail} {} queued", thousands(s.outbox_queued))),
            ]);
            if s.outbox_failed > 0 {
                spans.push(Span::styled(
                    format!(", {} failed", thousands(s.outbox_failed)),
                    theme.error,
                ));
            }
        }
        None => spans.push(Span::styled("connecting…", theme.dim)),
    }
    if app.read_only() {
        spans.push(Span::styled(
            if compact { " RO" } else { "  READ-ONLY" },
            theme.warn,
        ));
    }
    if app.in_flight > 0 {
        spans.push(Span::raw(format!(
            " {}",
            SPINNER[app.spinner % SPINNER.len()]
        )));
    }
    Line::from(spans)
}

/// 1204 -> "1,204".
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn draw_tabs(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut spans = Vec::new();
    for (n, t) in Tab::ALL.iter().enumerate() {
        let style = if *t == app.tab {
            theme.tab_active
        } else {
            theme.dim
        };
        spans.push(Span::styled(format!(" {} {} ", n + 1, t.title()), style));
        spans.push(Span::raw(" "));
    }
    let detail = match app.tab {
        Tab::Invitations => {
            let i = &app.invitations;
            let mut d = format!(
                "{} shown · status: {} · sort: {}{}",
                i.rows.len(),
                i.filter.map_or("all", |s| s.as_str()),
                i.sort.label(),
                if i.ascending { " ↑" } else { " ↓" }
            );
            if i.truncated {
                d.push_str(" · more: narrow with / or f");
            }
            if !i.marked.is_empty() {
                d.push_str(&format!(" · {} marked", i.marked.len()));
            }
            if !i.search.is_empty() {
                d.push_str(&format!(" · /{}", escape_for_display(&i.search)));
            }
            d
        }
        Tab::Import => match &app.import.review {
            Some(r) => format!("digest {}", r.plan.digest),
            None => String::new(),
        },
        Tab::Roles => {
            let r = &app.roles;
            let custom = r.rows.iter().filter(|r| !r.role.system).count();
            format!(
                "{} roles, {custom} custom{}",
                r.rows.len(),
                if r.matrix { " · matrix" } else { "" }
            )
        }
        Tab::Domains => {
            let d = &app.domains;
            let usable = d
                .rows
                .iter()
                .filter(|d| d.domain.verified && d.domain.active)
                .count();
            format!(
                "{} domains, {usable} verified and active · {} mailboxes",
                d.rows.len(),
                d.mailboxes.len()
            )
        }
        Tab::Users => {
            let u = &app.users;
            let mut d = match &app.status {
                Some(s) if u.search.is_empty() => format!("{} users", thousands(s.users)),
                _ => format!("{} loaded", u.rows.len()),
            };
            if !u.marked.is_empty() {
                d.push_str(&format!(" · {} marked", u.marked.len()));
            }
            if !u.search.is_empty() {
                d.push_str(&format!(" · /{}", escape_for_display(&u.search)));
            }
            d
        }
    };
    spans.push(Span::styled(detail, theme.dim));
    f.render_widget(Line::from(spans), area);
}

fn draw_status(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    if let (None, Some((done, total))) = (&app.input, app.report) {
        // A report being written: a gauge where the status line goes.
        let ratio = if total == 0 {
            0.0
        } else {
            (done as f64 / total as f64).clamp(0.0, 1.0)
        };
        let gauge = ratatui::widgets::LineGauge::default()
            .filled_style(theme.key)
            .label(format!(
                "report {} / {} rows",
                thousands(i64::try_from(done).unwrap_or(i64::MAX)),
                thousands(i64::try_from(total).unwrap_or(i64::MAX))
            ))
            .ratio(ratio);
        f.render_widget(gauge, area);
        return;
    }
    let line = match &app.input {
        Some(Input::Search(t)) => Line::from(vec![
            Span::styled("/", theme.key),
            Span::raw(escape_for_display(t)),
            Span::raw("▏"),
        ]),
        Some(Input::Path(t)) => Line::from(vec![
            Span::styled("import file: ", theme.key),
            Span::raw(escape_for_display(t)),
            Span::raw("▏"),
            Span::styled("   tab completes, ~ is your home", theme.dim),
        ]),
        Some(Input::Mapping(t)) => Line::from(vec![
            Span::styled("map columns: ", theme.key),
            Span::raw(escape_for_display(t)),
            Span::raw("▏"),
            Span::styled(
                "   FIELD=COLUMN,... (email, first_name, last_name, unique_ref, ...)",
                theme.dim,
            ),
        ]),
        Some(Input::Prompt(p)) => Line::from(vec![
            Span::styled(escape_for_display(&p.label()), theme.key),
            Span::raw(escape_for_display(&p.text)),
            Span::raw("▏"),
            Span::styled(format!("   {}", p.hint()), theme.dim),
        ]),
        Some(Input::Command(c)) => {
            let mut spans = vec![
                Span::styled(":", theme.key),
                Span::raw(escape_for_display(&c.text)),
                Span::raw("▏"),
            ];
            let cands = c.candidates();
            if !cands.is_empty() && cands.len() < super::command::COMMANDS.len() {
                spans.push(Span::styled(format!("   {}", cands.join(" · ")), theme.dim));
            }
            Line::from(spans)
        }
        None => match &app.message {
            Some((Level::Error, m)) => Line::styled(escape_for_display(m), theme.error),
            Some((Level::Info, m)) => Line::styled(escape_for_display(m), theme.ok),
            None => Line::from(""),
        },
    };
    f.render_widget(line, area);
}

fn draw_footer(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut spans = Vec::new();
    let mut used = 0usize;
    for (key, desc) in app.keymap.hints(&app.contexts()) {
        let w = key.chars().count() + desc.chars().count() + 3;
        if used + w > area.width as usize {
            break;
        }
        used += w;
        spans.push(Span::styled(key, theme.key));
        spans.push(Span::raw(format!(" {desc}  ")));
    }
    f.render_widget(Line::from(spans), area);
}

fn draw_help(
    f: &mut Frame,
    area: Rect,
    keymap: &super::keymap::Keymap,
    scroll: u16,
    theme: &Theme,
) {
    let r = centered(area, 72, area.height.saturating_sub(2));
    f.render_widget(Clear, r);
    let mut lines = Vec::new();
    for (ctx, rows) in keymap.help() {
        lines.push(Line::styled(ctx.name(), theme.title));
        for (keys, desc) in rows {
            lines.push(Line::from(vec![
                Span::styled(format!("  {keys:<18}"), theme.key),
                Span::raw(desc),
            ]));
        }
        lines.push(Line::from(""));
    }
    lines.push(Line::styled(
        "Commands (:): invite ADDRESSES, invitations, users, resend expired,",
        theme.dim,
    ));
    lines.push(Line::styled(
        "  filter STATUS, search TEXT, help, quit.  Keys can be changed in the",
        theme.dim,
    ));
    lines.push(Line::styled(
        "  config file: [keys.invitations] \"ctrl-e\" = \"resend\"",
        theme.dim,
    ));
    let p = Paragraph::new(lines)
        .block(Block::bordered().title(" Keys ").title_style(theme.title))
        .scroll((scroll, 0));
    f.render_widget(p, r);
}

/// A question: what it touches, then the answers, the safe one named as the default.
/// `typed` is (what must be typed, what has been).
fn draw_confirm(
    f: &mut Frame,
    area: Rect,
    prompt: &str,
    typed: Option<(&str, &str)>,
    theme: &Theme,
) {
    let width = 64.min(area.width);
    let inner = width.saturating_sub(2).max(1) as usize;
    // Wrapped height of the prompt, so a long list of names is never cut.
    let prompt_rows = prompt.chars().count().div_ceil(inner).max(1) as u16 + 1;
    let r = centered(area, width, prompt_rows + 4);
    f.render_widget(Clear, r);
    let answers = match typed {
        Some((want, text)) => Line::from(vec![
            Span::raw("Type "),
            Span::styled(want.to_owned(), theme.warn),
            Span::raw(" and Enter to go on: "),
            Span::styled(format!("{}▏", escape_for_display(text)), theme.key),
            Span::raw("  "),
            Span::styled("esc", theme.key),
            Span::raw(" no"),
        ]),
        None => Line::from(vec![
            Span::styled("y", theme.key),
            Span::raw(" yes   "),
            Span::styled("n", theme.key),
            Span::raw(" / "),
            Span::styled("enter", theme.key),
            Span::raw(" no (the default)"),
        ]),
    };
    let p = Paragraph::new(vec![Line::from(prompt.to_owned()), Line::from(""), answers])
        .wrap(Wrap { trim: true })
        .block(Block::bordered().title(" Confirm ").title_style(theme.warn));
    f.render_widget(p, r);
}

fn draw_invitation(f: &mut Frame, area: Rect, i: &crate::store::Invitation, theme: &Theme) {
    use crate::domain::Timestamp;
    let r = centered(area, 76, 18);
    f.render_widget(Clear, r);
    let t = |ms: Option<i64>| ms.map_or_else(|| "—".to_owned(), |ms| Timestamp(ms).human());
    let row = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:<12}"), theme.header),
            Span::raw(v),
        ])
    };
    let lines = vec![
        Line::styled(escape_for_display(&i.email_display), theme.title),
        row(
            "Name",
            escape_for_display(format!("{} {}", i.first_name, i.last_name).trim()),
        ),
        row("Type", i.user_type.to_string()),
        row("Status", i.status.to_string()),
        row("Invited by", escape_for_display(&i.inviter)),
        row("Created", t(Some(i.created_at))),
        row("Sent", t(i.sent_at)),
        row("Expires", t(Some(i.expires_at))),
        row("Resent", format!("{} time(s)", i.resend_count)),
        row(
            "Delivery",
            i.delivery.map_or_else(|| "—".to_owned(), |d| d.to_string()),
        ),
        row(
            "Last error",
            escape_for_display(i.last_error.as_deref().unwrap_or("—")),
        ),
    ];
    let p = Paragraph::new(lines).wrap(Wrap { trim: false }).block(
        Block::bordered()
            .title(format!(" Invitation {} ", i.id))
            .title_style(theme.title),
    );
    f.render_widget(p, r);
}

/// A rectangle of at most `w`×`h` in the middle of `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}
