//! The instance's signing keys at work: made when the ring says one is due
//! (ES256 with ring, RS256 generated with the `rsa` crate and signed with
//! ring), sealed under the master key, opened once per process and kept
//! with the JWKS until the ring's next change.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, RwLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair, UnparsedPublicKey};
use serde_json::{Map, Value, json};
use twofold_domain::oidc::keys::{self, KeyAdded, KeyRing, PublicJwk, SigningAlg, Signs};
use twofold_domain::{AggregateRef, DomainError, InstanceId, Timestamp};

use crate::App;
use crate::secrets::unsealable;

/// Bits of a generated RSA key.
const RSA_BITS: usize = 2048;

fn internal() -> DomainError {
    DomainError::internal("OIDC-Key01", "An internal error occurred")
}

/// The OS random source for the `rsa` crate's key generation.
pub(crate) struct OsRandom;

impl rand_core::TryRng for OsRandom {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        crate::random::fill(&mut b);
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        crate::random::fill(&mut b);
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        crate::random::fill(dst);
        Ok(())
    }
}

impl rand_core::TryCryptoRng for OsRandom {}

/// A new private key (PKCS#8 DER) of `alg` and its public JWK members.
fn generate(alg: SigningAlg) -> Result<(Vec<u8>, PublicJwk), DomainError> {
    let rng = SystemRandom::new();
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    match alg {
        SigningAlg::ES256 => {
            let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).map_err(|_| internal())?;
            let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).map_err(|_| internal())?;
            // Uncompressed point: 0x04 ‖ x ‖ y.
            let point = pair.public_key().as_ref();
            let (x, y) = point.get(1..).ok_or_else(internal)?.split_at(32);
            let jwk = PublicJwk::EC {
                crv: "P-256".into(),
                x: b64(x),
                y: b64(y),
            };
            Ok((pkcs8.as_ref().to_vec(), jwk))
        }
        SigningAlg::RS256 => {
            use rsa::pkcs8::EncodePrivateKey;
            let key = rsa::RsaPrivateKey::new(&mut OsRandom, RSA_BITS).map_err(|_| internal())?;
            let der = key.to_pkcs8_der().map_err(|_| internal())?.as_bytes().to_vec();
            let pair = RsaKeyPair::from_pkcs8(&der).map_err(|_| internal())?;
            let public = signature::RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
            let jwk = PublicJwk::RSA {
                n: b64(&public.n),
                e: b64(&public.e),
            };
            Ok((der, jwk))
        }
    }
}

enum PrivateKey {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

struct Signer {
    kid: String,
    alg: SigningAlg,
    key: PrivateKey,
}

impl Signer {
    fn open(app: &App, k: &KeyAdded) -> Result<Self, DomainError> {
        let der = app.keys.open(&k.sealed_private_key).ok_or_else(unsealable)?;
        let key = match k.algorithm {
            SigningAlg::ES256 => PrivateKey::Ec(
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &der, &SystemRandom::new())
                    .map_err(|_| unsealable())?,
            ),
            SigningAlg::RS256 => PrivateKey::Rsa(RsaKeyPair::from_pkcs8(&der).map_err(|_| unsealable())?),
        };
        Ok(Self {
            kid: k.kid.clone(),
            alg: k.algorithm,
            key,
        })
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, DomainError> {
        let rng = SystemRandom::new();
        match &self.key {
            PrivateKey::Ec(k) => Ok(k.sign(&rng, message).map_err(|_| internal())?.as_ref().to_vec()),
            PrivateKey::Rsa(k) => {
                let mut sig = vec![0; k.public().modulus_len()];
                k.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut sig)
                    .map_err(|_| internal())?;
                Ok(sig)
            }
        }
    }
}

/// A public key of the JWKS, ready to verify.
enum Verifier {
    Ec(Vec<u8>),
    Rsa(signature::RsaPublicKeyComponents<Vec<u8>>),
}

impl Verifier {
    fn of(jwk: &PublicJwk) -> Option<Self> {
        let d = |s: &str| URL_SAFE_NO_PAD.decode(s).ok();
        Some(match jwk {
            PublicJwk::EC { x, y, .. } => {
                let mut point = vec![4];
                point.extend(d(x)?);
                point.extend(d(y)?);
                Self::Ec(point)
            }
            PublicJwk::RSA { n, e } => Self::Rsa(signature::RsaPublicKeyComponents { n: d(n)?, e: d(e)? }),
        })
    }

    fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        match self {
            Self::Ec(point) => UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(message, sig)
                .is_ok(),
            Self::Rsa(c) => c.verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, sig).is_ok(),
        }
    }
}

/// An instance's ring as this process holds it.
struct Loaded {
    signers: Vec<Signer>,
    verifiers: HashMap<String, (SigningAlg, Verifier)>,
    jwks: Arc<Value>,
    /// Until when the ring answers the same.
    until: Timestamp,
}

/// The rings of the instances this process has signed for.
#[derive(Default)]
pub struct KeyCache {
    rings: RwLock<HashMap<InstanceId, Arc<Loaded>>>,
}

fn jwk_json(k: &KeyAdded) -> Value {
    let mut m = Map::new();
    m.insert("use".into(), json!("sig"));
    m.insert("kid".into(), json!(k.kid));
    m.insert("alg".into(), json!(k.algorithm.as_str()));
    match &k.public_key {
        PublicJwk::EC { crv, x, y } => {
            m.insert("kty".into(), json!("EC"));
            m.insert("crv".into(), json!(crv));
            m.insert("x".into(), json!(x));
            m.insert("y".into(), json!(y));
        }
        PublicJwk::RSA { n, e } => {
            m.insert("kty".into(), json!("RSA"));
            m.insert("n".into(), json!(n));
            m.insert("e".into(), json!(e));
        }
    }
    Value::Object(m)
}

fn b64_json(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

impl App {
    /// The instance's ring, making the keys that are due first.
    async fn key_ring(&self, instance_id: &InstanceId) -> Result<Arc<Loaded>, DomainError> {
        let now = self.now();
        let cached = self.signing.rings.read().ok().and_then(|r| r.get(instance_id).cloned());
        if let Some(l) = cached.filter(|l| now < l.until) {
            return Ok(l);
        }
        let agg = AggregateRef::key_pair(instance_id);
        let mut events = self
            .store
            .events(instance_id, &agg)
            .await
            .map_err(crate::command::store_error)?;
        for alg in [SigningAlg::RS256, SigningAlg::ES256] {
            let Some((signs_from, signs_until)) = KeyRing::fold(&events).due(alg, now) else {
                continue;
            };
            // RSA key generation takes a while: off the request threads.
            let (der, public_key) = tokio::task::spawn_blocking(move || generate(alg))
                .await
                .map_err(|_| internal())??;
            let key = KeyAdded {
                kid: self.ids.next(),
                algorithm: alg,
                sealed_private_key: self.keys.seal(&der),
                public_key,
                signs_from,
                signs_until,
            };
            self.execute(instance_id, "system", agg.clone(), |events| {
                Ok(keys::decide_add(&KeyRing::fold(events), key.clone(), now).unwrap_or_default())
            })
            .await?;
            events = self
                .store
                .events(instance_id, &agg)
                .await
                .map_err(crate::command::store_error)?;
        }
        let ring = KeyRing::fold(&events);
        let signers = [SigningAlg::RS256, SigningAlg::ES256]
            .into_iter()
            .filter_map(|alg| ring.signer(alg, now))
            .map(|k| Signer::open(self, k))
            .collect::<Result<Vec<_>, _>>()?;
        let published: Vec<&KeyAdded> = ring.published(now).collect();
        let loaded = Arc::new(Loaded {
            signers,
            verifiers: published
                .iter()
                .filter_map(|k| Some((k.kid.clone(), (k.algorithm, Verifier::of(&k.public_key)?))))
                .collect(),
            jwks: Arc::new(json!({"keys": published.iter().map(|k| jwk_json(k)).collect::<Vec<_>>()})),
            until: ring.next_change(now),
        });
        if let Ok(mut rings) = self.signing.rings.write() {
            rings.insert(instance_id.clone(), loaded.clone());
        }
        Ok(loaded)
    }

    /// The JWKS (`GET /oauth/v2/keys`).
    pub async fn jwks(&self, instance_id: &InstanceId) -> Result<Arc<Value>, DomainError> {
        Ok(self.key_ring(instance_id).await?.jwks.clone())
    }

    /// A compact JWS of `claims`, signed with the key whose turn it is for
    /// `what`.
    pub(crate) async fn sign_jwt(
        &self,
        instance_id: &InstanceId,
        what: Signs,
        claims: &Map<String, Value>,
    ) -> Result<String, DomainError> {
        let ring = self.key_ring(instance_id).await?;
        let alg = keys::alg_for(what);
        let signer = ring.signers.iter().find(|s| s.alg == alg).ok_or_else(internal)?;
        let header = json!({"alg": alg.as_str(), "typ": "JWT", "kid": signer.kid});
        let mut jws = format!("{}.{}", b64_json(&header), b64_json(&Value::Object(claims.clone())));
        let sig = signer.sign(jws.as_bytes())?;
        jws.push('.');
        jws.push_str(&URL_SAFE_NO_PAD.encode(sig));
        Ok(jws)
    }

    /// The claims of a JWS this instance signed with a published key (the
    /// signature only: expiry and revocation are the caller's).
    pub(crate) async fn verified_jwt(
        &self,
        instance_id: &InstanceId,
        token: &str,
    ) -> Result<Option<Map<String, Value>>, DomainError> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Ok(None);
        };
        let decode = |s: &str| URL_SAFE_NO_PAD.decode(s).ok();
        let header: Option<Map<String, Value>> = decode(h).and_then(|b| serde_json::from_slice(&b).ok());
        let Some(header) = header else {
            return Ok(None);
        };
        let ring = self.key_ring(instance_id).await?;
        let kid = header.get("kid").and_then(Value::as_str).unwrap_or_default();
        let Some((alg, verifier)) = ring.verifiers.get(kid) else {
            return Ok(None);
        };
        let signed_len = h.len() + 1 + p.len();
        let (Some(signed), Some(sig)) = (token.get(..signed_len), decode(s)) else {
            return Ok(None);
        };
        if header.get("alg").and_then(Value::as_str) != Some(alg.as_str()) || !verifier.verify(signed.as_bytes(), &sig)
        {
            return Ok(None);
        }
        Ok(decode(p).and_then(|b| serde_json::from_slice(&b).ok()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_sign_and_verify() {
        for alg in [SigningAlg::ES256, SigningAlg::RS256] {
            let (der, jwk) = generate(alg).unwrap();
            let key = match alg {
                SigningAlg::ES256 => PrivateKey::Ec(
                    EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &der, &SystemRandom::new())
                        .unwrap(),
                ),
                SigningAlg::RS256 => PrivateKey::Rsa(RsaKeyPair::from_pkcs8(&der).unwrap()),
            };
            let signer = Signer {
                kid: "k".into(),
                alg,
                key,
            };
            let sig = signer.sign(b"message").unwrap();
            let verifier = Verifier::of(&jwk).unwrap();
            assert!(verifier.verify(b"message", &sig), "{alg:?}");
            assert!(!verifier.verify(b"other", &sig), "{alg:?}");
        }
    }
}
