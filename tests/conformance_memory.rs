//! The conformance suite's reference run: the in-memory provider passes every scenario.

refunds_testkit::conformance_tests!(refunds_testkit::MemoryHarness);

#[test]
fn providers_are_usable_as_trait_objects() {
    use std::sync::Arc;
    let provider: Arc<dyn refunds::RefundProvider> = Arc::new(refunds_testkit::MemoryProvider::new(
        refunds::sandbox::Ledger::default(),
        0,
    ));
    let providers: Vec<Arc<dyn refunds::RefundProvider>> = vec![provider.clone(), provider];
    assert_eq!(providers[0].info().id, "memory");
    fn assert_send_sync<T: Send + Sync + ?Sized>() {}
    assert_send_sync::<dyn refunds::RefundProvider>();
}
