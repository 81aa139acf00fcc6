//! A user's lifecycle (UserService v2): deactivate, reactivate, and the
//! login's "skip second-factor set-up" mark.

use twofold_domain::user_lifecycle;
use twofold_domain::{DomainError, UserId};

use crate::auth::RequestCtx;
use crate::{App, WriteDetails};

impl App {
    /// Deactivates (`deactivate`) or reactivates a user. An inactive user's
    /// tokens stop working and it cannot be checked into a session.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn set_user_active(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
        deactivate: bool,
    ) -> Result<WriteDetails, DomainError> {
        let missing = user_lifecycle::lifecycle_target_missing(deactivate);
        let user = self.user_to_act_on(ctx, user_id, missing).await?;
        self.on_user(ctx, &user, |s| {
            if deactivate {
                user_lifecycle::decide_deactivate(s)
            } else {
                user_lifecycle::decide_reactivate(s)
            }
        })
        .await
    }

    /// Records that the user skipped setting up a second factor (now).
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn mfa_init_skipped(&self, ctx: &RequestCtx, user_id: &UserId) -> Result<WriteDetails, DomainError> {
        let missing = DomainError::not_found("COMMAND-auj6jeBei4", "User could not be found");
        let user = self.user_to_act_on(ctx, user_id, missing).await?;
        self.on_user(ctx, &user, user_lifecycle::decide_mfa_init_skipped).await
    }
}
