//! The served RPCs as the descriptor pool describes them: gRPC path, REST
//! route and required permission, read once from our `twofold.api.v1`
//! method options. Auth and the REST transcoder both work from this table.

use std::collections::HashMap;
use std::sync::Arc;

use prost_reflect::{DescriptorPool, MessageDescriptor};
use prost_types::method_options::IdempotencyLevel;
use twofold_proto::twofold::api::v1::{AuthOption, HttpRoute};

pub struct MethodInfo {
    /// `/zitadel.admin.v1.AdminService/GetLoginPolicy`
    pub grpc_path: String,
    /// None: no token needed (health checks).
    pub permission: Option<String>,
    /// Reachable before force_mfa is satisfied (factor enrolment).
    pub enrolment: bool,
    pub http: Option<HttpRoute>,
    /// Declared `idempotency_level = NO_SIDE_EFFECTS`: Connect serves it by GET too.
    pub no_side_effects: bool,
    pub input: MessageDescriptor,
    pub output: MessageDescriptor,
}

pub struct Methods {
    by_path: HashMap<String, Arc<MethodInfo>>,
}

/// The embedded descriptors or their options do not say what the server
/// needs: a build defect, reported at start instead of serving.
#[derive(Debug)]
pub struct DescriptorError(pub String);

impl std::fmt::Display for DescriptorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "embedded API descriptors: {}", self.0)
    }
}

impl std::error::Error for DescriptorError {}

impl Methods {
    pub fn load() -> Result<Arc<Self>, DescriptorError> {
        let fail = |what: &str| DescriptorError(what.to_owned());
        let pool = DescriptorPool::decode(twofold_proto::DESCRIPTOR_SET).map_err(|e| fail(&e.to_string()))?;
        let http_ext = pool
            .get_extension_by_name("twofold.api.v1.http")
            .ok_or_else(|| fail("option twofold.api.v1.http is not declared"))?;
        let auth_ext = pool
            .get_extension_by_name("twofold.api.v1.auth")
            .ok_or_else(|| fail("option twofold.api.v1.auth is not declared"))?;
        let mut by_path = HashMap::new();
        for service in pool.services() {
            for m in service.methods() {
                let opts = m.options();
                let http = opts
                    .has_extension(&http_ext)
                    .then(|| {
                        opts.get_extension(&http_ext)
                            .as_message()
                            .map(|v| v.transcode_to::<HttpRoute>())
                    })
                    .flatten()
                    .transpose()
                    .map_err(|e| fail(&format!("http option of {}: {e}", m.full_name())))?;
                let auth = opts
                    .has_extension(&auth_ext)
                    .then(|| {
                        opts.get_extension(&auth_ext)
                            .as_message()
                            .map(|v| v.transcode_to::<AuthOption>())
                    })
                    .flatten()
                    .transpose()
                    .map_err(|e| fail(&format!("auth option of {}: {e}", m.full_name())))?;
                let no_side_effects = m
                    .method_descriptor_proto()
                    .options
                    .as_ref()
                    .is_some_and(|o| o.idempotency_level() == IdempotencyLevel::NoSideEffects);
                let grpc_path = format!("/{}/{}", service.full_name(), m.name());
                by_path.insert(
                    grpc_path.clone(),
                    Arc::new(MethodInfo {
                        grpc_path,
                        enrolment: auth.as_ref().is_some_and(|a| a.enrolment),
                        permission: auth.map(|a| a.permission),
                        http,
                        no_side_effects,
                        input: m.input(),
                        output: m.output(),
                    }),
                );
            }
        }
        Ok(Arc::new(Self { by_path }))
    }

    pub fn get(&self, grpc_path: &str) -> Option<&Arc<MethodInfo>> {
        self.by_path.get(grpc_path)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<MethodInfo>> {
        self.by_path.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_read() {
        let m = Methods::load().unwrap();
        let add = m
            .get("/zitadel.admin.v1.AdminService/AddSecondFactorToLoginPolicy")
            .unwrap();
        assert_eq!(add.permission.as_deref(), Some("iam.policy.write"));
        let http = add.http.as_ref().unwrap();
        assert_eq!(
            (http.post.as_str(), http.body.as_str()),
            ("/admin/v1/policies/login/second_factors", "*")
        );
        let health = m.get("/zitadel.admin.v1.AdminService/Healthz").unwrap();
        assert_eq!(health.permission, None);
        assert!(health.no_side_effects && !add.no_side_effects);
    }
}
