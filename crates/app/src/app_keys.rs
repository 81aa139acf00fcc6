//! Keys of `private_key_jwt` applications (Management API v1): the server
//! makes an RSA key pair, returns the private key once in ZITADEL's
//! key-file JSON and keeps only the public key; and the check of a client
//! assertion signed with one of them.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::signature::{self, RsaPublicKeyComponents};
use rsa::traits::PublicKeyParts;
use serde_json::{Map, Value, json};
use twofold_domain::app_key::{self, NewKey};
use twofold_domain::oidc::client_assertion::{self, Assertion, Expected};
use twofold_domain::oidc::token::{OAuthError, invalid_client};
use twofold_domain::readmodel::projects::{AppKeyView, AppView};
use twofold_domain::readmodel::query::ListRequest;
use twofold_domain::{AggregateRef, AppId, DomainError, InstanceId, ProjectId, Timestamp};

use crate::auth::RequestCtx;
use crate::command::Decision;
use crate::{App, WriteDetails};

/// Bits of an app key (ZITADEL's `ApplicationKeySize`).
const RSA_BITS: usize = 2048;

fn internal() -> DomainError {
    DomainError::internal("APP-Key01", "An internal error occurred")
}

/// DER as PEM with `label`, 64 characters a line.
fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The DER inside a PEM document.
fn pem_der(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body.trim()).ok()
}

/// A new RSA key pair: the private key as PKCS#1 PEM, the public key as
/// SPKI PEM.
fn generate() -> Result<(String, String), DomainError> {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::EncodePublicKey;
    let key = rsa::RsaPrivateKey::new(&mut crate::signing_keys::OsRandom, RSA_BITS).map_err(|_| internal())?;
    let private = key.to_pkcs1_der().map_err(|_| internal())?;
    let public = key.to_public_key().to_public_key_der().map_err(|_| internal())?;
    Ok((
        pem("RSA PRIVATE KEY", private.as_bytes()),
        pem("PUBLIC KEY", public.as_bytes()),
    ))
}

/// Verifies an RS256 signature with a stored SPKI PEM public key.
fn verify_rs256(public_pem: &str, message: &[u8], sig: &[u8]) -> bool {
    use rsa::pkcs8::DecodePublicKey;
    let Some(key) = pem_der(public_pem).and_then(|der| rsa::RsaPublicKey::from_public_key_der(&der).ok()) else {
        return false;
    };
    let components = RsaPublicKeyComponents {
        n: key.n_bytes(),
        e: key.e_bytes(),
    };
    components
        .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, sig)
        .is_ok()
}

/// An app key as created: the key file is returned this once.
pub struct AddedKey {
    pub key_id: String,
    /// `{"type":"application","keyId","key","appId","clientId"}`.
    pub key_details: Vec<u8>,
    pub details: WriteDetails,
}

pub struct KeyList {
    pub total: usize,
    pub keys: Vec<AppKeyView>,
}

/// A compact JWS split into its header, claims, signed part and signature.
struct Jws<'a> {
    header: Map<String, Value>,
    claims: Map<String, Value>,
    signed: &'a str,
    sig: Vec<u8>,
}

fn split_jws(token: &str) -> Option<Jws<'_>> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    let object =
        |part: &str| -> Option<Map<String, Value>> { serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok() };
    Some(Jws {
        header: object(h)?,
        claims: object(p)?,
        signed: token.get(..h.len() + 1 + p.len())?,
        sig: URL_SAFE_NO_PAD.decode(s).ok()?,
    })
}

/// The client a client assertion claims to be (its unverified `sub`).
pub fn assertion_subject(assertion: &str) -> Option<String> {
    let jws = split_jws(assertion)?;
    jws.claims.get("sub").and_then(Value::as_str).map(str::to_owned)
}

impl App {
    /// AddAppKey: a new key pair for an app that authenticates with one.
    #[tracing::instrument(skip_all, fields(project_id = %project_id, app_id = %app_id))]
    pub async fn add_app_key(
        &self,
        ctx: &RequestCtx,
        project_id: &ProjectId,
        app_id: &AppId,
        expiration_date: Option<Timestamp>,
    ) -> Result<AddedKey, DomainError> {
        // RSA key generation takes a while: off the request threads.
        let (private_pem, public_pem) = tokio::task::spawn_blocking(generate).await.map_err(|_| internal())??;
        let key_id = self.ids.next();
        let now = self.now();
        let details = self
            .on_project(ctx, project_id, |state| {
                let key = NewKey {
                    key_id: key_id.clone(),
                    expiration_date: expiration_date.unwrap_or(app_key::NO_EXPIRY),
                    public_key: public_pem.clone(),
                };
                app_key::decide_add(state, &ctx.org_id, app_id, key, now).map(Decision::one)
            })
            .await?;
        let client_id = self.app(ctx, project_id, app_id).await?.client_id;
        let file = json!({
            "type": "application",
            "keyId": key_id,
            "key": private_pem,
            "appId": app_id.as_str(),
            "clientId": client_id.as_str(),
        });
        Ok(AddedKey {
            key_id,
            key_details: file.to_string().into_bytes(),
            details,
        })
    }

    /// The keys of an app of the context org (an unknown app has none).
    async fn app_keys(
        &self,
        ctx: &RequestCtx,
        project_id: &ProjectId,
        app_id: &AppId,
    ) -> Result<Vec<AppKeyView>, DomainError> {
        Ok(match self.app(ctx, project_id, app_id).await {
            Ok(app) => app.keys,
            Err(e) if e.kind == twofold_domain::ErrorKind::NotFound => vec![],
            Err(e) => return Err(e),
        })
    }

    /// GetAppKey.
    pub async fn app_key(
        &self,
        ctx: &RequestCtx,
        project_id: &ProjectId,
        app_id: &AppId,
        key_id: &str,
    ) -> Result<AppKeyView, DomainError> {
        self.app_keys(ctx, project_id, app_id)
            .await?
            .into_iter()
            .find(|k| k.id == key_id)
            .ok_or_else(|| DomainError::not_found("QUERY-AppKy", "Errors.AuthNKey.NotFound"))
    }

    /// ListAppKeys, oldest first.
    pub async fn list_app_keys(
        &self,
        ctx: &RequestCtx,
        project_id: &ProjectId,
        app_id: &AppId,
        list: ListRequest,
    ) -> Result<KeyList, DomainError> {
        let keys = self.app_keys(ctx, project_id, app_id).await?;
        Ok(KeyList {
            total: keys.len(),
            keys: list.page(keys),
        })
    }

    /// RemoveAppKey: assertions signed with it stop authenticating.
    pub async fn remove_app_key(
        &self,
        ctx: &RequestCtx,
        project_id: &ProjectId,
        app_id: &AppId,
        key_id: &str,
    ) -> Result<WriteDetails, DomainError> {
        self.on_project(ctx, project_id, |state| {
            app_key::decide_remove(state, &ctx.org_id, app_id, key_id).map(Decision::one)
        })
        .await
    }

    /// `private_key_jwt`: the assertion must be signed by a key of `app`
    /// and meet [`client_assertion::check`]; its `jti` is then used up.
    pub(crate) async fn check_client_assertion(
        &self,
        instance_id: &InstanceId,
        issuer: &str,
        endpoint: &str,
        app: &AppView,
        assertion: &str,
    ) -> Result<Result<(), OAuthError>, DomainError> {
        let refused = || Ok(Err(invalid_client("client assertion invalid")));
        let Some(jws) = split_jws(assertion) else {
            return refused();
        };
        let Some(claims) = Assertion::read(&jws.header, &jws.claims) else {
            return refused();
        };
        let Some(key) = app.keys.iter().find(|k| k.id == claims.kid) else {
            return Ok(Err(invalid_client("client assertion: unknown key")));
        };
        if claims.alg != client_assertion::ALG || !verify_rs256(&key.public_key, jws.signed.as_bytes(), &jws.sig) {
            return Ok(Err(invalid_client("client assertion: invalid signature")));
        }
        let audiences = [issuer.to_owned(), format!("{issuer}{endpoint}")];
        let skew_us = app.oidc().map_or(0, |c| c.clock_skew / 1_000);
        let accepted = match client_assertion::check(
            &claims,
            &Expected {
                client_id: app.client_id.as_str(),
                audiences: &audiences,
                key_expires: key.expiration_date,
                skew_us,
                now: self.now(),
            },
        ) {
            Ok(a) => a,
            Err(e) => return Ok(Err(e)),
        };
        let agg = AggregateRef::client_assertion(app.client_id.as_str(), &accepted.jti, instance_id);
        let (_, outcome) = self
            .execute_many_with(instance_id, app.client_id.as_str(), vec![agg], |loaded| {
                let used_before = !crate::command::history(loaded, 0).is_empty();
                Ok(match client_assertion::decide_use(used_before, &accepted) {
                    Ok(events) => (Decision::one(events), Ok(())),
                    Err(e) => (Decision::default(), Err(e)),
                })
            })
            .await?;
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_round_trip_through_pem() {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        let (private_pem, public_pem) = generate().unwrap();
        assert!(private_pem.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
        assert!(public_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let der = pem_der(&private_pem).unwrap();
        rsa::RsaPrivateKey::from_pkcs1_der(&der).unwrap();
        let pair = ring::signature::RsaKeyPair::from_der(&der).unwrap();
        let mut sig = vec![0; pair.public().modulus_len()];
        pair.sign(
            &signature::RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            b"message",
            &mut sig,
        )
        .unwrap();
        assert!(verify_rs256(&public_pem, b"message", &sig));
        assert!(!verify_rs256(&public_pem, b"other", &sig));
        assert!(!verify_rs256("not a key", b"message", &sig));
    }
}
