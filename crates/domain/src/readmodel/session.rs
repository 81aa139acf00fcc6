//! The session read model: one document per live session, looked up by
//! the hash of its current token.

use serde::{Deserialize, Serialize};

use super::{Collection, DocDetails, DocKey};
use crate::event::{AggregateType, EventPayload as E, StoredEvent, Timestamp};
use crate::ids::{OrgId, SessionId, UserId};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub id: SessionId,
    pub creator: String,
    pub details: DocDetails,
    pub user_id: Option<UserId>,
    pub user_org_id: Option<OrgId>,
    pub user_checked_at: Option<Timestamp>,
    pub password_checked_at: Option<Timestamp>,
    pub totp_checked_at: Option<Timestamp>,
    pub otp_sms_checked_at: Option<Timestamp>,
    pub otp_email_checked_at: Option<Timestamp>,
    pub webauthn_checked_at: Option<Timestamp>,
    pub webauthn_user_verified: bool,
    pub recovery_code_checked_at: Option<Timestamp>,
    pub expiration: Option<Timestamp>,
    pub token_hash: String,
}

impl SessionView {
    /// The session as its user's current password leaves it: a password
    /// check made before the password changed no longer counts
    /// (`user.human.password.changed` clears the factor, as in ZITADEL).
    pub fn forget_password_checked_before(&mut self, password_changed_at: Option<Timestamp>) {
        if let (Some(checked), Some(changed)) = (self.password_checked_at, password_changed_at)
            && checked < changed
        {
            self.password_checked_at = None;
        }
    }

    /// When the newest second factor was proved, if any.
    pub fn second_factor_at(&self) -> Option<Timestamp> {
        [
            self.totp_checked_at,
            self.otp_sms_checked_at,
            self.otp_email_checked_at,
            self.webauthn_checked_at,
            self.recovery_code_checked_at,
        ]
        .into_iter()
        .flatten()
        .max()
    }
}

pub(super) fn affected(ev: &StoredEvent) -> Vec<DocKey> {
    if ev.aggregate.kind == AggregateType::Session {
        vec![DocKey::new(Collection::Session, ev.aggregate.id.clone())]
    } else {
        vec![]
    }
}

pub(super) fn apply(ev: &StoredEvent, prior: Option<SessionView>) -> Option<SessionView> {
    let mut v = match (&ev.payload, prior) {
        (E::SessionAdded, _) => SessionView {
            id: SessionId::from(ev.aggregate.id.as_str()),
            creator: ev.creator.clone(),
            details: DocDetails::created(ev),
            ..SessionView::default()
        },
        (E::SessionTerminated, _) | (_, None) => return None,
        (_, Some(v)) => v,
    };
    v.details.touch(ev);
    match &ev.payload {
        E::SessionUserChecked(p) => {
            v.user_id = Some(p.user_id.clone());
            v.user_org_id = Some(p.org_id.clone());
            v.user_checked_at = Some(p.checked_at);
        }
        E::SessionPasswordChecked(p) => v.password_checked_at = Some(p.checked_at),
        E::SessionTotpChecked(p) => v.totp_checked_at = Some(p.checked_at),
        E::SessionOtpSmsChecked(p) => v.otp_sms_checked_at = Some(p.checked_at),
        E::SessionOtpEmailChecked(p) => v.otp_email_checked_at = Some(p.checked_at),
        E::SessionWebAuthnChecked(p) => {
            v.webauthn_checked_at = Some(p.checked_at);
            v.webauthn_user_verified = p.user_verified;
        }
        E::SessionRecoveryCodeChecked(p) => v.recovery_code_checked_at = Some(p.checked_at),
        E::SessionLifetimeSet(p) => v.expiration = Some(Timestamp(ev.created_at.0 + p.lifetime / 1_000)),
        E::SessionTokenSet(p) => v.token_hash = p.token_hash.clone(),
        _ => {}
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_check_before_the_change_no_longer_counts() {
        // given checked at, when the password changed at, then checked at
        let cases = [
            (Some(10), Some(11), None),
            (Some(10), Some(10), Some(10)),
            (Some(12), Some(11), Some(12)),
            (Some(10), None, Some(10)),
            (None, Some(11), None),
        ];
        for (checked, changed, want) in cases {
            let mut s = SessionView {
                password_checked_at: checked.map(Timestamp),
                ..SessionView::default()
            };
            s.forget_password_checked_before(changed.map(Timestamp));
            assert_eq!(s.password_checked_at, want.map(Timestamp), "{checked:?} {changed:?}");
        }
    }
}
