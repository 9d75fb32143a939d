//! What refuses an apply whole before anything is written: a plan that changed since the
//! preview, faulty rows not skipped on purpose, too few licences, and a workbook's users
//! outside the account's domains.

use super::options::ApplyOptions;
use crate::domain::licence::{Seats, SeatsExhausted};
use crate::error::{Clash, Error, Result};
use crate::import::Parsed;
use crate::import::plan::{AccountState, Bucket, Outcome, Outcomes, Source};

/// The plan's faulty rows, when the apply may go on past them; an error otherwise.
pub(super) fn check_plan(
    plan: &Outcomes,
    parsed: &Parsed,
    state: &AccountState,
    opts: &ApplyOptions,
) -> Result<usize> {
    let workbook = parsed.workbook.is_some();
    if let Some(expected) = &opts.expect_digest
        && *expected != plan.digest
    {
        let counts: Vec<String> = plan
            .counts
            .iter()
            .map(|(b, n)| format!("{n} {}", b.label()))
            .collect();
        return Err(Error::conflict(
            Clash::Changed,
            format!(
                "the account changed since the preview (another admin?); nothing was applied. Now: {}. Preview again (digest {})",
                counts.join(", "),
                plan.digest
            ),
        ));
    }
    let errors = plan.counts.get(&Bucket::Error).copied().unwrap_or(0);
    // A workbook leaves out the users at fault and says so (docs/rules.md#import); any
    // other file is applied whole or not at all.
    if errors > 0 && !workbook && !opts.skip_errors {
        return Err(Error::conflict(
            Clash::FaultyRows,
            format!(
                "{errors} row(s) cannot be imported; nothing was applied (--skip-errors \
             applies the others and leaves these out)"
            ),
        ));
    }
    if plan.licences.short_by > 0 && !opts.overflow_as_guests {
        let total = state.seats.map_or(0, |s| s.total);
        return Err(SeatsExhausted {
            seats: state.seats.unwrap_or(Seats { used: 0, total }),
            wanted: plan.licences.wanted,
        }
        .into());
    }
    if workbook {
        refuse_outside(&plan.list, parsed)?;
    }
    Ok(errors)
}

/// A user not on a verified, active domain refuses the whole workbook
/// (docs/rules.md#import), naming every one of them.
fn refuse_outside(list: &[Outcome], parsed: &Parsed) -> Result<()> {
    let outside: Vec<String> = list
        .iter()
        .filter(|o| o.bucket == Bucket::OutsideDomains)
        .filter_map(|o| match o.source {
            Source::Row(i) => parsed.rows.get(i as usize),
            _ => None,
        })
        .map(|r| format!("{} (Users row {})", r.email_display(), r.row))
        .collect();
    if outside.is_empty() {
        return Ok(());
    }
    Err(Error::Forbidden(format!(
        "the workbook is refused whole: {} user(s) are not on a verified, active domain of \
         the account: {}; nothing was applied (add and verify the domain, or take them out)",
        outside.len(),
        outside.join(", ")
    )))
}
