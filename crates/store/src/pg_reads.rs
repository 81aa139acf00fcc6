//! [`PointReads`] on PostgreSQL: each statement on a connection of the pool.

use std::sync::Arc;

use sqlx::PgPool;
use twofold_app::StoreError;
use twofold_domain::snapshot::Snapshot;
use twofold_domain::{AggregateRef, StoredEvent};

use crate::shared::{self, PointReads, db_error};

/// The columns of `SELECT_EVENTS`, in order.
type EventColumns = (
    String,
    String,
    String,
    i64,
    i64,
    String,
    Option<String>,
    String,
    String,
    i64,
);

impl PointReads for PgPool {
    async fn doc(&self, instance_id: &str, collection: &str, id: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(shared::SELECT_DOC)
            .bind(instance_id)
            .bind(collection)
            .bind(id)
            .fetch_optional(self)
            .await
            .map_err(db_error)?;
        Ok(row.map(|(b,)| b))
    }

    async fn doc_any_instance(&self, collection: &str, id: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(shared::SELECT_DOC_ANY_INSTANCE)
            .bind(collection)
            .bind(id)
            .fetch_optional(self)
            .await
            .map_err(db_error)?;
        Ok(row.map(|(b,)| b))
    }

    async fn docs_by_lookup(
        &self,
        instance_id: &str,
        collection: &str,
        lookup: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        sqlx::query_as(shared::SELECT_DOCS_BY_LOOKUP)
            .bind(instance_id)
            .bind(collection)
            .bind(lookup)
            .fetch_all(self)
            .await
            .map_err(db_error)
    }

    async fn docs_by_prefix(
        &self,
        instance_id: &str,
        collection: &str,
        prefix: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(shared::SELECT_DOCS_BY_PREFIX)
            .bind(instance_id)
            .bind(collection)
            .bind(prefix)
            .fetch_all(self)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(|(b,)| b).collect())
    }

    async fn snapshot(
        &self,
        instance_id: &str,
        aggregate: &AggregateRef,
        version: i64,
    ) -> Result<Option<Arc<Snapshot>>, StoreError> {
        let row: Option<(i64, i64, String)> = sqlx::query_as(shared::SELECT_SNAPSHOT)
            .bind(instance_id)
            .bind(aggregate.kind.as_str())
            .bind(aggregate.id.as_str())
            .bind(version)
            .fetch_optional(self)
            .await
            .map_err(db_error)?;
        Ok(row.map(|r| shared::snapshot_of(version, r)))
    }

    async fn events_after(
        &self,
        instance_id: &str,
        aggregate: &AggregateRef,
        after: u64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows: Vec<EventColumns> = sqlx::query_as(shared::SELECT_EVENTS)
            .bind(instance_id)
            .bind(aggregate.kind.as_str())
            .bind(aggregate.id.as_str())
            .bind(after as i64)
            .fetch_all(self)
            .await
            .map_err(db_error)?;
        rows.into_iter()
            .map(|(i, t, a, s, p, ty, payload, creator, owner, at)| {
                shared::event_of((i, t, a, s, p), (ty, payload, creator, owner, at))
            })
            .collect()
    }

    async fn key_check(&self) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(shared::SELECT_META)
            .bind(shared::KEY_CHECK)
            .fetch_optional(self)
            .await
            .map_err(db_error)?;
        Ok(row.map(|(v,)| v))
    }
}
