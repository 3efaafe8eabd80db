//! Bias' event API: the event-stream parser on chunk sequences (keep-alives, a line split across
//! chunks, an unknown event type kept raw, a stream closed without a final newline), the event log on
//! the sandbox, and the stream end to end: live events, a cut connection caught up through the log, a
//! stored resume point, and a stream that cannot reconnect.

use std::time::Duration;

use futures_util::StreamExt;
use refunds::sandbox::{Fault, Ledger, Sandbox};
use refunds::{Currency, ErrorKind, RefundStatus};
use refunds_bias::sandbox::{BiasSkin, REFUND_ID_PREFIX, builder_for, start};
use refunds_bias::{BiasClient, BiasEvent, BiasExt, EventLines, EventsRequest, ResumePoint};
use refunds_testkit::fast_retry;
use refunds_testkit::sandbox_suite::refunds_a_minute_apart;

const CREATED: &str = r#"{"object":"event","id":"event_1","live":false,"created_at":1750000000000,"type":"refund.created","state":{"object":"refund","id":"re_1","live":false,"created_at":1750000000000,"amount":1000,"failed_reason":null,"payment":"pay_1","status":"pending"},"previous_state":null,"request":"req_1"}"#;
const OTHER: &str = r#"{"object":"event","id":"event_2","live":false,"created_at":1750000000001,"type":"customer.created","state":{"object":"customer","id":"cus_1"},"previous_state":null}"#;

fn lines(chunks: &[&[u8]]) -> Vec<String> {
    let mut splitter = EventLines::new(1 << 20);
    let mut out = Vec::new();
    for chunk in chunks {
        out.extend(splitter.push(chunk).unwrap());
    }
    out.extend(splitter.finish());
    out.into_iter().map(|l| String::from_utf8(l).unwrap()).collect()
}

#[test]
fn keep_alives_and_blank_lines_vanish() {
    assert!(lines(&[b" ", b"  ", b"\n", b" \n\n", b"\t "]).is_empty());
    let body = format!(" \n{CREATED}\n   {OTHER}\n ");
    assert_eq!(lines(&[body.as_bytes()]), [CREATED, OTHER]);
}

#[test]
fn a_line_split_across_chunks_comes_out_whole() {
    let body = format!("{CREATED}\n {OTHER}\n");
    for cut in [1, 17, CREATED.len(), CREATED.len() + 1, CREATED.len() + 5] {
        let (a, b) = body.as_bytes().split_at(cut);
        assert_eq!(lines(&[a, b]), [CREATED, OTHER], "cut at {cut}");
    }
    let bytes: Vec<&[u8]> = body.as_bytes().chunks(1).collect();
    assert_eq!(lines(&bytes), [CREATED, OTHER], "one byte at a time");
}

#[test]
fn a_closed_stream_gives_its_last_line_and_an_endless_line_is_refused() {
    assert_eq!(lines(&[CREATED.as_bytes()]), [CREATED], "no final newline");
    let mut splitter = EventLines::new(8);
    let e = splitter.push(b"{\"object\":\"event\"").unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Decode);
}

#[test]
fn refund_events_are_typed_and_unknown_types_kept_raw() {
    let client = BiasClient::builder().api_key("sk_test_bias_events_0").build().unwrap();
    let Ok(BiasEvent::Refund(event)) = client.event_from_json(CREATED.as_bytes()) else {
        panic!()
    };
    assert_eq!(
        (event.id.as_str(), event.event_type.as_str()),
        ("event_1", "refund.created")
    );
    assert_eq!(event.state.status, RefundStatus::Pending);
    assert!(event.previous_state.is_none());
    assert_eq!(event.raw.get(), CREATED);
    assert_eq!(
        event.state.raw.get(),
        &CREATED[CREATED.find(r#"{"object":"refund""#).unwrap()..CREATED.find(r#","previous_state""#).unwrap()]
    );
    let Ok(BiasEvent::Other {
        event_type, raw, id, ..
    }) = client.event_from_json(OTHER.as_bytes())
    else {
        panic!()
    };
    assert_eq!(
        (event_type.as_str(), raw.get(), id.as_str()),
        ("customer.created", OTHER, "event_2")
    );
    let e = client
        .event_from_json(br#"{"id":"event_3","type":"refund.updated","state":{"id":1}}"#)
        .unwrap_err();
    assert_eq!((e.kind(), e.provider()), (&ErrorKind::Decode, Some("bias")));
}

fn client(sandbox: &Sandbox) -> BiasClient {
    builder_for(sandbox).retry(fast_retry(0)).build().unwrap()
}

fn refund_event(event: &refunds::Result<BiasEvent>) -> (String, RefundStatus) {
    match event {
        Ok(BiasEvent::Refund(e)) => (e.event_type.clone(), e.state.status.clone()),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_event_log_lists_and_reads_events() {
    let sandbox = start().await.unwrap();
    let client = client(&sandbox);
    let ids = refunds_a_minute_apart(&sandbox, &client, 5).await;
    sandbox.ledger().settle(ids[0].as_str());
    let page = client.list_events(&EventsRequest::new().limit(3), None).await.unwrap();
    let types: Vec<&str> = page.items.iter().map(|e| e.event_type()).collect();
    let newest_first = ["refund.succeeded", "refund.updated", "refund.created"];
    assert_eq!(types, newest_first);
    let all = EventsRequest::new().limit(100);
    let rest = client.list_events(&all, page.next.as_ref()).await.unwrap();
    assert_eq!((rest.items.len(), rest.next), (4, None));
    let one = client.get_event(page.items[1].id()).await.unwrap();
    assert_eq!(one.id(), page.items[1].id());
    let only = EventsRequest::new()
        .for_object(ids[0].as_str())
        .event_type("refund.created");
    let filtered = client.list_events(&only, None).await.unwrap();
    assert_eq!(filtered.items.len(), 1);
    let e = client.get_event("event_nope").await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotFound);
}

#[tokio::test]
async fn the_stream_delivers_live_events_and_catches_up_after_a_cut() {
    let sandbox = Sandbox::start(
        BiasSkin::new(Currency::USD).keep_alive(Duration::from_millis(50)),
        Ledger::new(REFUND_ID_PREFIX),
    )
    .await
    .unwrap();
    let client = client(&sandbox);
    let ids = refunds_a_minute_apart(&sandbox, &client, 5).await;
    let fast = refunds::adapter::RetryPolicy::new()
        .max_retries(3)
        .base_delay(Duration::from_millis(10))
        .max_delay(Duration::from_millis(20));
    let mut stream = client.refund_events(EventsRequest::new().reconnect(fast.clone()));
    assert!(stream.resume_point().is_none());
    let first = tokio::spawn({
        let ledger = sandbox.ledger().clone();
        let id = ids[0].to_string();
        async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            ledger.advance(Duration::from_secs(1));
            ledger.settle(&id);
        }
    });
    let live = [stream.next().await.unwrap(), stream.next().await.unwrap()];
    first.await.unwrap();
    let settled = |event_type: &str| (event_type.to_owned(), RefundStatus::Succeeded);
    let (updated, succeeded) = (settled("refund.updated"), settled("refund.succeeded"));
    assert_eq!(live.map(|e| refund_event(&e)), [updated.clone(), succeeded.clone()]);

    // The connection drops; two refunds settle while the stream is away. The catch-up lists them.
    assert_eq!(sandbox.cut_streams(), 1);
    sandbox.ledger().advance(Duration::from_secs(1));
    sandbox.ledger().settle(ids[1].as_str());
    sandbox.ledger().settle(ids[2].as_str());
    let mut caught = Vec::new();
    for _ in 0..4 {
        caught.push(refund_event(&stream.next().await.unwrap()));
    }
    assert_eq!(caught.iter().filter(|e| **e == succeeded).count(), 2, "{caught:?}");
    let point = stream.resume_point().expect("after delivered events");
    drop(stream);

    // The application stops; a refund settles; it comes back with its stored resume point.
    sandbox.ledger().advance(Duration::from_secs(1));
    sandbox.ledger().settle(ids[3].as_str());
    let stored = ResumePoint::from_token(&point.to_token()).unwrap();
    let request = EventsRequest::new().resume_from(stored).limit(2).reconnect(fast);
    let resumed: Vec<_> = client.refund_events(request).collect().await;
    let states: Vec<_> = resumed.iter().map(refund_event).collect();
    assert_eq!(states, [updated, succeeded]);
    match &resumed[0] {
        Ok(BiasEvent::Refund(e)) => assert_eq!(e.state.id, ids[3]),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_stream_that_cannot_reconnect_ends_with_the_error_and_keys_stay_secret() {
    let sandbox = start().await.unwrap();
    let wrong = builder_for(&sandbox).api_key("sk_test_wrong_key_0000").build().unwrap();
    let errors: Vec<_> = wrong.refund_events(EventsRequest::new()).collect().await;
    let e = errors[0].as_ref().unwrap_err();
    assert_eq!((e.kind(), errors.len()), (&ErrorKind::Authentication, 1));
    assert!(!format!("{e:?}").contains("sk_test_wrong_key_0000"));

    let client = client(&sandbox);
    sandbox.faults().push(Fault::ServiceUnavailable, 10);
    let once = EventsRequest::new().reconnect(fast_retry(1));
    let errors: Vec<_> = client.refund_events(once).collect().await;
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].as_ref().unwrap_err().kind(), &ErrorKind::ProviderUnavailable);
    let attempts = sandbox.faults().counts().service_unavailable;
    assert_eq!(attempts, 2, "the first attempt and one reconnect");
}
