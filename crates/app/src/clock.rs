use std::time::{SystemTime, UNIX_EPOCH};

use twofold_domain::Timestamp;

pub fn now() -> Timestamp {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Timestamp(d.as_micros() as i64)
}
