//! Typed access to read-model documents.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use twofold_domain::readmodel::Collection;
use twofold_domain::{DomainError, InstanceId};

use crate::App;
use crate::command::store_error;
use crate::ports::Doc;

impl App {
    pub(crate) async fn typed_doc<T: DeserializeOwned>(
        &self,
        instance_id: &InstanceId,
        collection: Collection,
        id: &str,
    ) -> Result<Option<T>, DomainError> {
        let doc = self.store.doc(instance_id, collection, id).await.map_err(store_error)?;
        doc.map(|d| T::deserialize(&*d).map_err(|e| internal_doc_error(collection, e)))
            .transpose()
    }

    /// As [`Self::typed_doc`], shared and parsed once per stored version
    /// (`parsed.rs`): for the documents nearly every request reads.
    pub(crate) async fn shared_doc<T: DeserializeOwned + Send + Sync + 'static>(
        &self,
        instance_id: &InstanceId,
        collection: Collection,
        id: &str,
    ) -> Result<Option<Arc<T>>, DomainError> {
        let doc = self.store.doc(instance_id, collection, id).await.map_err(store_error)?;
        doc.map(|d| self.parsed.get(&d).map_err(|e| internal_doc_error(collection, e)))
            .transpose()
    }

    pub(crate) async fn typed_prefix<T: DeserializeOwned>(
        &self,
        instance_id: &InstanceId,
        collection: Collection,
        prefix: &str,
    ) -> Result<Vec<T>, DomainError> {
        let docs = self
            .store
            .docs_by_prefix(instance_id, collection, prefix)
            .await
            .map_err(store_error)?;
        parse_all(collection, docs)
    }

    pub(crate) async fn typed_lookup<T: DeserializeOwned>(
        &self,
        instance_id: &InstanceId,
        collection: Collection,
        lookup: &str,
    ) -> Result<Vec<T>, DomainError> {
        let docs = self
            .store
            .docs_by_lookup(instance_id, collection, lookup)
            .await
            .map_err(store_error)?;
        parse_all(collection, docs)
    }
}

/// Documents of `collection` as `T`s.
pub(crate) fn parse_all<T: DeserializeOwned>(collection: Collection, docs: Vec<Doc>) -> Result<Vec<T>, DomainError> {
    docs.into_iter()
        .map(|d| T::deserialize(&*d).map_err(|e| internal_doc_error(collection, e)))
        .collect()
}

pub(crate) fn internal_doc_error(collection: Collection, e: serde_json::Error) -> DomainError {
    tracing::error!(collection = collection.as_str(), error = %e, "unreadable read-model document");
    DomainError::internal("QUERY-Doc01", "An internal error occurred")
}
