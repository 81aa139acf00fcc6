//! PostgreSQL: for several Twofold processes on one database.
//!
//! Appends take a transaction-scoped advisory lock per instance, so they
//! commit one after another and the global `position` of an instance's
//! events only grows in commit order: a reader that has seen position N can
//! never later find a committed event below N (the usual out-of-order
//! sequence pitfall). Read models are written in the same transaction, so a
//! write acknowledged by one node is visible to every node's next read.

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};

use crate::{StoreOptions, shared};

pub struct PgStore {
    read: PgPool,
    /// Several nodes write the database: nothing is cached.
    cache: Option<std::sync::Arc<crate::cache::Cache>>,
}

impl PgStore {
    pub async fn open(url: &str, opts: &StoreOptions) -> Result<Self, crate::OpenError> {
        let read = PgPoolOptions::new()
            .max_connections(opts.max_connections.max(2))
            .acquire_timeout(opts.acquire_timeout)
            .connect(url)
            .await?;
        // sqlx holds an advisory lock while migrating, so nodes starting
        // together apply each migration once.
        sqlx::migrate!("../../migrations/postgres").run(&read).await?;
        Ok(Self { read, cache: None })
    }

    async fn begin_write(&self, instance_id: &str) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let mut tx = self.read.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('twofold-append:' || $1))")
            .bind(instance_id)
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// One transaction per push; concurrent commits are grouped by
    /// PostgreSQL itself (so each commit is a batch of one).
    async fn submit(
        &self,
        req: twofold_app::ports::PushRequest,
    ) -> Result<Vec<twofold_domain::StoredEvent>, twofold_app::StoreError> {
        let started = std::time::Instant::now();
        let mut tx = self.begin_write(&req.instance_id).await.map_err(shared::db_error)?;
        let applied = Self::apply_push(&mut tx, &req).await?;
        tx.commit().await.map_err(shared::db_error)?;
        twofold_app::metrics::commit(1, started.elapsed());
        Ok(applied.stored)
    }

    /// A failed transaction is rolled back when sqlx returns its connection
    /// to the pool (or the connection is dropped), so nothing stays behind
    /// to block later writes: the database answering is enough.
    async fn writer_ready(&self) -> Result<(), twofold_app::StoreError> {
        Ok(())
    }

    fn meta_writer(&self) -> &PgPool {
        &self.read
    }

    async fn close_pools(&self) {
        self.read.close().await;
    }
}

shared::impl_event_store!(PgStore, Postgres);
