//! The event-stream parser on chunk sequences: keep-alives, a line split across chunks, an unknown
//! event type kept raw, and a stream closed without a final newline.

use refunds::{ErrorKind, RefundStatus};
use refunds_bias::{BiasClient, BiasEvent, BiasExt, EventLines};

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
