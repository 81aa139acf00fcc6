//! A software passkey for the tests: it stores discoverable credentials
//! (resident keys) and verifies its user, which the library's SoftToken and
//! SoftPasskey cannot. Attestation "none", ES256 keys, the WebAuthn JSON a
//! browser hands to the page. Test code only: keys live in memory.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// authenticatorData flags: user present, user verified, attested data.
const UP: u8 = 0x01;
const UV: u8 = 0x04;
const AT: u8 = 0x40;

#[derive(Clone)]
struct Credential {
    id: Vec<u8>,
    key: SigningKey,
    rp_id: String,
    user_handle: Vec<u8>,
    counter: u32,
}

/// A passkey provider. Cloning it copies the keys and their counters, as
/// a cloned authenticator would.
#[derive(Clone)]
pub struct SoftPasskey {
    credentials: Vec<Credential>,
    /// Whether it verifies the user (a plain security key does not).
    pub verifies_user: bool,
    /// What the client reports in `credProps.rk` (None: no report).
    pub reports_resident_key: Option<bool>,
}

impl SoftPasskey {
    pub fn new() -> Self {
        Self {
            credentials: vec![],
            verifies_user: true,
            reports_resident_key: Some(true),
        }
    }

    fn flags(&self) -> u8 {
        if self.verifies_user { UP | UV } else { UP }
    }

    /// `navigator.credentials.create` with the server's creation options
    /// (`{"publicKey": …}`): a new resident credential for the options' user.
    pub fn register(&mut self, origin: &str, options: &Value) -> Value {
        let pk = &options["publicKey"];
        let rp_id = pk["rp"]["id"].as_str().expect("rp.id").to_owned();
        let user_handle = B64.decode(pk["user"]["id"].as_str().expect("user.id")).unwrap();
        let client_data = client_data("webauthn.create", pk, origin);
        let cred = Credential {
            id: random::<16>().to_vec(),
            key: new_key(),
            rp_id,
            user_handle,
            counter: 0,
        };
        let point = cred.key.verifying_key().to_sec1_point(false);
        let xy = &point.as_bytes()[1..];
        let cose = cbor_map(vec![
            (cbor_int(1), cbor_int(2)),  // kty: EC2
            (cbor_int(3), cbor_int(-7)), // alg: ES256
            (cbor_int(-1), cbor_int(1)), // crv: P-256
            (cbor_int(-2), cbor_bytes(&xy[..32])),
            (cbor_int(-3), cbor_bytes(&xy[32..])),
        ]);
        let mut auth_data = rp_hash(&cred.rp_id);
        auth_data.push(self.flags() | AT);
        auth_data.extend(0u32.to_be_bytes());
        auth_data.extend([0u8; 16]); // AAGUID
        auth_data.extend(u16::try_from(cred.id.len()).unwrap().to_be_bytes());
        auth_data.extend(&cred.id);
        auth_data.extend(cose);
        let attestation = cbor_map(vec![
            (cbor_text("fmt"), cbor_text("none")),
            (cbor_text("attStmt"), cbor_map(vec![])),
            (cbor_text("authData"), cbor_bytes(&auth_data)),
        ]);
        let extensions = match self.reports_resident_key {
            Some(rk) => json!({"credProps": {"rk": rk}}),
            None => json!({}),
        };
        let id = B64.encode(&cred.id);
        self.credentials.push(cred);
        json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "response": {
                "attestationObject": B64.encode(attestation),
                "clientDataJSON": B64.encode(client_data),
            },
            "clientExtensionResults": extensions,
        })
    }

    /// `navigator.credentials.get` with the server's request options: signs
    /// with an allowed credential, or with no allow list with the newest
    /// resident credential of the relying party (the one the user picks).
    pub fn sign(&mut self, origin: &str, options: &Value) -> Value {
        let pk = &options["publicKey"];
        let rp_id = pk["rpId"].as_str().expect("rpId").to_owned();
        let allowed: Vec<Vec<u8>> = pk["allowCredentials"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| B64.decode(c["id"].as_str().unwrap()).unwrap())
                    .collect()
            })
            .unwrap_or_default();
        let flags = self.flags();
        let client_data = client_data("webauthn.get", pk, origin);
        let cred = self
            .credentials
            .iter_mut()
            .rev()
            .find(|c| c.rp_id == rp_id && (allowed.is_empty() || allowed.contains(&c.id)))
            .expect("a credential for the relying party");
        cred.counter += 1;
        let mut auth_data = rp_hash(&rp_id);
        auth_data.push(flags);
        auth_data.extend(cred.counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature: Signature = cred.key.sign(&signed);
        json!({
            "id": B64.encode(&cred.id),
            "rawId": B64.encode(&cred.id),
            "type": "public-key",
            "response": {
                "authenticatorData": B64.encode(&auth_data),
                "clientDataJSON": B64.encode(&client_data),
                "signature": B64.encode(signature.to_der().to_bytes()),
                "userHandle": B64.encode(&cred.user_handle),
            },
            "clientExtensionResults": {},
        })
    }
}

fn client_data(kind: &str, pk: &Value, origin: &str) -> Vec<u8> {
    let challenge = pk["challenge"].as_str().expect("challenge");
    serde_json::to_vec(&json!({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false})).unwrap()
}

fn rp_hash(rp_id: &str) -> Vec<u8> {
    Sha256::digest(rp_id.as_bytes()).to_vec()
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).unwrap();
    b
}

fn new_key() -> SigningKey {
    loop {
        if let Ok(k) = SigningKey::from_slice(&random::<32>()) {
            return k;
        }
    }
}

// The little CBOR the attestation needs (RFC 8949, definite lengths).
fn cbor_head(major: u8, n: u64) -> Vec<u8> {
    let m = major << 5;
    match n {
        0..=23 => vec![m | n as u8],
        24..=0xff => vec![m | 24, n as u8],
        0x100..=0xffff => [vec![m | 25], (n as u16).to_be_bytes().to_vec()].concat(),
        _ => [vec![m | 26], (n as u32).to_be_bytes().to_vec()].concat(),
    }
}

fn cbor_int(i: i64) -> Vec<u8> {
    if i >= 0 {
        cbor_head(0, i as u64)
    } else {
        cbor_head(1, (-1 - i) as u64)
    }
}

fn cbor_bytes(b: &[u8]) -> Vec<u8> {
    [cbor_head(2, b.len() as u64), b.to_vec()].concat()
}

fn cbor_text(s: &str) -> Vec<u8> {
    [cbor_head(3, s.len() as u64), s.as_bytes().to_vec()].concat()
}

fn cbor_map(entries: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<u8> {
    let mut out = cbor_head(5, entries.len() as u64);
    for (k, v) in entries {
        out.extend(k);
        out.extend(v);
    }
    out
}
