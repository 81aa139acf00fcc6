//! The served RPCs as the descriptor pool describes them: gRPC path, REST
//! route and required permission, read once from our `twofold.api.v1`
//! method options. Auth and the REST transcoder both work from this table.

use std::collections::HashMap;
use std::sync::Arc;

use prost_reflect::{DescriptorPool, MessageDescriptor};
use twofold_proto::twofold::api::v1::{AuthOption, HttpRoute};

pub struct MethodInfo {
    /// `/zitadel.admin.v1.AdminService/GetLoginPolicy`
    pub grpc_path: String,
    /// None: no token needed (health checks).
    pub permission: Option<String>,
    /// Reachable before force_mfa is satisfied (factor enrolment).
    pub enrolment: bool,
    pub http: Option<HttpRoute>,
    pub input: MessageDescriptor,
    pub output: MessageDescriptor,
}

pub struct Methods {
    by_path: HashMap<String, Arc<MethodInfo>>,
}

impl Methods {
    pub fn load() -> Arc<Self> {
        let pool = DescriptorPool::decode(twofold_proto::DESCRIPTOR_SET).expect("embedded descriptors decode");
        let http_ext = pool
            .get_extension_by_name("twofold.api.v1.http")
            .expect("http option declared");
        let auth_ext = pool
            .get_extension_by_name("twofold.api.v1.auth")
            .expect("auth option declared");
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
                    .expect("http option decodes");
                let auth = opts
                    .has_extension(&auth_ext)
                    .then(|| {
                        opts.get_extension(&auth_ext)
                            .as_message()
                            .map(|v| v.transcode_to::<AuthOption>())
                    })
                    .flatten()
                    .transpose()
                    .expect("auth option decodes");
                let grpc_path = format!("/{}/{}", service.full_name(), m.name());
                by_path.insert(
                    grpc_path.clone(),
                    Arc::new(MethodInfo {
                        grpc_path,
                        enrolment: auth.as_ref().is_some_and(|a| a.enrolment),
                        permission: auth.map(|a| a.permission),
                        http,
                        input: m.input(),
                        output: m.output(),
                    }),
                );
            }
        }
        Arc::new(Self { by_path })
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
        let m = Methods::load();
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
    }
}
