//! Organization queries.

use twofold_domain::DomainError;
use twofold_domain::readmodel::collection;
use twofold_domain::readmodel::directory::OrgView;

use crate::App;

impl App {
    pub async fn org(&self, instance_id: &str, org_id: &str) -> Result<OrgView, DomainError> {
        self.typed_doc(instance_id, collection::ORG, org_id)
            .await?
            .ok_or_else(|| DomainError::not_found("QUERY-leq5Q", "Organisation not found"))
    }
}
