//! The REST edge: a list response transcoded from protobuf to canonical
//! JSON, through a `DynamicMessage` and straight from the wire bytes
//! (`wire_json`, what REST answers use).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "benchmark code: a panic is a failed run"
)]

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};
use twofold_proto::zitadel::admin::v1::ListLoginPolicySecondFactorsResponse;
use twofold_proto::zitadel::v1::ListDetails;

fn main() {
    divan::main();
}

fn answer() -> (prost_reflect::MessageDescriptor, Vec<u8>) {
    let pool = DescriptorPool::decode(twofold_proto::DESCRIPTOR_SET).expect("descriptors");
    let desc = pool
        .get_message_by_name("zitadel.admin.v1.ListLoginPolicySecondFactorsResponse")
        .expect("message");
    let bytes = ListLoginPolicySecondFactorsResponse {
        details: Some(ListDetails {
            total_result: 2,
            processed_sequence: 0,
            view_timestamp: Some(prost_types::Timestamp {
                seconds: 1_700_000_000,
                nanos: 123_456_000,
            }),
        }),
        result: vec![1, 2],
    }
    .encode_to_vec();
    (desc, bytes)
}

#[divan::bench]
fn list_response_wire_json(bencher: divan::Bencher) {
    let (desc, bytes) = answer();
    let mut plans = twofold_api::wire_json::Plans::default();
    plans.add(&desc);
    let writer = plans.finish().get(&desc).expect("writable");
    bencher.bench(|| writer.write(divan::black_box(bytes.as_slice())).expect("json"));
}

#[divan::bench]
fn list_response_dynamic_json(bencher: divan::Bencher) {
    let (desc, bytes) = answer();
    bencher.bench(|| {
        let msg = DynamicMessage::decode(desc.clone(), divan::black_box(bytes.as_slice())).expect("decode");
        let mut out = Vec::with_capacity(128);
        msg.serialize_with_options(&mut serde_json::Serializer::new(&mut out), &SerializeOptions::new())
            .expect("json");
        out
    });
}
