//! Every shared scenario of `refunds-testkit` on the SyncgramPay sandbox, and its documented bodies;
//! the recovery property sends a crypto refund's wallet and fee bearer with some creates, so that a
//! re-send is seen to carry them again.

use refunds_syncgram::{FeeBearer, SyncgramOptions};

refunds_testkit::provider_suite!(
    refunds_syncgram::Syncgram,
    include_str!("fixtures/documented.json"),
    options = SyncgramOptions::new()
        .fee_bearer(FeeBearer::Customer)
        .refund_address("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"),
);
