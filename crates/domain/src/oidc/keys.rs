//! The signing keys of an instance (one `key_pair` aggregate per instance):
//! which key signs, when the next one is made, and which are published in
//! the JWKS. A key is made ahead of its turn so relying parties that cache
//! the JWKS already know it when it starts signing, and it stays published
//! after its turn until the last token it signed has expired.

use serde::{Deserialize, Serialize};

use crate::event::{EventPayload as E, StoredEvent, Timestamp};

const HOUR_US: i64 = 3_600_000_000;
/// How long a key signs.
pub const SIGNING_US: i64 = 24 * HOUR_US;
/// How long before its turn a key is made and published (longer than any
/// JWKS cache: the endpoint allows 5 minutes).
pub const AHEAD_US: i64 = HOUR_US;
/// The longest lifetime of a signed token (ID and JWT access tokens).
pub const TOKEN_LIFETIME_US: i64 = 12 * HOUR_US;

/// A JWS algorithm Twofold signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlg {
    /// ECDSA P-256: cheap, signs JWT access tokens.
    ES256,
    /// RSA PKCS#1 v1.5 with SHA-256: the OIDC default for ID tokens
    /// (Core §15.1: every relying party supports it).
    RS256,
}

impl SigningAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ES256 => "ES256",
            Self::RS256 => "RS256",
        }
    }
}

/// What a key signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signs {
    IdToken,
    AccessToken,
}

/// The algorithm of each kind of token.
pub fn alg_for(what: Signs) -> SigningAlg {
    match what {
        Signs::IdToken => SigningAlg::RS256,
        Signs::AccessToken => SigningAlg::ES256,
    }
}

/// The public half as JWK members (base64url, no padding).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kty")]
pub enum PublicJwk {
    EC { crv: String, x: String, y: String },
    RSA { n: String, e: String },
}

/// `key_pair.added`: the private key sealed under the master key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAdded {
    pub kid: String,
    pub algorithm: SigningAlg,
    /// PKCS#8 DER, sealed (AES-256-GCM under the master key).
    pub sealed_private_key: String,
    pub public_key: PublicJwk,
    pub signs_from: Timestamp,
    pub signs_until: Timestamp,
}

impl KeyAdded {
    /// Published from when it is made until its last token has expired.
    pub fn published_at(&self, now: Timestamp) -> bool {
        now.0 < self.signs_until.0 + TOKEN_LIFETIME_US
    }
    fn signs_at(&self, now: Timestamp) -> bool {
        self.signs_from <= now && now < self.signs_until
    }
}

/// `key_pair.rotated`: `kid` takes over from `previous_kid` at `at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRotated {
    pub previous_kid: String,
    pub kid: String,
    pub at: Timestamp,
}

/// The keys of an instance, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyRing {
    pub keys: Vec<KeyAdded>,
}

impl KeyRing {
    pub fn fold(events: &[StoredEvent]) -> Self {
        let keys = events
            .iter()
            .filter_map(|ev| match &ev.payload {
                E::KeyAdded(k) => Some((**k).clone()),
                _ => None,
            })
            .collect();
        Self { keys }
    }

    /// The key that signs `alg` now: the one whose turn it is.
    pub fn signer(&self, alg: SigningAlg, now: Timestamp) -> Option<&KeyAdded> {
        self.keys
            .iter()
            .filter(|k| k.algorithm == alg && k.signs_at(now))
            .max_by_key(|k| k.signs_from)
    }

    /// The keys of the JWKS now.
    pub fn published(&self, now: Timestamp) -> impl Iterator<Item = &KeyAdded> {
        self.keys.iter().filter(move |k| k.published_at(now))
    }

    /// When the next key of `alg` is due, if it is: none signs now, or
    /// the last one's turn ends within [`AHEAD_US`]. Its turn starts when
    /// the last one's ends (or now).
    pub fn due(&self, alg: SigningAlg, now: Timestamp) -> Option<(Timestamp, Timestamp)> {
        let last = self
            .keys
            .iter()
            .filter(|k| k.algorithm == alg)
            .max_by_key(|k| k.signs_until);
        let from = match last {
            Some(k) if k.signs_until.0 - AHEAD_US > now.0 => return None,
            Some(k) if k.signs_until > now => k.signs_until,
            _ => now,
        };
        Some((from, Timestamp(from.0 + SIGNING_US)))
    }

    /// The first moment after `now` at which `signer`, `published` or
    /// `due` may answer differently (how long a cached ring holds).
    pub fn next_change(&self, now: Timestamp) -> Timestamp {
        self.keys
            .iter()
            .flat_map(|k| {
                [
                    k.signs_from.0,
                    k.signs_until.0 - AHEAD_US,
                    k.signs_until.0,
                    k.signs_until.0 + TOKEN_LIFETIME_US,
                ]
            })
            .filter(|t| *t > now.0)
            .min()
            .map_or(now, Timestamp)
    }
}

/// The events adding `key` (made for the turn [`KeyRing::due`] gave),
/// with the rotation from the key it follows, if any. None when no key is
/// due (another request made it first).
pub fn decide_add(ring: &KeyRing, key: KeyAdded, now: Timestamp) -> Option<Vec<E>> {
    let (from, _) = ring.due(key.algorithm, now)?;
    if key.signs_from != from {
        return None;
    }
    let previous = ring
        .keys
        .iter()
        .filter(|k| k.algorithm == key.algorithm)
        .max_by_key(|k| k.signs_until)
        .map(|k| k.kid.clone());
    let mut events = vec![];
    if let Some(previous_kid) = previous {
        events.push(E::KeyRotated(KeyRotated {
            previous_kid,
            kid: key.kid.clone(),
            at: from,
        }));
    }
    events.insert(0, E::KeyAdded(Box::new(key)));
    Some(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = HOUR_US;

    fn key(kid: &str, alg: SigningAlg, from_h: i64) -> KeyAdded {
        KeyAdded {
            kid: kid.into(),
            algorithm: alg,
            sealed_private_key: "sealed".into(),
            public_key: PublicJwk::RSA {
                n: "n".into(),
                e: "AQAB".into(),
            },
            signs_from: Timestamp(from_h * H),
            signs_until: Timestamp(from_h * H + SIGNING_US),
        }
    }

    fn at(h: i64) -> Timestamp {
        Timestamp(h * H)
    }

    use SigningAlg::{ES256, RS256};

    #[test]
    fn the_first_key_is_due_at_once_and_signs_for_its_turn() {
        let ring = KeyRing::default();
        assert_eq!(ring.due(RS256, at(5)), Some((at(5), at(29))));
        assert!(ring.signer(RS256, at(5)).is_none());
        let ring = KeyRing {
            keys: vec![key("r1", RS256, 5)],
        };
        // given now (h); then signer
        for (now, want) in [(5, Some("r1")), (28, Some("r1")), (29, None), (4, None)] {
            assert_eq!(ring.signer(RS256, at(now)).map(|k| k.kid.as_str()), want, "{now}");
        }
        assert!(ring.signer(ES256, at(5)).is_none(), "one ring per algorithm");
        assert_eq!(ring.due(ES256, at(5)), Some((at(5), at(29))));
    }

    #[test]
    fn the_next_key_is_made_ahead_and_takes_over_at_the_end_of_the_turn() {
        let ring = KeyRing {
            keys: vec![key("r1", RS256, 0)],
        };
        // given now (h); then due
        assert_eq!(ring.due(RS256, at(22)), None);
        assert_eq!(ring.due(RS256, at(23)), Some((at(24), at(48))));
        assert_eq!(ring.due(RS256, at(30)), Some((at(30), at(54))), "late: now");

        let next = key("r2", RS256, 24);
        let events = decide_add(&ring, next.clone(), at(23)).unwrap();
        assert_eq!(
            events,
            vec![
                E::KeyAdded(Box::new(next.clone())),
                E::KeyRotated(KeyRotated {
                    previous_kid: "r1".into(),
                    kid: "r2".into(),
                    at: at(24)
                })
            ]
        );
        let ring = KeyRing {
            keys: vec![key("r1", RS256, 0), next],
        };
        // the old key signs until its turn ends; both are published
        assert_eq!(ring.signer(RS256, at(23)).unwrap().kid, "r1");
        assert_eq!(ring.signer(RS256, at(24)).unwrap().kid, "r2");
        let published = |h| ring.published(at(h)).map(|k| k.kid.clone()).collect::<Vec<_>>();
        assert_eq!(published(23), ["r1", "r2"]);
        assert_eq!(published(35), ["r1", "r2"], "r1's tokens live 12 h after its turn");
        assert_eq!(published(36), ["r2"]);
        assert_eq!(decide_add(&ring, key("r3", RS256, 24), at(23)), None, "made already");
    }

    #[test]
    fn a_cached_ring_holds_until_the_next_change() {
        let ring = KeyRing {
            keys: vec![key("r1", RS256, 0)],
        };
        assert_eq!(ring.next_change(at(1)), at(23));
        assert_eq!(ring.next_change(at(23)), at(24));
        assert_eq!(ring.next_change(at(24)), at(36));
        assert_eq!(KeyRing::default().next_change(at(1)), at(1));
        assert_eq!(alg_for(Signs::IdToken), RS256);
        assert_eq!(alg_for(Signs::AccessToken), ES256);
    }
}
