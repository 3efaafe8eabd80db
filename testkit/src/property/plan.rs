//! The random sequences: what the application wants refunded, what the other actors do, how the
//! provider misbehaves, and when the application recovers.

use proptest::prelude::*;

/// One refund the application wants: a payment, an amount (or the whole payment), and whether the
/// create goes out in a currency other than the payment's or with the provider's own options.
#[derive(Debug, Clone, Copy)]
pub struct IntentPlan {
    /// Which of the two payments.
    pub payment: usize,
    /// Which of the two amounts, or `None` for a full refund.
    pub amount: Option<usize>,
    /// The create names another currency than the payment's (an answer that differs from the request
    /// where the provider takes no currency on a create).
    pub other_currency: bool,
    /// The create carries the provider's own options (where it has some).
    pub options: bool,
}

/// When another actor's refund of the same payment and amount is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtherWhen {
    /// An hour before the application's creates.
    LongBefore,
    /// Two minutes before: inside the clock-skew margin.
    WithinSkew,
    /// While the creates run, this many milliseconds after they start.
    During(u16),
    /// After the creates returned, this many milliseconds after they start (during recovery).
    After(u16),
}

/// Another actor's refund (another process, a person in the dashboard, another SDK).
#[derive(Debug, Clone, Copy)]
pub struct OtherPlan {
    /// Which payment.
    pub payment: usize,
    /// Which amount.
    pub amount: usize,
    /// When.
    pub when: OtherWhen,
    /// It carries another create's marker where the provider echoes one (another SDK made it); else
    /// none (a dashboard refund).
    pub marked: bool,
}

/// When the application recovers a pending create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoverWhen {
    /// At once, while an attempt or a slow commit may still be in flight.
    AtOnce,
    /// A little later, inside the settle window.
    InsideSettle,
    /// After the settle window counted from the last attempt.
    AfterSettle,
    /// After the settle window, the provider having forgotten the create's idempotency key.
    AfterKeyForgotten,
}

/// One random sequence.
#[derive(Debug, Clone)]
pub struct Sequence {
    /// Fault rate of the sandbox's plan, per mille of requests, until every intent's first create
    /// returned.
    pub per_mille: u32,
    /// Fault rate from then on (recoveries, creates again).
    pub recovery_per_mille: u32,
    /// Seed of the fault plan.
    pub seed: u64,
    /// The application's refunds, created at once.
    pub intents: Vec<IntentPlan>,
    /// Other actors' refunds of the same payments and amounts.
    pub others: Vec<OtherPlan>,
    /// Skew of the provider's reported clock, in seconds (within the 5-minute margin).
    pub skew_secs: i64,
    /// When the application's recoveries of a pending create happen (then it escalates).
    pub recover_at: [RecoverWhen; 3],
}

fn intent() -> impl Strategy<Value = IntentPlan> {
    (0usize..2, 0usize..10, 0usize..10, any::<bool>()).prop_map(|(payment, amount, other, options)| IntentPlan {
        payment,
        amount: (amount != 0).then_some(amount % 2),
        other_currency: other == 0,
        options,
    })
}

fn other() -> impl Strategy<Value = OtherPlan> {
    let when = prop_oneof![
        Just(OtherWhen::LongBefore),
        Just(OtherWhen::WithinSkew),
        (0u16..300).prop_map(OtherWhen::During),
        (300u16..1_500).prop_map(OtherWhen::After),
    ];
    (0usize..2, 0usize..2, when, any::<bool>()).prop_map(|(payment, amount, when, marked)| OtherPlan {
        payment,
        amount,
        when,
        marked,
    })
}

fn recover_when() -> impl Strategy<Value = RecoverWhen> {
    prop_oneof![
        Just(RecoverWhen::AtOnce),
        Just(RecoverWhen::InsideSettle),
        Just(RecoverWhen::AfterSettle),
        Just(RecoverWhen::AfterKeyForgotten),
    ]
}

/// The strategy of the sequences.
pub fn sequences() -> impl Strategy<Value = Sequence> {
    let last = prop_oneof![Just(RecoverWhen::AfterSettle), Just(RecoverWhen::AfterKeyForgotten)];
    (
        (0u32..700, 0u32..300, any::<u64>()),
        prop::collection::vec(intent(), 1..5),
        prop::collection::vec(other(), 0..5),
        -240i64..=240,
        (recover_when(), recover_when(), last),
    )
        .prop_map(
            |((per_mille, recovery_per_mille, seed), intents, others, skew_secs, (a, b, c))| Sequence {
                per_mille,
                recovery_per_mille,
                seed,
                intents,
                others,
                skew_secs,
                recover_at: [a, b, c],
            },
        )
}
