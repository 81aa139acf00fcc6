//! Client secrets of machine users (Management API v1), for the
//! client-credentials grant, and their check at the token endpoint.

use twofold_domain::machine_secret;
use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::directory::{UserKind, UserState as UserViewState, UserView};
use twofold_domain::{AggregateRef, DomainError, InstanceId, UserId};

use crate::auth::RequestCtx;
use crate::command::Decision;
use crate::{App, WriteDetails};

/// A machine secret as generated: shown this once.
pub struct MachineSecret {
    /// What the machine user authenticates as: its login name.
    pub client_id: String,
    pub client_secret: String,
    pub details: WriteDetails,
}

impl App {
    /// GenerateMachineSecret: a new secret for a machine user of the
    /// context org, replacing any earlier one.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn generate_machine_secret(
        &self,
        ctx: &RequestCtx,
        user_id: &UserId,
    ) -> Result<MachineSecret, DomainError> {
        let (secret, hash) = self.new_secret();
        let (details, user_name) = self
            .execute_many_with(
                &ctx.instance_id,
                ctx.caller.user_id.as_str(),
                vec![AggregateRef::user(user_id, &ctx.org_id)],
                |loaded| {
                    let state = crate::command::user_state(loaded, 0);
                    let events = machine_secret::decide_set(&state, &ctx.org_id, &hash)?;
                    Ok((Decision::one(events), state.user_name))
                },
            )
            .await?;
        Ok(MachineSecret {
            client_id: user_name,
            client_secret: secret,
            details,
        })
    }

    /// RemoveMachineSecret.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn remove_machine_secret(&self, ctx: &RequestCtx, user_id: &UserId) -> Result<WriteDetails, DomainError> {
        self.execute_on_user(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            AggregateRef::user(user_id, &ctx.org_id),
            |s| machine_secret::decide_remove(s, &ctx.org_id),
        )
        .await
    }

    /// Client authentication of a machine user by login name and secret
    /// (client-credentials grant). Every failure is the same answer.
    pub async fn verify_machine_secret(
        &self,
        instance_id: &InstanceId,
        login_name: &str,
        secret: &str,
    ) -> Result<UserId, DomainError> {
        let refused = || DomainError::precondition("OIDC-VoXo6", "Errors.User.Machine.Secret.Invalid");
        let user = self
            .typed_lookup::<UserView>(instance_id, Collection::User, &login_name.to_lowercase())
            .await?
            .into_iter()
            .find(|u| matches!(u.kind, UserKind::Machine { .. }) && u.state == UserViewState::Active);
        let hash = match &user {
            Some(u) => {
                self.load_user(instance_id, &AggregateRef::user(&u.id, &u.org_id))
                    .await?
                    .machine_secret
            }
            None => None,
        };
        // Hashed even without a stored secret: the time taken tells nothing.
        let matches = self.keys.verify_client_secret(secret, hash.as_deref().unwrap_or(""));
        match user {
            Some(u) if matches && hash.is_some() => Ok(u.id),
            _ => Err(refused()),
        }
    }
}
