//! What the property counts, and what must hold.

use std::collections::BTreeMap;
use std::fmt;

use refunds::sandbox::FaultCounts;

/// What the property found, over all sequences.
#[derive(Debug, Default, Clone)]
#[non_exhaustive]
pub struct PropertyReport {
    /// The provider.
    pub provider: String,
    /// How pending creates are resolved while the key is kept: `"re-send"` or `"look-up"`.
    pub strategy: &'static str,
    /// `"busy"` (other actors, nothing declared) or `"declared"` (booked refunds and exclusivity
    /// declared, no other actor).
    pub mode: &'static str,
    /// Sequences run.
    pub sequences: usize,
    /// Refunds the application wanted.
    pub intents: usize,
    /// Creates sent (first creates and creates again after "not applied").
    pub creates: usize,
    /// Faults injected, by kind.
    pub faults: FaultCounts,
    /// Other actors' refunds of the same payments and amounts.
    pub other_refunds: usize,
    /// Sequences whose provider clock was skewed.
    pub clock_skewed: usize,
    /// Creates answered with the refund.
    pub succeeded: usize,
    /// Creates refused (no pending create: nothing applied).
    pub refused: usize,
    /// Creates answered with a refund that differs from the request (applied, error carries it).
    pub mismatched: usize,
    /// Creates that ended ambiguous, with a pending create.
    pub ambiguous: usize,
    /// Recovery verdicts, by name and evidence or doubt (`applied: same_key`, `unknown: in_progress`).
    pub verdicts: BTreeMap<String, usize>,
    /// Intents created again after "not applied".
    pub recreated: usize,
    /// Intents left to a person after the bounded recoveries (pending create kept).
    pub escalated: usize,
    /// Refunds beyond one per intent.
    pub duplicates: usize,
    /// Refunds the application does not know of: made by a create it was told was refused or not
    /// applied, or made by nobody it can name.
    pub silent_losses: usize,
    /// Verdicts that name a refund not made by the create (another actor's, another create's, an
    /// earlier one), or one refund claimed twice.
    pub wrong_verdicts: usize,
    /// Creates re-sent under a key with a body other than the first one (not the identical request).
    pub changed_resends: u64,
}

impl PropertyReport {
    /// Verdicts counted under `name` (`applied`, `unknown`, …), whatever their evidence.
    pub fn verdicts_named(&self, name: &str) -> usize {
        self.verdicts
            .iter()
            .filter(|(k, _)| k.split(':').next() == Some(name))
            .map(|(_, n)| n)
            .sum()
    }

    pub(crate) fn note_verdict(&mut self, key: String) {
        *self.verdicts.entry(key).or_default() += 1;
    }

    pub(crate) fn add(&mut self, r: PropertyReport) {
        if self.provider.is_empty() {
            self.provider = r.provider.clone();
            self.strategy = r.strategy;
            self.mode = r.mode;
        }
        self.sequences += r.sequences;
        self.intents += r.intents;
        self.creates += r.creates;
        add_counts(&mut self.faults, r.faults);
        self.other_refunds += r.other_refunds;
        self.clock_skewed += r.clock_skewed;
        self.succeeded += r.succeeded;
        self.refused += r.refused;
        self.mismatched += r.mismatched;
        self.ambiguous += r.ambiguous;
        for (k, n) in r.verdicts {
            *self.verdicts.entry(k).or_default() += n;
        }
        self.recreated += r.recreated;
        self.escalated += r.escalated;
        self.duplicates += r.duplicates;
        self.silent_losses += r.silent_losses;
        self.wrong_verdicts += r.wrong_verdicts;
        self.changed_resends += r.changed_resends;
    }

    /// Panics unless the property held: no duplicate, no silent loss, no wrong verdict, no re-send that
    /// was not the identical request; faults were injected; every create was accounted for.
    pub fn assert_held(&self) {
        assert_eq!(self.duplicates, 0, "{self}");
        assert_eq!(self.silent_losses, 0, "{self}");
        assert_eq!(self.wrong_verdicts, 0, "{self}");
        assert_eq!(self.changed_resends, 0, "{self}");
        assert!(self.faults.total() > 0, "faults were injected: {self}");
        assert_eq!(
            self.creates,
            self.succeeded + self.refused + self.mismatched + self.ambiguous,
            "every create was accounted for: {self}"
        );
    }
}

impl fmt::Display for PropertyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.faults;
        write!(
            f,
            "{} ({}, {}): sequences {}, intents {}, creates {}, other actors' refunds {}, clock-skewed sequences {}, \
             faults {} (503 {}, 429 {}, reset {}, delay {}, lost {}, slow commit {}, applied-then-429 {}, refused {}, \
             in progress {}; in-progress answers {}), succeeded {}, refused {}, answer differs {}, ambiguous {}, \
             verdicts {:?}, created again {}, escalated {}, duplicates {}, silent losses {}, wrong verdicts {}, \
             changed re-sends {}",
            self.provider,
            self.strategy,
            self.mode,
            self.sequences,
            self.intents,
            self.creates,
            self.other_refunds,
            self.clock_skewed,
            c.total(),
            c.service_unavailable,
            c.rate_limited,
            c.connection_reset,
            c.delayed,
            c.response_lost,
            c.slow_commit,
            c.applied_then_429,
            c.refused,
            c.in_progress,
            c.in_progress_answers,
            self.succeeded,
            self.refused,
            self.mismatched,
            self.ambiguous,
            self.verdicts,
            self.recreated,
            self.escalated,
            self.duplicates,
            self.silent_losses,
            self.wrong_verdicts,
            self.changed_resends,
        )
    }
}

fn add_counts(total: &mut FaultCounts, c: FaultCounts) {
    total.service_unavailable += c.service_unavailable;
    total.rate_limited += c.rate_limited;
    total.connection_reset += c.connection_reset;
    total.delayed += c.delayed;
    total.response_lost += c.response_lost;
    total.slow_commit += c.slow_commit;
    total.applied_then_429 += c.applied_then_429;
    total.applied_then_409 += c.applied_then_409;
    total.applied_then_other += c.applied_then_other;
    total.refused += c.refused;
    total.in_progress += c.in_progress;
    total.list_total_overstated += c.list_total_overstated;
    total.list_repeat_cursor += c.list_repeat_cursor;
    total.list_short_page += c.list_short_page;
    total.list_repeat_item += c.list_repeat_item;
    total.in_progress_answers += c.in_progress_answers;
}
