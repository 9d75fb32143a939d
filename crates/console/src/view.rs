//! Draws the whole screen from the app's state: header, tabs, the tab's body, the status
//! or input line, the key hints, and any popup.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::app::{App, Input, Level, Modal};
use super::tabs::Tab;
pub use super::tabs::thousands;
use super::theme::Theme;
use usher_core::domain::sanitize::escape_for_display;

const SPINNER: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];

/// Rows the body has for a table at this terminal height (for page moves).
pub fn page_rows(height: u16) -> usize {
    height.saturating_sub(5) as usize
}

pub fn draw(f: &mut Frame, app: &mut App, theme: &Theme) {
    // A message longer than the line takes a second one rather than being cut.
    let long = app.input.is_none()
        && app
            .message
            .as_ref()
            .is_some_and(|(_, m)| escape_for_display(m).chars().count() > f.area().width as usize);
    let [header, tabs, body, status, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(if long { 2 } else { 1 }),
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
        Tab::Sync => app.sync.render(f, body, theme),
    }
    draw_status(f, status, app, theme);
    draw_footer(f, footer, app, theme);
    // Popups leave the header, the status line and the footer in view: the footer then
    // says how to act in the popup, and the status line what just happened.
    let area = Rect {
        y: header.y + 1,
        height: status.y.saturating_sub(header.y + 1),
        ..f.area()
    };
    match &mut app.modal {
        Some(Modal::Help { scroll, ctxs }) => draw_help(f, area, &app.keymap, scroll, ctxs, theme),
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
        Some(Modal::Detail(d)) => draw_detail(f, area, d, theme),
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
        // The editor takes the whole space between header and footer: it needs it.
        Some(Modal::Template(form)) => form.render(f, area, theme),
        None => {}
    }
}

fn draw_header(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    // The long form when it fits, else a compact one, else one without the counts the
    // tabs show anyway, so 80 columns still show who one is, the licences and the mail.
    // While reconnecting, the long words take the operator's place first.
    for (compact, op, counts) in [
        (false, true, true),
        (false, false, true),
        (true, true, true),
        (true, true, false),
    ] {
        if !op && !app.connection_lost {
            continue;
        }
        let line = header_line(app, theme, compact, op, counts);
        if line.width() <= area.width as usize || !counts {
            f.render_widget(line, area);
            return;
        }
    }
}

/// Who the console acts as, and who authenticated when that is another name: "as
/// ivy@acme.test [os:ivy]" (the name alone when narrow).
fn acting_as(op: &usher_core::service::Operator, compact: bool) -> String {
    let name = escape_for_display(&op.name);
    if compact || op.identity.is_empty() || op.identity == op.name {
        format!("as {name}")
    } else {
        format!("as {name} [{}]", escape_for_display(&op.identity))
    }
}

fn header_line(app: &App, theme: &Theme, compact: bool, op: bool, counts: bool) -> Line<'static> {
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
            spans.push(Span::raw(escape_for_display(&s.account)));
            if let Some(operator) = app.operator.as_ref().filter(|_| op) {
                spans.push(Span::styled(sep, theme.dim));
                spans.push(Span::styled(acting_as(operator, compact), theme.header));
            }
            if counts {
                spans.extend([
                    Span::styled(sep, theme.dim),
                    Span::raw(count(s.users, "user")),
                    Span::styled(sep, theme.dim),
                    Span::raw(format!("{} pending", thousands(s.pending_invitations))),
                ]);
            }
            spans.extend([
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

/// "1 user", "1,204 users" ("mailbox" takes "es").
pub fn count(n: i64, one: &str) -> String {
    super::tabs::plural(usize::try_from(n).unwrap_or(0), one)
}

/// The tabs and what the tab shows (counts, filter, sort, marks, search). When both do
/// not fit, the other tabs shrink to their numbers so the detail stays whole.
fn draw_tabs(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let detail = tab_detail(app);
    let full: usize = Tab::ALL.iter().map(|t| t.title().len() + 5).sum();
    let compact = full + detail.chars().count() > area.width as usize;
    let mut spans = Vec::new();
    for (n, t) in Tab::ALL.iter().enumerate() {
        let (style, label) = if *t == app.tab {
            (theme.tab_active, format!(" {} {} ", n + 1, t.title()))
        } else if compact {
            (theme.dim, format!(" {} ", n + 1))
        } else {
            (theme.dim, format!(" {} {} ", n + 1, t.title()))
        };
        spans.push(Span::styled(label, style));
        spans.push(Span::raw(" "));
    }
    spans.push(Span::styled(detail, theme.dim));
    f.render_widget(Line::from(spans), area);
}

fn tab_detail(app: &App) -> String {
    match app.tab {
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
                "{}, {custom} custom{}",
                count(r.rows.len() as i64, "role"),
                if r.matrix { " · matrix" } else { "" }
            )
        }
        Tab::Sync => {
            let s = &app.sync;
            let waiting = s.rows.iter().filter(|r| r.waiting.is_some()).count();
            format!(
                "{}{}",
                count(s.rows.len() as i64, "source"),
                match waiting {
                    0 => String::new(),
                    n => format!(", {n} waiting for approval"),
                }
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
                "{}, {usable} verified and active · {}",
                count(d.rows.len() as i64, "domain"),
                count(d.mailboxes.len() as i64, "mailbox")
            )
        }
        Tab::Users => {
            let u = &app.users;
            let mut d = match &app.status {
                Some(s) if u.search.is_empty() => count(s.users, "user"),
                // Matches are read a page at a time: all are known only once both ends are.
                _ if u.at_start && u.at_end => format!("{} match", thousands(u.rows.len() as i64)),
                _ => format!("{}+ match", thousands(u.rows.len() as i64)),
            };
            if !u.marked.is_empty() {
                d.push_str(&format!(" · {} marked", u.marked.len()));
            }
            if !u.search.is_empty() {
                d.push_str(&format!(" · /{}", escape_for_display(&u.search)));
            }
            d
        }
    }
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
            if !cands.is_empty() {
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
    f.render_widget(Paragraph::new(line).wrap(Wrap { trim: false }), area);
}

/// The keys that work here, as many as fit; how to get help and how to leave always
/// fit (they go last, with their room kept), whatever the width.
fn draw_footer(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    use super::keymap::Cmd;
    let width = |k: &str, d: &str| k.chars().count() + d.chars().count() + 3;
    let (kept, rest): (Vec<_>, Vec<_>) = app
        .keymap
        .hints_of(&app.contexts())
        .into_iter()
        .partition(|(c, _, _)| matches!(c, Cmd::Help | Cmd::Quit | Cmd::Cancel));
    let mut room = (area.width as usize)
        .saturating_sub(kept.iter().map(|(_, k, d)| width(k, d)).sum::<usize>());
    let mut spans = Vec::new();
    let mut shown = Vec::new();
    for (_, key, desc) in rest {
        let w = width(&key, &desc);
        if w > room {
            continue;
        }
        room -= w;
        shown.push((key, desc));
    }
    shown.extend(kept.into_iter().map(|(_, k, d)| (k, d)));
    for (key, desc) in shown {
        spans.push(Span::styled(key, theme.key));
        spans.push(Span::raw(format!(" {desc}  ")));
    }
    f.render_widget(Line::from(spans), area);
}

/// The keys of where the operator is first (`ctxs`), then every other context's, then
/// the `:` commands from their table. Scrolled, and never past its end.
fn draw_help(
    f: &mut Frame,
    area: Rect,
    keymap: &super::keymap::Keymap,
    scroll: &mut u16,
    ctxs: &[super::keymap::Ctx],
    theme: &Theme,
) {
    let r = centered(area, 76, area.height);
    f.render_widget(Clear, r);
    let mut sections = keymap.help();
    // Stable: the contexts in force in their order, the rest as they were.
    sections.sort_by_key(|(ctx, _)| ctxs.iter().position(|c| c == ctx).unwrap_or(usize::MAX));
    let mut lines = Vec::new();
    for (n, (ctx, rows)) in sections.into_iter().enumerate() {
        let here = if n < ctxs.len() && ctxs.contains(&ctx) {
            " (here)"
        } else {
            ""
        };
        lines.push(Line::styled(format!("{}{here}", ctx.name()), theme.title));
        for (keys, desc) in rows {
            lines.push(Line::from(vec![
                Span::styled(format!("  {keys:<18}"), theme.key),
                Span::raw(desc),
            ]));
        }
        lines.push(Line::from(""));
    }
    lines.push(Line::styled("commands (:, Tab completes)", theme.title));
    for spec in super::command::SPECS {
        lines.push(Line::from(vec![
            Span::styled(format!("  :{:<30}", spec.usage()), theme.key),
            Span::raw(spec.help),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(Line::styled(
        "Keys can be changed in the config file: [keys.invitations] \"ctrl-e\" = \"resend\"",
        theme.dim,
    ));
    let p = Paragraph::new(lines).wrap(Wrap { trim: false });
    let (at, more) = super::tabs::scroll_within(&p, r, *scroll);
    *scroll = at;
    let more = if more {
        let total = p.line_count(r.width.saturating_sub(2)).max(1);
        let seen = usize::from(r.height.saturating_sub(2) + at);
        format!(" {}% · pgdn for more ", seen * 100 / total)
    } else {
        " end ".to_owned()
    };
    f.render_widget(
        p.scroll((*scroll, 0)).block(
            Block::bordered()
                .title(" Keys ")
                .title_bottom(more)
                .title_style(theme.title),
        ),
        r,
    );
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

/// One item's every field, values wrapped (never cut), scrolled within the popup.
fn draw_detail(f: &mut Frame, area: Rect, d: &mut super::app::Detail, theme: &Theme) {
    let r = centered(area, 76, area.height.saturating_sub(2).max(8));
    f.render_widget(Clear, r);
    let width = d
        .fields
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0)
        + 2;
    let lines: Vec<Line> = d
        .fields
        .iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(format!("{k:<width$}"), theme.header),
                Span::raw(escape_for_display(v)),
            ])
        })
        .collect();
    let p = Paragraph::new(lines).wrap(Wrap { trim: false });
    let (at, more) = super::tabs::scroll_within(&p, r, d.scroll);
    d.scroll = at;
    let more = if more { " · j more " } else { "" };
    f.render_widget(
        p.scroll((d.scroll, 0)).block(
            Block::bordered()
                .title(escape_for_display(&d.title))
                .title_bottom(more)
                .title_style(theme.title),
        ),
        r,
    );
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
