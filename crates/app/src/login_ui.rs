//! What the hosted login pages (crate `twofold-web`) need beyond the use
//! cases they call: a caller to act as before anyone is signed in, and the
//! master key's sealing and MAC for their cookies and form tokens.

use twofold_domain::login_flow::{self, Next};
use twofold_domain::permissions::{Membership, ResourceCheck};
use twofold_domain::readmodel::directory::UserView;
use twofold_domain::readmodel::login_policy::LoginPolicyView;
use twofold_domain::readmodel::session::SessionView;
use twofold_domain::session::throttle;
use twofold_domain::user::UserState;
use twofold_domain::{AggregateRef, DomainError, InstanceId, OrgId, UserId};

use crate::App;
use crate::auth::{Caller, RequestCtx};

/// The creator recorded on sessions the hosted login starts. It is never
/// looked up as a user: the login's grants come from [`memberships`].
pub const LOGIN_UI_CREATOR: &str = "hosted-login";

/// The hosted login's grants: those of ZITADEL's login client, the
/// instance role IAM_LOGIN_CLIENT.
pub(crate) fn memberships() -> Vec<Membership> {
    vec![Membership {
        org_id: None,
        roles: vec!["IAM_LOGIN_CLIENT".to_owned()],
    }]
}

impl App {
    /// The request context of the hosted login acting as the login client
    /// on `instance_id`, for a use case whose RPC declares `check`.
    pub fn login_ui_ctx(&self, instance_id: &InstanceId, check: Option<ResourceCheck>) -> RequestCtx {
        RequestCtx {
            instance_id: instance_id.clone(),
            caller: Caller {
                user_id: UserId::new(LOGIN_UI_CREATOR),
                org_id: OrgId::default(),
                session: None,
                hosted_login: true,
                oidc_amr: None,
            },
            org_id: OrgId::default(),
            check,
        }
    }

    /// `plaintext` encrypted and authenticated with the master key (cookie values).
    pub fn seal_for_ui(&self, plaintext: &[u8]) -> String {
        self.keys.seal(plaintext)
    }

    /// What [`Self::seal_for_ui`] sealed; None for anything else.
    pub fn open_for_ui(&self, sealed: &str) -> Option<Vec<u8>> {
        self.keys.open(sealed)
    }

    /// A keyed MAC of `value` (CSRF tokens derived from a cookie).
    pub fn mac_for_ui(&self, value: &str) -> String {
        self.keys.token_hash(value)
    }
}

impl App {
    /// The session rules' refusal of `user`'s one-time codes while their
    /// throttle runs (`session::throttle`), None when they may try now.
    pub async fn otp_throttle(
        &self,
        instance_id: &InstanceId,
        user: &UserView,
    ) -> Result<Option<DomainError>, DomainError> {
        let events = self
            .store
            .events(instance_id, &AggregateRef::user(&user.id, &user.org_id))
            .await
            .map_err(crate::command::store_error)?;
        let state = UserState::fold(&events);
        let now = self.now();
        let until = throttle::otp_throttled_until(&state, self.config.otp_throttle_secs).filter(|u| *u > now);
        Ok(until.map(|u| throttle::throttle_error(u, now)))
    }
}

impl App {
    /// The hosted login's step after the first factor, now (see
    /// [`login_flow::next_step`]).
    pub fn login_next_step(&self, policy: &LoginPolicyView, user: &UserView, session: &SessionView) -> Next {
        let human = user.human();
        let skipped = human.and_then(|h| h.mfa_init_skipped);
        let contacts = login_flow::Contacts {
            email: human.is_some_and(|h| h.email_verified),
            phone: human.is_some_and(|h| h.phone_verified && !h.phone.is_empty()),
        };
        login_flow::next_step(policy, &user.factors, session, skipped, self.now(), contacts)
    }

    /// Whether `session` proved a second factor recently enough to remove
    /// one (see [`login_flow::recently_checked`]).
    pub fn recently_checked(&self, session: &SessionView) -> bool {
        login_flow::recently_checked(session, self.now())
    }
}
