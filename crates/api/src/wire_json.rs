//! Canonical protobuf JSON written straight from an encoded answer, by a
//! plan compiled once per message type from the descriptors: no
//! `DynamicMessage` is built on the way (decoding one allocates a map per
//! message and a string per field, a third of a page of users' CPU).
//!
//! The output is byte for byte what `prost_reflect` writes with the
//! default `SerializeOptions` (fields in number order, zero values of
//! fields without presence left out, 64-bit integers as strings, enum
//! names, RFC 3339 timestamps, whole-valued numbers of a
//! `google.protobuf.Value` without a fraction): `rest::to_json` falls back
//! to that path for the types this writer does not cover (float and double
//! fields, well-known types other than `Timestamp`, `Duration`, `Struct`,
//! `Value` and `ListValue`) and for encodings prost never writes (a
//! singular message field given twice, two members of a oneof).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Arc;

use base64::Engine as _;
use prost::Message as _;
use prost::bytes::Buf as _;
use prost_reflect::{Kind, MessageDescriptor};

/// Deeper answers go the `DynamicMessage` way, which has its own limit.
const MAX_DEPTH: usize = 64;

/// Writes one method's answers; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    plans: Arc<[Plan]>,
    root: usize,
}

impl Writer {
    /// The answer as JSON; None when this writer cannot say what the
    /// `DynamicMessage` path would (the caller then takes that path).
    pub fn write(&self, message: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(message.len() * 2 + 16);
        self.message(self.root, message, &mut out, 0).ok()?;
        Some(out)
    }

    fn message(&self, plan: usize, bytes: &[u8], out: &mut Vec<u8>, depth: usize) -> Result<(), Unwritable> {
        let plan = self.plans.get(plan).ok_or(Unwritable)?;
        if depth > MAX_DEPTH {
            return Err(Unwritable);
        }
        let mut seen = Vec::new();
        let mut buf = bytes;
        while !buf.is_empty() {
            let (number, value) = read_field(&mut buf)?;
            if let Ok(at) = plan.fields.binary_search_by_key(&number, |f| f.number) {
                seen.push((at, value));
            }
        }
        // prost writes oneofs after the other fields; JSON wants number order.
        if !seen.is_sorted_by_key(|(at, _)| *at) {
            seen.sort_by_key(|(at, _)| *at);
        }
        out.push(b'{');
        let mut empty = true;
        let mut oneofs = 0u64;
        for group in seen.chunk_by(|a, b| a.0 == b.0) {
            let Some(((at, _), (_, last))) = group.first().zip(group.last()) else {
                continue;
            };
            let field = plan.fields.get(*at).ok_or(Unwritable)?;
            if let Some(slot) = field.oneof {
                if oneofs & (1u64 << slot) != 0 {
                    return Err(Unwritable);
                }
                oneofs |= 1u64 << slot;
            }
            let mark = out.len();
            if !empty {
                out.push(b',');
            }
            match &field.shape {
                Shape::Singular(kind) => {
                    if group.len() > 1 && kind.is_message() {
                        return Err(Unwritable);
                    }
                    if !field.presence && last.is_zero() {
                        out.truncate(mark);
                        continue;
                    }
                    out.extend_from_slice(&field.key);
                    self.value(kind, *last, out, depth)?;
                }
                Shape::Repeated(kind) => {
                    out.extend_from_slice(&field.key);
                    if !self.list(kind, group, out, depth)? {
                        out.truncate(mark);
                        continue;
                    }
                }
                Shape::Map(key, value) => {
                    out.extend_from_slice(&field.key);
                    self.map(key, value, group, out, depth)?;
                }
            }
            empty = false;
        }
        out.push(b'}');
        Ok(())
    }

    /// `[…]` of a repeated field's records (packed or not); false when
    /// they hold no item (an empty packed record), which protojson omits.
    fn list(
        &self,
        kind: &Scalar,
        records: &[(usize, Wire<'_>)],
        out: &mut Vec<u8>,
        depth: usize,
    ) -> Result<bool, Unwritable> {
        out.push(b'[');
        let mut items = 0usize;
        let mut item = |value: Wire<'_>, out: &mut Vec<u8>| {
            if items > 0 {
                out.push(b',');
            }
            items += 1;
            self.value(kind, value, out, depth)
        };
        for (_, value) in records {
            match (*value, kind.packable()) {
                (Wire::Len(mut packed), true) => {
                    while !packed.is_empty() {
                        item(read_value(&mut packed, kind.wire_type())?, out)?;
                    }
                }
                _ => item(*value, out)?,
            }
        }
        out.push(b']');
        Ok(items > 0)
    }

    /// `{…}` of a map field's entries; an entry leaves out a zero key or value.
    fn map(
        &self,
        key: &Scalar,
        value: &Scalar,
        entries: &[(usize, Wire<'_>)],
        out: &mut Vec<u8>,
        depth: usize,
    ) -> Result<(), Unwritable> {
        out.push(b'{');
        for (i, (_, entry)) in entries.iter().enumerate() {
            let Wire::Len(mut entry) = *entry else {
                return Err(Unwritable);
            };
            let (mut k, mut v) = (key.zero(), value.zero());
            while !entry.is_empty() {
                match read_field(&mut entry)? {
                    (1, w) => k = w,
                    (2, w) => v = w,
                    _ => {}
                }
            }
            if i > 0 {
                out.push(b',');
            }
            self.map_key(key, k, out)?;
            out.push(b':');
            self.value(value, v, out, depth)?;
        }
        out.push(b'}');
        Ok(())
    }

    fn value(&self, kind: &Scalar, value: Wire<'_>, out: &mut Vec<u8>, depth: usize) -> Result<(), Unwritable> {
        match (kind, value) {
            (Scalar::Bool, Wire::Varint(v)) => out.extend_from_slice(if v != 0 { b"true" } else { b"false" }),
            (Scalar::String, Wire::Len(b)) => string(std::str::from_utf8(b).map_err(|_| Unwritable)?, out)?,
            (Scalar::Bytes, Wire::Len(b)) => {
                out.push(b'"');
                let mut text = String::new();
                base64::engine::general_purpose::STANDARD.encode_string(b, &mut text);
                out.extend_from_slice(text.as_bytes());
                out.push(b'"');
            }
            (Scalar::Enum(names), Wire::Varint(v)) => {
                #[allow(clippy::cast_possible_truncation, reason = "an enum is an int32 on the wire")]
                let number = v as i32;
                match names.get(&number) {
                    Some(quoted) => out.extend_from_slice(quoted),
                    None => write!(out, "{number}").map_err(|_| Unwritable)?,
                }
            }
            (Scalar::Message(plan), Wire::Len(b)) => self.message(*plan, b, out, depth + 1)?,
            (Scalar::Timestamp, Wire::Len(b)) => {
                let t = prost_types::Timestamp::decode(b).map_err(|_| Unwritable)?;
                if !(MIN_TIMESTAMP_SECONDS..=MAX_TIMESTAMP_SECONDS).contains(&t.seconds) {
                    return Err(Unwritable);
                }
                write!(out, "\"{t}\"").map_err(|_| Unwritable)?;
            }
            (Scalar::Duration, Wire::Len(b)) => {
                let d = prost_types::Duration::decode(b).map_err(|_| Unwritable)?;
                if d.seconds.unsigned_abs() > MAX_DURATION_SECONDS || d.nanos.unsigned_abs() > MAX_DURATION_NANOS {
                    return Err(Unwritable);
                }
                write!(out, "\"{d}\"").map_err(|_| Unwritable)?;
            }
            (Scalar::Struct, Wire::Len(b)) => {
                json_struct(&prost_types::Struct::decode(b).map_err(|_| Unwritable)?, out)?;
            }
            (Scalar::Value, Wire::Len(b)) => {
                json_value(&prost_types::Value::decode(b).map_err(|_| Unwritable)?, out)?;
            }
            (Scalar::ListValue, Wire::Len(b)) => {
                json_list(&prost_types::ListValue::decode(b).map_err(|_| Unwritable)?, out)?;
            }
            (kind, value) => kind.integer(value, false, out)?,
        }
        Ok(())
    }

    /// Map keys are JSON strings whatever their type.
    fn map_key(&self, kind: &Scalar, value: Wire<'_>, out: &mut Vec<u8>) -> Result<(), Unwritable> {
        match (kind, value) {
            (Scalar::String, Wire::Len(b)) => string(std::str::from_utf8(b).map_err(|_| Unwritable)?, out),
            (Scalar::Bool, Wire::Varint(v)) => {
                out.extend_from_slice(if v != 0 { b"\"true\"" } else { b"\"false\"" });
                Ok(())
            }
            (kind, value) => kind.integer(value, true, out),
        }
    }
}

fn string(s: &str, out: &mut Vec<u8>) -> Result<(), Unwritable> {
    serde_json::to_writer(out, s).map_err(|_| Unwritable)
}

// `google.protobuf.Struct` and its parts, decoded as `prost_reflect`
// decodes them (keys in order), then written as JSON itself.

fn json_struct(s: &prost_types::Struct, out: &mut Vec<u8>) -> Result<(), Unwritable> {
    out.push(b'{');
    for (i, (key, value)) in s.fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(key, out)?;
        out.push(b':');
        json_value(value, out)?;
    }
    out.push(b'}');
    Ok(())
}

fn json_list(l: &prost_types::ListValue, out: &mut Vec<u8>) -> Result<(), Unwritable> {
    out.push(b'[');
    for (i, value) in l.values.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json_value(value, out)?;
    }
    out.push(b']');
    Ok(())
}

fn json_value(v: &prost_types::Value, out: &mut Vec<u8>) -> Result<(), Unwritable> {
    use prost_types::value::Kind as V;
    match &v.kind {
        None | Some(V::NullValue(_)) => out.extend_from_slice(b"null"),
        Some(V::BoolValue(b)) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Some(V::NumberValue(n)) => number(*n, out)?,
        Some(V::StringValue(s)) => string(s, out)?,
        Some(V::ListValue(l)) => json_list(l, out)?,
        Some(V::StructValue(s)) => json_struct(s, out)?,
    }
    Ok(())
}

/// A number as protojson writes it: a whole value without a fraction
/// (`rest::integral_floats_as_integers` is the same rule); no JSON number
/// can hold NaN or an infinity.
fn number(n: f64, out: &mut Vec<u8>) -> Result<(), Unwritable> {
    if !n.is_finite() {
        return Err(Unwritable);
    }
    #[allow(clippy::cast_possible_truncation, reason = "whole and below 2^53")]
    let written = if n.fract() == 0.0 && n.abs() < 9.0e15 {
        write!(out, "{}", n as i64).map_err(|_| Unwritable)
    } else {
        serde_json::to_writer(out, &n).map_err(|_| Unwritable)
    };
    written
}

// The ranges protojson allows, as `prost_reflect` checks them.
const MIN_TIMESTAMP_SECONDS: i64 = -62_135_596_800;
const MAX_TIMESTAMP_SECONDS: i64 = 253_402_300_799;
const MAX_DURATION_SECONDS: u64 = 315_576_000_000;
const MAX_DURATION_NANOS: u32 = 999_999_999;

/// This answer needs the `DynamicMessage` path.
#[derive(Debug)]
struct Unwritable;

#[derive(Clone, Copy)]
enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Len(&'a [u8]),
}

impl Wire<'_> {
    fn is_zero(self) -> bool {
        match self {
            Wire::Varint(v) | Wire::Fixed64(v) => v == 0,
            Wire::Fixed32(v) => v == 0,
            Wire::Len(b) => b.is_empty(),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum WireType {
    Varint,
    Fixed64,
    Len,
    Fixed32,
}

fn read_field<'a>(buf: &mut &'a [u8]) -> Result<(u32, Wire<'a>), Unwritable> {
    let key = prost::encoding::decode_varint(buf).map_err(|_| Unwritable)?;
    let wire_type = match key & 7 {
        0 => WireType::Varint,
        1 => WireType::Fixed64,
        2 => WireType::Len,
        5 => WireType::Fixed32,
        _ => return Err(Unwritable),
    };
    let number = u32::try_from(key >> 3).map_err(|_| Unwritable)?;
    Ok((number, read_value(buf, wire_type)?))
}

fn read_value<'a>(buf: &mut &'a [u8], wire_type: WireType) -> Result<Wire<'a>, Unwritable> {
    Ok(match wire_type {
        WireType::Varint => Wire::Varint(prost::encoding::decode_varint(buf).map_err(|_| Unwritable)?),
        WireType::Fixed64 if buf.len() >= 8 => Wire::Fixed64(buf.get_u64_le()),
        WireType::Fixed32 if buf.len() >= 4 => Wire::Fixed32(buf.get_u32_le()),
        WireType::Len => {
            let len = usize::try_from(prost::encoding::decode_varint(buf).map_err(|_| Unwritable)?)
                .map_err(|_| Unwritable)?;
            let (value, rest) = buf.split_at_checked(len).ok_or(Unwritable)?;
            *buf = rest;
            Wire::Len(value)
        }
        WireType::Fixed64 | WireType::Fixed32 => return Err(Unwritable),
    })
}

/// An enum's value names by number, quoted.
type EnumNames = Arc<HashMap<i32, Box<[u8]>>>;

#[derive(Debug)]
enum Scalar {
    Bool,
    Int32,
    Sint32,
    Sfixed32,
    Uint32,
    Fixed32,
    Int64,
    Sint64,
    Sfixed64,
    Uint64,
    Fixed64,
    String,
    Bytes,
    Enum(EnumNames),
    /// Index of the message's plan.
    Message(usize),
    Timestamp,
    Duration,
    Struct,
    Value,
    ListValue,
}

impl Scalar {
    fn is_message(&self) -> bool {
        matches!(
            self,
            Scalar::Message(_)
                | Scalar::Timestamp
                | Scalar::Duration
                | Scalar::Struct
                | Scalar::Value
                | Scalar::ListValue
        )
    }

    fn wire_type(&self) -> WireType {
        match self {
            Scalar::Sfixed32 | Scalar::Fixed32 => WireType::Fixed32,
            Scalar::Sfixed64 | Scalar::Fixed64 => WireType::Fixed64,
            Scalar::String | Scalar::Bytes => WireType::Len,
            s if s.is_message() => WireType::Len,
            _ => WireType::Varint,
        }
    }

    /// Repeated numbers may come packed in one length-delimited record.
    fn packable(&self) -> bool {
        self.wire_type() != WireType::Len
    }

    /// The value a map entry leaves out.
    fn zero(&self) -> Wire<'static> {
        match self.wire_type() {
            WireType::Varint => Wire::Varint(0),
            WireType::Fixed64 => Wire::Fixed64(0),
            WireType::Fixed32 => Wire::Fixed32(0),
            WireType::Len => Wire::Len(&[]),
        }
    }

    /// Writes an integer field's `value` in decimal, quoted where protojson
    /// quotes it (64-bit types) or where it is a map key.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_possible_wrap,
        reason = "protobuf's own conversions from the wire's 64 bits"
    )]
    fn integer(&self, value: Wire<'_>, as_key: bool, out: &mut Vec<u8>) -> Result<(), Unwritable> {
        let zigzag = |v: u64| (v >> 1) as i64 ^ -((v & 1) as i64);
        let (n, wide): (i128, bool) = match (self, value) {
            (Scalar::Int32, Wire::Varint(v)) => ((v as i32).into(), false),
            (Scalar::Sint32, Wire::Varint(v)) => ((zigzag(u64::from(v as u32)) as i32).into(), false),
            (Scalar::Sfixed32, Wire::Fixed32(v)) => ((v as i32).into(), false),
            (Scalar::Uint32, Wire::Varint(v)) => ((v as u32).into(), false),
            (Scalar::Fixed32, Wire::Fixed32(v)) => (v.into(), false),
            (Scalar::Int64, Wire::Varint(v)) | (Scalar::Sfixed64, Wire::Fixed64(v)) => ((v as i64).into(), true),
            (Scalar::Sint64, Wire::Varint(v)) => (zigzag(v).into(), true),
            (Scalar::Uint64, Wire::Varint(v)) | (Scalar::Fixed64, Wire::Fixed64(v)) => (v.into(), true),
            _ => return Err(Unwritable),
        };
        let written = if wide || as_key {
            write!(out, "\"{n}\"")
        } else {
            write!(out, "{n}")
        };
        written.map_err(|_| Unwritable)
    }
}

enum Shape {
    Singular(Scalar),
    Repeated(Scalar),
    Map(Scalar, Scalar),
}

struct Field {
    number: u32,
    /// `"jsonName":`
    key: Box<[u8]>,
    shape: Shape,
    /// Written even when zero (message fields, oneof members, `optional`).
    presence: bool,
    /// The field's oneof, as a bit of the message's oneofs.
    oneof: Option<u32>,
}

#[derive(Default)]
struct Plan {
    /// By field number.
    fields: Vec<Field>,
}

/// Compiles the plans of many answer types into one table, sharing the
/// plans of the message types they have in common.
#[derive(Default)]
pub struct Plans {
    plans: Vec<Plan>,
    by_name: HashMap<String, usize>,
    enums: HashMap<String, EnumNames>,
    /// Types this writer does not cover, and the types holding them.
    unwritable: Vec<bool>,
}

impl Plans {
    /// Plans `root` and every type it holds.
    pub fn add(&mut self, root: &MessageDescriptor) {
        let root = self.plan(root);
        if self.reaches_unwritable(root)
            && let Some(u) = self.unwritable.get_mut(root)
        {
            *u = true;
        }
    }

    /// The plans, once every answer type is added.
    pub fn finish(self) -> Writers {
        Writers {
            plans: self.plans.into(),
            by_name: self.by_name,
            unwritable: self.unwritable,
        }
    }

    /// Whether a type the writer does not cover is reachable from `root`.
    fn reaches_unwritable(&self, root: usize) -> bool {
        let mut seen = vec![false; self.plans.len()];
        let mut todo = vec![root];
        while let Some(at) = todo.pop() {
            if std::mem::replace(seen.get_mut(at).unwrap_or(&mut true), true) {
                continue;
            }
            if self.unwritable.get(at).copied().unwrap_or(true) {
                return true;
            }
            let Some(plan) = self.plans.get(at) else { continue };
            for f in &plan.fields {
                match &f.shape {
                    Shape::Singular(Scalar::Message(m)) | Shape::Repeated(Scalar::Message(m)) => todo.push(*m),
                    Shape::Map(_, Scalar::Message(m)) => todo.push(*m),
                    _ => {}
                }
            }
        }
        false
    }

    /// The plan index of `message`, planned (with what it holds) if new.
    fn plan(&mut self, message: &MessageDescriptor) -> usize {
        if let Some(at) = self.by_name.get(message.full_name()) {
            return *at;
        }
        let at = self.plans.len();
        self.by_name.insert(message.full_name().to_owned(), at);
        self.plans.push(Plan::default());
        self.unwritable.push(false);
        let oneofs: Vec<String> = message.oneofs().map(|o| o.full_name().to_owned()).collect();
        let mut fields = Vec::new();
        let mut ok = oneofs.len() <= 64 && !message.full_name().starts_with("google.protobuf.");
        for f in message.fields() {
            let shape = if f.is_map() {
                match f.kind() {
                    Kind::Message(entry) => {
                        let key = self.scalar(&entry.map_entry_key_field().kind());
                        let value = self.scalar(&entry.map_entry_value_field().kind());
                        key.zip(value).map(|(k, v)| Shape::Map(k, v))
                    }
                    _ => None,
                }
            } else if f.is_group() {
                None
            } else {
                let kind = self.scalar(&f.kind());
                if f.is_list() {
                    kind.map(Shape::Repeated)
                } else {
                    kind.map(Shape::Singular)
                }
            };
            let Some(shape) = shape else {
                ok = false;
                continue;
            };
            let mut key = String::new();
            let _ = write!(key, "{}:", serde_json::Value::from(f.json_name()));
            fields.push(Field {
                number: f.number(),
                key: key.into_bytes().into(),
                shape,
                presence: f.supports_presence(),
                oneof: f
                    .containing_oneof()
                    .and_then(|o| oneofs.iter().position(|n| n == o.full_name()))
                    .and_then(|i| u32::try_from(i).ok()),
            });
        }
        fields.sort_by_key(|f| f.number);
        if let Some(slot) = self.plans.get_mut(at) {
            *slot = Plan { fields };
        }
        if !ok && let Some(u) = self.unwritable.get_mut(at) {
            *u = true;
        }
        at
    }

    /// None: a kind this writer does not cover (floats, other well-known types).
    fn scalar(&mut self, kind: &Kind) -> Option<Scalar> {
        Some(match kind {
            Kind::Double | Kind::Float => return None,
            Kind::Bool => Scalar::Bool,
            Kind::Int32 => Scalar::Int32,
            Kind::Sint32 => Scalar::Sint32,
            Kind::Sfixed32 => Scalar::Sfixed32,
            Kind::Uint32 => Scalar::Uint32,
            Kind::Fixed32 => Scalar::Fixed32,
            Kind::Int64 => Scalar::Int64,
            Kind::Sint64 => Scalar::Sint64,
            Kind::Sfixed64 => Scalar::Sfixed64,
            Kind::Uint64 => Scalar::Uint64,
            Kind::Fixed64 => Scalar::Fixed64,
            Kind::String => Scalar::String,
            Kind::Bytes => Scalar::Bytes,
            Kind::Enum(e) => {
                if e.full_name().starts_with("google.protobuf.") {
                    return None;
                }
                let names = self.enums.entry(e.full_name().to_owned()).or_insert_with(|| {
                    let mut names = HashMap::new();
                    for v in e.values() {
                        let quoted = serde_json::Value::from(v.name()).to_string().into_bytes();
                        names.entry(v.number()).or_insert_with(|| quoted.into());
                    }
                    Arc::new(names)
                });
                Scalar::Enum(names.clone())
            }
            Kind::Message(m) => match m.full_name() {
                "google.protobuf.Timestamp" => Scalar::Timestamp,
                "google.protobuf.Duration" => Scalar::Duration,
                "google.protobuf.Struct" => Scalar::Struct,
                "google.protobuf.Value" => Scalar::Value,
                "google.protobuf.ListValue" => Scalar::ListValue,
                _ => Scalar::Message(self.plan(m)),
            },
        })
    }
}

/// The writers of the planned answer types.
pub struct Writers {
    plans: Arc<[Plan]>,
    by_name: HashMap<String, usize>,
    unwritable: Vec<bool>,
}

impl Writers {
    /// The writer of `root`'s answers; None when they need the
    /// `DynamicMessage` path (or `root` was not planned).
    pub fn get(&self, root: &MessageDescriptor) -> Option<Writer> {
        let at = *self.by_name.get(root.full_name())?;
        if self.unwritable.get(at).copied().unwrap_or(true) {
            return None;
        }
        Some(Writer {
            plans: self.plans.clone(),
            root: at,
        })
    }
}

#[cfg(test)]
mod tests {
    use prost_reflect::{DescriptorPool, DynamicMessage, MapKey, ReflectMessage, Value};

    use super::*;

    fn pool() -> DescriptorPool {
        DescriptorPool::decode(twofold_proto::DESCRIPTOR_SET).unwrap()
    }

    /// What the `DynamicMessage` path writes for the same bytes.
    fn dynamic_json(desc: &MessageDescriptor, bytes: &[u8]) -> Vec<u8> {
        crate::rest::dynamic_json(desc, crate::methods::has_floats(desc), bytes).unwrap()
    }

    #[allow(clippy::cast_possible_wrap, clippy::cast_possible_truncation, clippy::cast_lossless)]
    fn sample_value(kind: &Kind, seed: u32, depth: usize, entries: u32) -> Value {
        // Every third value is the type's zero, which protojson leaves out
        // of fields without presence.
        let zero = seed.is_multiple_of(3);
        let n = if zero { 0 } else { seed.wrapping_mul(2_654_435_761) };
        match kind {
            Kind::Bool => Value::Bool(!zero),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(if seed.is_multiple_of(2) {
                n as i32
            } else {
                -(n as i32 / 3)
            }),
            Kind::Uint32 | Kind::Fixed32 => Value::U32(n),
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(-(n as i64) * 1_000_003),
            Kind::Uint64 | Kind::Fixed64 => Value::U64(u64::from(n) << 20),
            Kind::Float => Value::F32(n as f32),
            // Whole and fractional, small and large.
            Kind::Double => Value::F64(match seed % 4 {
                0 | 1 => f64::from(n),
                2 => f64::from(n) / 8.0,
                _ => -f64::from(n) * 1.0e300,
            }),
            Kind::String if zero => Value::String(String::new()),
            Kind::String => Value::String(format!("s{seed} \"quoted\" é\n\u{1}")),
            Kind::Bytes => Value::Bytes(if zero { Vec::new() } else { vec![0, 255, seed as u8] }.into()),
            Kind::Enum(e) => {
                let values: Vec<i32> = e.values().map(|v| v.number()).collect();
                Value::EnumNumber(match seed % 4 {
                    3 => 999,
                    s => values.get(s as usize % values.len()).copied().unwrap_or(0),
                })
            }
            Kind::Message(m) if m.full_name() == "google.protobuf.Timestamp" => {
                let nanos = [0, 123_000_000, 123_456_000, 123_456_789][seed as usize % 4];
                Value::Message(
                    prost_types::Timestamp {
                        seconds: i64::from(seed) * 86_413,
                        nanos,
                    }
                    .transcode_to_dynamic(),
                )
            }
            Kind::Message(m) if m.full_name() == "google.protobuf.Duration" => {
                let nanos = [0, 5_000_000, 5_000, 5][seed as usize % 4];
                Value::Message(
                    prost_types::Duration {
                        seconds: i64::from(seed) * 61,
                        nanos,
                    }
                    .transcode_to_dynamic(),
                )
            }
            Kind::Message(m) => Value::Message(sample(m, seed + 1, depth + 1, entries)),
        }
    }

    /// A message with every field set (one member of each oneof), to two
    /// levels of nesting; each map holds `entries` entries.
    fn sample(desc: &MessageDescriptor, seed: u32, depth: usize, entries: u32) -> DynamicMessage {
        let mut msg = DynamicMessage::new(desc.clone());
        if depth > 2 {
            return msg;
        }
        for (i, f) in desc.fields().enumerate() {
            // The member of each oneof set: the same for all its fields.
            if let Some(o) = f.containing_oneof()
                && !o
                    .fields()
                    .nth(seed as usize % o.fields().len())
                    .is_some_and(|chosen| chosen == f)
            {
                continue;
            }
            let seed = seed + i as u32;
            let value = if f.is_map() {
                let Kind::Message(entry) = f.kind() else {
                    panic!("a map field's kind is its entry")
                };
                let key_kind = entry.map_entry_key_field().kind();
                let value_kind = entry.map_entry_value_field().kind();
                let map = (0..entries)
                    .map(|k| {
                        let key = match sample_value(&key_kind, seed + k, depth, entries) {
                            Value::String(s) => MapKey::String(s),
                            Value::I32(v) => MapKey::I32(v),
                            Value::I64(v) => MapKey::I64(v),
                            Value::U32(v) => MapKey::U32(v),
                            Value::U64(v) => MapKey::U64(v),
                            Value::Bool(v) => MapKey::Bool(v),
                            other => panic!("no map key is a {other:?}"),
                        };
                        (key, sample_value(&value_kind, seed + k, depth, entries))
                    })
                    .collect();
                Value::Map(map)
            } else if f.is_list() {
                Value::List(
                    (0..2)
                        .map(|k| sample_value(&f.kind(), seed + k + 1, depth, entries))
                        .collect(),
                )
            } else {
                sample_value(&f.kind(), seed, depth, entries)
            };
            msg.set_field(&f, value);
        }
        msg
    }

    /// Every answer type the server has, filled in several ways: the writer
    /// covers most of them and writes exactly what `prost_reflect` writes.
    #[test]
    fn writes_what_prost_reflect_writes_for_every_answer() {
        let pool = pool();
        let outputs: Vec<MessageDescriptor> = pool
            .services()
            .flat_map(|s| s.methods().map(|m| m.output()).collect::<Vec<_>>())
            .collect();
        let mut plans = Plans::default();
        outputs.iter().for_each(|o| plans.add(o));
        let writers = plans.finish();
        let mut written = 0;
        for desc in &outputs {
            let Some(w) = writers.get(desc) else { continue };
            written += 1;
            for seed in 0..8u32 {
                // Maps have no order: two entries only where values are compared.
                let entries = if seed.is_multiple_of(2) { 1 } else { 2 };
                let bytes = sample(desc, seed, 0, entries).encode_to_vec();
                let fast = w
                    .write(&bytes)
                    .unwrap_or_else(|| panic!("{} seed {seed}", desc.full_name()));
                let slow = dynamic_json(desc, &bytes);
                let value = |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b).unwrap();
                assert_eq!(value(&fast), value(&slow), "{} seed {seed}", desc.full_name());
                if seed % 2 == 0 {
                    assert_eq!(
                        String::from_utf8_lossy(&fast),
                        String::from_utf8_lossy(&slow),
                        "{} seed {seed}",
                        desc.full_name()
                    );
                }
            }
        }
        assert_eq!(written, outputs.len());
    }

    fn writer_of(name: &str) -> (MessageDescriptor, Writer) {
        let desc = pool().get_message_by_name(name).unwrap();
        let mut plans = Plans::default();
        plans.add(&desc);
        let w = plans.finish().get(&desc).unwrap();
        (desc, w)
    }

    /// prost writes a oneof after the other fields; JSON lists it in
    /// number order all the same.
    #[test]
    fn oneofs_written_last_come_in_number_order() {
        use twofold_proto::zitadel::user::v2::{GetUserByIdResponse, HumanUser, User, user};
        let answer = GetUserByIdResponse {
            user: Some(User {
                user_id: "u1".into(),
                username: "ada".into(),
                r#type: Some(user::Type::Human(HumanUser {
                    user_id: "u1".into(),
                    ..Default::default()
                })),
                ..Default::default()
            }),
            ..Default::default()
        };
        let (desc, w) = writer_of("zitadel.user.v2.GetUserByIDResponse");
        let bytes = answer.encode_to_vec();
        assert_eq!(w.write(&bytes).unwrap(), dynamic_json(&desc, &bytes));
    }

    /// Encodings prost never writes are left to `prost_reflect`; unknown
    /// fields are skipped as it skips them.
    #[test]
    fn unusual_encodings() {
        let (desc, w) = writer_of("zitadel.v1.ListDetails");
        // view_timestamp (3) given twice: protobuf merges the two.
        let twice = [0x1a, 0x02, 0x08, 0x01, 0x1a, 0x02, 0x10, 0x02];
        assert!(w.write(&twice).is_none());
        // total_result (1) = 5, then unknown field 99 = 7.
        let unknown = [0x08, 0x05, 0x98, 0x06, 0x07];
        assert_eq!(w.write(&unknown).unwrap(), dynamic_json(&desc, &unknown));
        assert_eq!(w.write(&unknown).unwrap(), br#"{"totalResult":"5"}"#);
        // An explicit zero, which prost never writes, is still left out.
        assert_eq!(w.write(&[0x08, 0x00]).unwrap(), b"{}");
        // Truncated.
        assert!(w.write(&[0x1a, 0x05, 0x08]).is_none());

        let (desc, w) = writer_of("zitadel.admin.v1.ListLoginPolicySecondFactorsResponse");
        // result (2), repeated enum: unpacked, packed, and an empty packed record.
        for bytes in [&[0x10, 0x01, 0x10, 0x02][..], &[0x12, 0x02, 0x01, 0x02], &[0x12, 0x00]] {
            assert_eq!(w.write(bytes).unwrap(), dynamic_json(&desc, bytes));
        }
        assert_eq!(w.write(&[0x12, 0x00]).unwrap(), b"{}");
    }

    /// A WebAuthn challenge (`google.protobuf.Struct`) as protojson writes
    /// it; a number JSON cannot hold is left to the `DynamicMessage` path,
    /// which refuses it.
    #[test]
    fn struct_values() {
        use prost_types::value::Kind as V;
        use twofold_proto::zitadel::session::v2::{Challenges, CreateSessionResponse, challenges::WebAuthN};
        let answer = |n: f64| {
            let value = |kind| prost_types::Value { kind: Some(kind) };
            let options = prost_types::Struct {
                fields: [
                    ("timeout".to_owned(), value(V::NumberValue(n))),
                    ("challenge".to_owned(), value(V::StringValue("c\"1".into()))),
                    (
                        "allowCredentials".to_owned(),
                        value(V::ListValue(prost_types::ListValue {
                            values: vec![value(V::BoolValue(true)), value(V::NullValue(0))],
                        })),
                    ),
                ]
                .into(),
            };
            CreateSessionResponse {
                session_id: "s1".into(),
                challenges: Some(Challenges {
                    web_auth_n: Some(WebAuthN {
                        public_key_credential_request_options: Some(options),
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }
            .encode_to_vec()
        };
        let (desc, w) = writer_of("zitadel.session.v2.CreateSessionResponse");
        let whole = answer(60000.0);
        assert_eq!(w.write(&whole).unwrap(), dynamic_json(&desc, &whole));
        assert_eq!(
            String::from_utf8(w.write(&whole).unwrap()).unwrap(),
            r#"{"sessionId":"s1","challenges":{"webAuthN":{"publicKeyCredentialRequestOptions":{"allowCredentials":[true,null],"challenge":"c\"1","timeout":60000}}}}"#
        );
        let fraction = answer(0.5);
        assert_eq!(w.write(&fraction).unwrap(), dynamic_json(&desc, &fraction));
        assert!(w.write(&answer(f64::NAN)).is_none());
    }
}
