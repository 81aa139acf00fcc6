//! [`PushTx`] on a PostgreSQL connection inside the writer's transaction.

use sqlx::PgConnection;
use twofold_app::StoreError;
use twofold_app::ports::UniqueClaim;
use twofold_domain::AggregateRef;
use twofold_domain::readmodel::DocKey;
use twofold_domain::snapshot::Snapshot;

use crate::push::{EventRow, PushTx};
use crate::shared::{self, db_error};

/// A document's new row (PostgreSQL generates its user columns).
const UPSERT_DOC: &str = "INSERT INTO docs (instance_id, collection, id, lookup, body) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (instance_id, collection, id) \
     DO UPDATE SET lookup = excluded.lookup, body = excluded.body";

impl PushTx for PgConnection {
    async fn last_sequence(&mut self, instance_id: &str, aggregate: &AggregateRef) -> Result<i64, StoreError> {
        let (last,): (i64,) = sqlx::query_as(shared::LAST_SEQUENCE)
            .bind(instance_id)
            .bind(aggregate.kind.as_str())
            .bind(aggregate.id.as_str())
            .fetch_one(&mut *self)
            .await
            .map_err(db_error)?;
        Ok(last)
    }

    async fn delete_claim(&mut self, claim: &UniqueClaim) -> Result<(), StoreError> {
        sqlx::query(shared::DELETE_CLAIM)
            .bind(claim.scope.as_str())
            .bind(claim.kind)
            .bind(claim.value.as_str())
            .execute(&mut *self)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn insert_claim(&mut self, claim: &UniqueClaim) -> Result<bool, StoreError> {
        let res = sqlx::query(shared::INSERT_CLAIM)
            .bind(claim.scope.as_str())
            .bind(claim.kind)
            .bind(claim.value.as_str())
            .execute(&mut *self)
            .await;
        match res {
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => Ok(false),
            other => other.map(|_| true).map_err(db_error),
        }
    }

    async fn upsert_snapshot(
        &mut self,
        instance_id: &str,
        aggregate: &AggregateRef,
        s: &Snapshot,
    ) -> Result<(), StoreError> {
        sqlx::query(shared::UPSERT_SNAPSHOT)
            .bind(instance_id)
            .bind(aggregate.kind.as_str())
            .bind(aggregate.id.as_str())
            .bind(s.version)
            .bind(s.sequence as i64)
            .bind(s.created_at.0)
            .bind(s.state.as_str())
            .execute(&mut *self)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn insert_event(&mut self, row: EventRow<'_>) -> Result<Option<i64>, StoreError> {
        let res = sqlx::query_as::<_, (i64,)>(shared::INSERT_EVENT)
            .bind(row.instance_id)
            .bind(row.aggregate.kind.as_str())
            .bind(row.aggregate.id.as_str())
            .bind(row.sequence)
            .bind(row.event_type)
            .bind(row.payload)
            .bind(row.creator)
            .bind(row.aggregate.owner.as_str())
            .bind(row.created_at)
            .fetch_one(&mut *self)
            .await;
        match res {
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => Ok(None),
            other => other.map(|(position,)| Some(position)).map_err(db_error),
        }
    }

    async fn select_doc(
        &mut self,
        instance_id: &str,
        collection: &str,
        id: &str,
    ) -> Result<Option<String>, StoreError> {
        let body: Option<(String,)> = sqlx::query_as(shared::SELECT_DOC)
            .bind(instance_id)
            .bind(collection)
            .bind(id)
            .fetch_optional(&mut *self)
            .await
            .map_err(db_error)?;
        Ok(body.map(|(b,)| b))
    }

    async fn upsert_doc(
        &mut self,
        instance_id: &str,
        key: &DocKey,
        lookup: Option<&str>,
        body: &str,
        _new: bool,
    ) -> Result<(), StoreError> {
        sqlx::query(UPSERT_DOC)
            .bind(instance_id)
            .bind(key.collection.as_str())
            .bind(key.id.as_str())
            .bind(lookup)
            .bind(body)
            .execute(&mut *self)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn delete_doc(&mut self, instance_id: &str, key: &DocKey) -> Result<(), StoreError> {
        sqlx::query(shared::DELETE_DOC)
            .bind(instance_id)
            .bind(key.collection.as_str())
            .bind(key.id.as_str())
            .execute(&mut *self)
            .await
            .map_err(db_error)?;
        Ok(())
    }
}
