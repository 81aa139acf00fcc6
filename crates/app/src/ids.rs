//! Decimal snowflake IDs in ZITADEL's layout (sonyflake): 39 bits of time in
//! 10 ms units since 2019-04-29, 8 bits of sequence, 16 bits of machine ID.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// 2019-04-29T00:00:00Z in 10 ms units since the Unix epoch.
const EPOCH_10MS: u64 = 155_649_600_000;

pub struct IdGenerator {
    machine: u16,
    state: Mutex<(u64, u8)>,
}

impl IdGenerator {
    pub fn new() -> Self {
        let mut b = [0u8; 2];
        crate::random::fill(&mut b);
        Self::with_machine(u16::from_be_bytes(b))
    }

    pub fn with_machine(machine: u16) -> Self {
        Self {
            machine,
            state: Mutex::new((0, 0)),
        }
    }

    pub fn next(&self) -> String {
        let mut st = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = elapsed_10ms();
        if now > st.0 {
            *st = (now, 0);
        } else if st.1 < u8::MAX {
            st.1 += 1;
        } else {
            // 256 IDs in one tick (or the clock stepped back): borrow the
            // next tick, which keeps IDs unique and increasing.
            *st = (st.0 + 1, 0);
        }
        compose(st.0, st.1, self.machine).to_string()
    }
}

impl Default for IdGenerator {
    fn default() -> Self {
        Self::new()
    }
}

fn elapsed_10ms() -> u64 {
    let unix = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    (unix.as_millis() as u64 / 10).saturating_sub(EPOCH_10MS)
}

fn compose(time: u64, seq: u8, machine: u16) -> u64 {
    (time << 24) | (u64::from(seq) << 16) | u64::from(machine)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        assert_eq!(compose(1, 2, 3), (1 << 24) | (2 << 16) | 3);
    }

    #[test]
    fn ids_are_unique_and_increasing() {
        let g = IdGenerator::with_machine(7);
        let ids: Vec<u64> = (0..2000).map(|_| g.next().parse().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(ids[0] > 100_000_000_000_000_000, "about 18 digits: {}", ids[0]);
    }
}
