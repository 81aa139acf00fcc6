//! Passkeys: WebAuthn credentials registered with user verification, which
//! sign a user in on their own (a multi factor). Registration is decided
//! here (directly or with a registration code); whether a passkey may sign
//! in is the login policy's decision ([`require_passkey_allowed`]), and a
//! sign counter that does not advance refuses the check (a possible clone).

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::event::{EventPayload as E, Timestamp};
use crate::factors::MultiFactor;
use crate::human::constant_time_eq;
use crate::readmodel::login_policy::LoginPolicyView;
use crate::session::FACTOR_NOT_ALLOWED;
use crate::user::UserState;

/// `passwordlessType` ALLOWED.
pub const PASSWORDLESS_ALLOWED: i32 = 1;
/// Error id of a registration whose credential is not discoverable.
pub const NOT_RESIDENT: &str = "WEBAU-Rk3y0";
/// Error id of a passkey whose sign counter did not advance.
pub const POSSIBLE_CLONE: &str = "SESSION-Cl0ne";
/// Registration codes: 12 characters, valid one hour.
pub const CODE_LEN: usize = 12;
pub const CODE_LIFETIME_MICROS: i64 = 3_600 * 1_000_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyAdded {
    #[serde(rename = "webAuthNTokenId")]
    pub token_id: String,
    /// The relying party's registration state (holds the challenge), as JSON.
    pub state: String,
    #[serde(rename = "rpID", default, skip_serializing_if = "String::is_empty")]
    pub rp_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyVerified {
    #[serde(rename = "webAuthNTokenId")]
    pub token_id: String,
    /// The credential ID, base64url.
    #[serde(rename = "keyId")]
    pub key_id: String,
    /// The registered credential (public key, counter…), as JSON.
    pub credential: String,
    #[serde(rename = "signCount")]
    pub sign_count: u32,
    #[serde(rename = "webAuthNTokenName")]
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyRemoved {
    #[serde(rename = "webAuthNTokenId")]
    pub token_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeySignCount {
    #[serde(rename = "webAuthNTokenId")]
    pub token_id: String,
    #[serde(rename = "signCount")]
    pub sign_count: u32,
    /// The credential as updated by the assertion, as JSON.
    pub credential: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyCodeRequested {
    pub id: String,
    /// Keyed hash of the code; the code itself is never stored.
    pub code_hash: String,
    pub expiry: Timestamp,
    pub code_returned: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyCodeId {
    pub id: String,
}

/// A passkey: pending (registration state) until verified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyToken {
    pub id: String,
    pub rp_id: String,
    pub name: String,
    pub pending: Option<String>,
    /// The verified credential (JSON) and its ID (base64url).
    pub credential: Option<String>,
    pub key_id: String,
    pub sign_count: u32,
}

impl PasskeyToken {
    pub fn ready(&self) -> bool {
        self.credential.is_some()
    }
}

/// A user's passkeys and unused registration codes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passkeys {
    pub tokens: Vec<PasskeyToken>,
    pub codes: Vec<PasskeyCodeRequested>,
}

impl Passkeys {
    pub(crate) fn apply(&mut self, ev: &E) {
        match ev {
            E::PasskeyAdded(p) => self.tokens.push(PasskeyToken {
                id: p.token_id.clone(),
                rp_id: p.rp_id.clone(),
                name: String::new(),
                pending: Some(p.state.clone()),
                credential: None,
                key_id: String::new(),
                sign_count: 0,
            }),
            E::PasskeyVerified(p) => {
                if let Some(t) = self.tokens.iter_mut().find(|t| t.id == p.token_id) {
                    t.pending = None;
                    t.credential = Some(p.credential.clone());
                    t.name = p.name.clone();
                    t.key_id = p.key_id.clone();
                    t.sign_count = p.sign_count;
                }
            }
            E::PasskeySignCountChanged(p) => {
                if let Some(t) = self.tokens.iter_mut().find(|t| t.id == p.token_id) {
                    t.credential = Some(p.credential.clone());
                    t.sign_count = p.sign_count;
                }
            }
            E::PasskeyRemoved(p) => self.tokens.retain(|t| t.id != p.token_id),
            E::PasskeyCodeRequested(c) => self.codes.push(c.clone()),
            // A code works once.
            E::PasskeyCodeCheckSucceeded(c) => self.codes.retain(|x| x.id != c.id),
            _ => {}
        }
    }

    pub fn ready(&self) -> impl Iterator<Item = &PasskeyToken> {
        self.tokens.iter().filter(|t| t.ready())
    }
}

fn user_missing(state: &UserState) -> DomainError {
    if state.human && !state.exists {
        DomainError::not_found("COMMAND-Mv9sd", "User could not be found")
    } else {
        DomainError::not_found("COMMAND-M9dsd", "User could not be found")
    }
}

pub fn code_invalid() -> DomainError {
    DomainError::invalid("COMMAND-Eeb2a", "Code is invalid")
}

pub fn token_missing() -> DomainError {
    DomainError::not_found("COMMAND-DAfb2", "WebAuthN Token could not be found")
}

/// A registration code given with RegisterPasskey: its id and keyed hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GivenCode {
    pub id: String,
    pub code_hash: String,
}

/// Starts a registration. With a code, the code must be one of the user's
/// unused, unexpired codes; a wrong one is refused with its failure event.
pub fn decide_register(
    state: &UserState,
    token_id: &str,
    reg_state: String,
    rp_id: &str,
    code: Option<&GivenCode>,
    now: Timestamp,
) -> Result<Vec<E>, RegisterRefusal> {
    if !state.exists || !state.human {
        return Err(RegisterRefusal::Error(user_missing(state)));
    }
    let mut events = vec![];
    if let Some(given) = code {
        let ok = state.passkeys.codes.iter().any(|c| {
            c.id == given.id && now <= c.expiry && constant_time_eq(c.code_hash.as_bytes(), given.code_hash.as_bytes())
        });
        if !ok {
            let failed = E::PasskeyCodeCheckFailed(PasskeyCodeId { id: given.id.clone() });
            return Err(RegisterRefusal::Failed(vec![failed], code_invalid()));
        }
        events.push(E::PasskeyCodeCheckSucceeded(PasskeyCodeId { id: given.id.clone() }));
    }
    events.push(E::PasskeyAdded(PasskeyAdded {
        token_id: token_id.to_owned(),
        state: reg_state,
        rp_id: rp_id.to_owned(),
    }));
    Ok(events)
}

/// Why a registration was refused: an error with nothing stored, or a
/// wrong code whose failure is stored before the error is returned.
#[derive(Debug, PartialEq)]
pub enum RegisterRefusal {
    Error(DomainError),
    Failed(Vec<E>, DomainError),
}

/// The pending registration a verification finishes: always the first one
/// not yet verified (as ZITADEL, the passkey ID of the request is ignored).
pub fn pending(state: &UserState) -> Result<&PasskeyToken, DomainError> {
    state
        .passkeys
        .tokens
        .iter()
        .find(|t| t.pending.is_some())
        .ok_or_else(|| DomainError::not_found("WEBAU-5M9so", "WebAuthN Token could not be found"))
}

/// A registration response the relying party accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredPasskey {
    pub key_id: String,
    pub credential: String,
    pub sign_count: u32,
    /// Whether the credential is discoverable (a resident key), as the
    /// client reported it in the `credProps` extension; None when it did
    /// not say. The authenticator data carries no such flag, so nothing
    /// signed tells.
    pub resident_key: Option<bool>,
}

/// Why the relying party refused a registration response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistrationRefused {
    Unparsable(String),
    Rejected(String),
}

pub fn decide_verify(
    state: &UserState,
    checked: Result<RegisteredPasskey, RegistrationRefused>,
    name: &str,
) -> Result<Vec<E>, DomainError> {
    let pending = pending(state)?;
    // The client's mistakes are 400 (ZITADEL answers 500).
    let key = checked.map_err(|why| match why {
        RegistrationRefused::Unparsable(w) => {
            DomainError::invalid("WEBAU-sEr8c", format!("Error on parse credential data: {w}"))
        }
        RegistrationRefused::Rejected(w) => {
            DomainError::invalid("WEBAU-3Vb9s", format!("Error on create credentials: {w}"))
        }
    })?;
    // A passkey signs in without a user name, so it must be discoverable.
    // Only a client that says it is not can be refused: one that does not
    // report `credProps` is taken at its word that it honoured
    // `residentKey: "required"`.
    if key.resident_key == Some(false) {
        return Err(DomainError::invalid(
            NOT_RESIDENT,
            "Error on create credentials: the authenticator did not store a discoverable credential (resident key), which a passkey needs",
        ));
    }
    // A credential registered as another passkey of the user is not added twice.
    if state.passkeys.ready().any(|t| t.key_id == key.key_id) {
        return Err(DomainError::invalid(
            "WEBAU-3Vb9s",
            "Error on create credentials: already registered",
        ));
    }
    Ok(vec![E::PasskeyVerified(PasskeyVerified {
        token_id: pending.id.clone(),
        key_id: key.key_id,
        credential: key.credential,
        sign_count: key.sign_count,
        name: name.to_owned(),
    })])
}

pub fn decide_remove(state: &UserState, token_id: &str) -> Result<Vec<E>, DomainError> {
    if !state.exists || !state.passkeys.tokens.iter().any(|t| t.id == token_id) {
        return Err(token_missing());
    }
    Ok(vec![E::PasskeyRemoved(PasskeyRemoved {
        token_id: token_id.to_owned(),
    })])
}

/// A new registration code (the user's existence is checked by the caller).
pub fn decide_request_code(code: PasskeyCodeRequested) -> Vec<E> {
    vec![E::PasskeyCodeRequested(code)]
}

/// Whether the policy lets a passkey sign in: the multi factor
/// U2F_WITH_VERIFICATION listed and passwordless sign-in allowed.
pub fn passkey_allowed(policy: &LoginPolicyView) -> bool {
    policy.multi_factors.contains(&MultiFactor::U2fWithVerification)
        && policy.settings.passwordless_type == PASSWORDLESS_ALLOWED
}

pub fn require_passkey_allowed(policy: Option<&LoginPolicyView>) -> Result<(), DomainError> {
    match policy {
        Some(p) if !passkey_allowed(p) => {
            let whose = if p.is_default {
                "the instance's default login policy".to_owned()
            } else {
                format!("the login policy of organization {}", p.details.resource_owner)
            };
            Err(DomainError::precondition(
                FACTOR_NOT_ALLOWED,
                format!("MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION (passkeys) is not allowed by {whose}"),
            ))
        }
        _ => Ok(()),
    }
}

/// A discoverable assertion names its user by the credential and the user
/// handle: the user found as the credential's owner must hold it as a
/// ready passkey, and its user handle must be the assertion's. Anything
/// else is refused like a bad assertion (no user, so nothing is counted).
pub fn decide_identified(
    owner: Option<&UserState>,
    credential_id: &str,
    user_handle_matches: bool,
) -> Result<(), DomainError> {
    let holds = owner.is_some_and(|us| us.exists && us.passkeys.ready().any(|t| t.key_id == credential_id));
    if holds && user_handle_matches {
        return Ok(());
    }
    Err(DomainError::invalid(
        "WEBAU-ADgv4",
        "The passkey's assertion was refused: it names no user holding this passkey",
    ))
}

/// A passkey assertion as the relying party judged it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PasskeyEvidence {
    Verified(PasskeyAssertion),
    /// The relying party saw the counter not advance.
    CounterRegressed,
    Refused(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeyAssertion {
    pub token_id: String,
    pub sign_count: u32,
    /// The credential as updated by the assertion (JSON).
    pub credential: String,
    pub user_verified: bool,
}

fn possible_clone() -> DomainError {
    DomainError::precondition(
        POSSIBLE_CLONE,
        "The passkey's signature counter did not advance; it may have been cloned",
    )
}

/// The passkey check of a session: allowed by the policy, a verified
/// assertion with user verification by one of the user's passkeys, and a
/// sign counter above the stored one (when either is not zero). Returns
/// the user event recording the new counter.
pub fn decide_check(
    state: &UserState,
    policy: Option<&LoginPolicyView>,
    evidence: &PasskeyEvidence,
) -> Result<E, DomainError> {
    require_passkey_allowed(policy)?;
    let a = match evidence {
        PasskeyEvidence::Verified(a) => a,
        PasskeyEvidence::CounterRegressed => return Err(possible_clone()),
        PasskeyEvidence::Refused(why) => {
            return Err(DomainError::invalid(
                "WEBAU-ADgv4",
                format!("The passkey's assertion was refused: {why}"),
            ));
        }
    };
    let token = state.passkeys.ready().find(|t| t.id == a.token_id).ok_or_else(|| {
        DomainError::precondition("COMMAND-Aej7i", "The credential is not one of the user's passkeys")
    })?;
    if !a.user_verified {
        return Err(DomainError::invalid(
            "WEBAU-3M9si",
            "The passkey did not verify the user",
        ));
    }
    if (a.sign_count > 0 || token.sign_count > 0) && a.sign_count <= token.sign_count {
        return Err(possible_clone());
    }
    Ok(E::PasskeySignCountChanged(PasskeySignCount {
        token_id: a.token_id.clone(),
        sign_count: a.sign_count,
        credential: a.credential.clone(),
    }))
}

#[cfg(test)]
#[path = "passkey_tests.rs"]
mod tests;
