//! First start: creates the instance, its default login policy, a first org
//! and an `admin` machine user with a personal access token. Idempotent, also
//! across processes: the default instance and its domains are claimed
//! atomically with its events, so only one start ever creates it.

use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::directory::DEFAULT_INSTANCE_ID;
use twofold_domain::setup::{self, InstanceSetup};
use twofold_domain::{DomainError, InstanceId, OrgId, Timestamp, UserId, org};

use serde::Deserialize;
use twofold_domain::AggregateRef;
use twofold_domain::event::{DomainPayload, EventPayload};
use twofold_domain::readmodel::directory::InstanceDomainView;

use crate::command::{Decision, store_error};
use crate::docs::internal_doc_error;
use crate::ports::{StoreError, UniqueClaim};
use crate::{App, secrets};

pub struct BootstrapConfig {
    /// Hosts (without port) that reach the instance; the first is its external domain.
    pub domains: Vec<String>,
    pub org_name: String,
}

/// What a bootstrap that created the instance hands back once.
pub struct Bootstrapped {
    pub instance_id: InstanceId,
    pub admin_token: String,
}

/// How the master key a start was given relates to the database.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyVerdict {
    /// The database recorded this key.
    Matches,
    /// Nothing recorded yet: a new database, or one created before key
    /// checks existed; [`App::record_master_key`] records it.
    Unrecorded,
    /// The database recorded another key.
    Mismatch,
    /// The key was just generated but the database was used with another
    /// one (it records a check, or holds an instance): its secrets are
    /// sealed under a key this start lacks.
    Lost,
}

/// PATs without an expiration date expire at 9999-12-31T23:59:59Z.
const NEVER: Timestamp = Timestamp(253_402_300_799_000_000);

impl App {
    /// A domain configured after the first start (a changed
    /// `--external-domain`) is added to the instance.
    async fn add_missing_domains(&self, instance_id: &InstanceId, domains: &[String]) -> Result<(), DomainError> {
        for domain in domains {
            let known = self
                .store
                .doc_any_instance(Collection::InstanceDomain, domain)
                .await
                .map_err(store_error)?;
            if known.is_some() {
                continue;
            }
            let claim = UniqueClaim {
                scope: String::new(),
                kind: "instance_domain",
                value: domain.clone(),
            };
            let added = EventPayload::InstanceDomainAdded(DomainPayload { domain: domain.clone() });
            let result = self
                .execute_many(instance_id, "system", vec![AggregateRef::instance(instance_id)], |_| {
                    Ok(Decision {
                        events: vec![vec![added.clone()]],
                        claims: vec![claim.clone()],
                        ..Decision::default()
                    })
                })
                .await;
            match result {
                Ok(_) => tracing::info!(%domain, "domain added to the instance"),
                // Another node added it at the same moment.
                Err(e) if e.kind == twofold_domain::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Compares the master key with the check the database recorded,
    /// changing nothing. `generated`: the key was made up by this start.
    pub async fn verify_master_key(&self, generated: bool) -> Result<KeyVerdict, DomainError> {
        let expected = self.keys.check_value();
        match self.store.key_check().await.map_err(store_error)? {
            Some(recorded) if recorded == expected => Ok(KeyVerdict::Matches),
            Some(_) if generated => Ok(KeyVerdict::Lost),
            Some(_) => Ok(KeyVerdict::Mismatch),
            None if generated && self.instance_exists().await? => Ok(KeyVerdict::Lost),
            None => Ok(KeyVerdict::Unrecorded),
        }
    }

    /// Records the master key check unless one is recorded (another node
    /// may have recorded its own at the same moment: verify again after).
    pub async fn record_master_key(&self) -> Result<(), DomainError> {
        self.store
            .record_key_check(&self.keys.check_value())
            .await
            .map_err(store_error)
    }

    /// Whether the instance was created (by any earlier start).
    pub async fn instance_exists(&self) -> Result<bool, DomainError> {
        let existing = self
            .store
            .doc_any_instance(Collection::DefaultInstance, DEFAULT_INSTANCE_ID)
            .await
            .map_err(store_error)?;
        Ok(existing.is_some())
    }

    /// Creates the instance unless it exists; returns the admin token only
    /// when this call created it.
    pub async fn bootstrap(&self, cfg: &BootstrapConfig) -> Result<Option<Bootstrapped>, DomainError> {
        let external = cfg
            .domains
            .first()
            .ok_or_else(|| DomainError::invalid("SETUP-NoDom", "an external domain is required"))?;
        let existing = self
            .store
            .doc_any_instance(Collection::DefaultInstance, DEFAULT_INSTANCE_ID)
            .await
            .map_err(store_error)?;
        if let Some(existing) = existing {
            let instance = InstanceDomainView::deserialize(&*existing)
                .map_err(|e| internal_doc_error(Collection::DefaultInstance, e))?;
            self.add_missing_domains(&instance.instance_id, &cfg.domains).await?;
            return Ok(None);
        }

        let token = secrets::random_token(32);
        let s = InstanceSetup {
            instance_id: InstanceId::new(self.ids.next()),
            instance_name: "Twofold".into(),
            domains: cfg.domains.clone(),
            org_id: OrgId::new(self.ids.next()),
            org_name: cfg.org_name.clone(),
            org_domain: org::generated_domain(&cfg.org_name, external).unwrap_or_else(|| format!("org.{external}")),
            admin_user_id: UserId::new(self.ids.next()),
            admin_token_id: self.ids.next(),
            admin_token_hash: self.keys.token_hash(&token),
            admin_token_expiration: NEVER,
        };
        let system_claim = |kind, value: &str| UniqueClaim {
            scope: String::new(),
            kind,
            value: value.to_owned(),
        };
        let mut claims = vec![system_claim("default_instance", DEFAULT_INSTANCE_ID)];
        claims.extend(cfg.domains.iter().map(|d| system_claim("instance_domain", d)));
        match self
            .create(&s.instance_id, "system", setup::instance_events(&s), claims)
            .await
        {
            Ok(_) => Ok(Some(Bootstrapped {
                instance_id: s.instance_id,
                admin_token: token,
            })),
            // Another process created it between our check and our push.
            Err(StoreError::Taken(_)) => Ok(None),
            Err(e) => Err(store_error(e)),
        }
    }
}
