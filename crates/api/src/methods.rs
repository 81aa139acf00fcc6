//! The served RPCs as the descriptor pool describes them: gRPC path, REST
//! route and required permission, read once from our `twofold.api.v1`
//! method options. Auth and the REST transcoder both work from this table.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use prost_reflect::{DescriptorPool, Kind, MessageDescriptor};
use prost_types::method_options::IdempotencyLevel;
use twofold_app::auth::MethodAuth;
use twofold_domain::permissions::{CheckedOn, OnSelf, Permission, ResourceCheck};
use twofold_proto::twofold::api::v1::{self as opts, AuthOption, HttpRoute};

use crate::wire_json;

pub struct MethodInfo {
    /// `/zitadel.admin.v1.AdminService/GetLoginPolicy` (shared: it labels
    /// every request's metrics)
    pub grpc_path: Arc<str>,
    /// None: no token needed (health checks).
    pub auth: Option<MethodAuth>,
    pub http: Option<HttpRoute>,
    /// Declared `idempotency_level = NO_SIDE_EFFECTS`: Connect serves it by GET too.
    pub no_side_effects: bool,
    pub input: MessageDescriptor,
    pub output: MessageDescriptor,
    /// The answer can hold a double or float somewhere (its JSON then needs
    /// protojson's whole-number rewrite, `rest::to_json`).
    pub output_has_floats: bool,
    /// Writes the answer's JSON from its encoding, when its types allow.
    pub output_json: Option<wire_json::Writer>,
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

/// The value of `permission` in an auth option that asks only for a token.
const AUTHENTICATED: &str = "authenticated";

fn permission(name: &str) -> Result<Permission, String> {
    Permission::parse(name).ok_or_else(|| format!("unknown permission {name:?}"))
}

/// An auth option as the server uses it; a permission no role grants, or a
/// check that does not say where it applies, is refused.
fn method_auth(a: AuthOption) -> Result<MethodAuth, String> {
    let check = match a.check {
        None => None,
        Some(c) => {
            let on = match opts::CheckedOn::try_from(c.on) {
                Ok(opts::CheckedOn::TargetUser) => CheckedOn::TargetUser,
                Ok(opts::CheckedOn::RequestedOrg) => CheckedOn::RequestedOrg,
                Ok(opts::CheckedOn::SessionUser) => CheckedOn::SessionUser,
                Ok(opts::CheckedOn::Instance) => CheckedOn::Instance,
                _ => return Err(format!("check on {} names no org", c.permission)),
            };
            let on_self = match (c.self_allowed, c.self_permission.as_str()) {
                (false, "") => OnSelf::Same,
                (true, "") => OnSelf::Allowed,
                (false, p) => OnSelf::Or(permission(p)?),
                (true, _) => return Err("self_allowed and self_permission together".to_owned()),
            };
            let on_a_user = matches!(on, CheckedOn::TargetUser | CheckedOn::SessionUser);
            if on_self != OnSelf::Same && !on_a_user {
                return Err("a self rule needs a check on a user".to_owned());
            }
            if c.session_token_allowed && on != CheckedOn::SessionUser {
                return Err("a session token stands in only for a check on the session user".to_owned());
            }
            Some(ResourceCheck {
                permission: permission(&c.permission)?,
                on,
                on_self,
                session_token: c.session_token_allowed,
            })
        }
    };
    Ok(MethodAuth {
        permission: match a.permission.as_str() {
            AUTHENTICATED => None,
            p => Some(permission(p)?),
        },
        enrolment: a.enrolment,
        check,
    })
}

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
        let mut plans = wire_json::Plans::default();
        for m in pool.services().flat_map(|s| s.methods().collect::<Vec<_>>()) {
            plans.add(&m.output());
        }
        let json_writers = plans.finish();
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
                let auth = auth
                    .map(method_auth)
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
                        grpc_path: grpc_path.into(),
                        auth,
                        http,
                        no_side_effects,
                        input: m.input(),
                        output_has_floats: has_floats(&m.output()),
                        output_json: json_writers.get(&m.output()),
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

/// Whether a double or float field is reachable from `message`.
pub(crate) fn has_floats(message: &MessageDescriptor) -> bool {
    let mut seen = HashSet::new();
    let mut todo = vec![message.clone()];
    while let Some(m) = todo.pop() {
        if !seen.insert(m.full_name().to_owned()) {
            continue;
        }
        for field in m.fields() {
            match field.kind() {
                Kind::Double | Kind::Float => return true,
                Kind::Message(inner) => todo.push(inner),
                _ => {}
            }
        }
    }
    false
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
        let auth = add.auth.as_ref().unwrap();
        assert_eq!(auth.permission, Some(Permission::IamPolicyWrite));
        assert_eq!(auth.check, None);
        let http = add.http.as_ref().unwrap();
        assert_eq!(
            (http.post.as_str(), http.body.as_str()),
            ("/admin/v1/policies/login/second_factors", "*")
        );
        assert!(!add.output_has_floats);
        let health = m.get("/zitadel.admin.v1.AdminService/Healthz").unwrap();
        assert_eq!(health.auth, None);
        assert!(health.no_side_effects && !add.no_side_effects);
        let delete = m.get("/zitadel.user.v2.UserService/DeleteUser").unwrap();
        let auth = delete.auth.as_ref().unwrap();
        assert_eq!(auth.permission, None);
        assert_eq!(
            auth.check,
            Some(ResourceCheck {
                permission: Permission::UserDelete,
                on: CheckedOn::TargetUser,
                on_self: OnSelf::Or(Permission::UserSelfDelete),
                session_token: false,
            })
        );
        let set = m.get("/zitadel.session.v2.SessionService/SetSession").unwrap();
        assert_eq!(
            set.auth.as_ref().and_then(|a| a.check),
            Some(ResourceCheck {
                permission: Permission::SessionWrite,
                on: CheckedOn::SessionUser,
                on_self: OnSelf::Same,
                session_token: true,
            })
        );
    }

    /// Their use cases refuse to run without the check (AUTHZ-NoChk).
    #[test]
    fn user_and_session_rpcs_declare_their_checks() {
        let m = Methods::load().unwrap();
        let v2_rpcs: Vec<_> = m
            .iter()
            .filter(|i| {
                i.grpc_path.starts_with("/zitadel.user.v2.UserService/")
                    || i.grpc_path.starts_with("/zitadel.session.v2.SessionService/")
            })
            .collect();
        assert!(v2_rpcs.len() > 25);
        for i in v2_rpcs {
            assert!(i.auth.as_ref().is_some_and(|a| a.check.is_some()), "{}", i.grpc_path);
        }
    }

    #[test]
    fn bad_auth_options_are_refused() {
        let opt = |permission: &str, check: Option<opts::ResourceCheck>| AuthOption {
            permission: permission.to_owned(),
            enrolment: false,
            check,
        };
        let check = |permission: &str, on: opts::CheckedOn, self_allowed: bool, self_permission: &str| {
            Some(opts::ResourceCheck {
                permission: permission.to_owned(),
                on: on as i32,
                self_allowed,
                self_permission: self_permission.to_owned(),
                session_token_allowed: false,
            })
        };
        let with_token = |mut c: Option<opts::ResourceCheck>| {
            if let Some(c) = &mut c {
                c.session_token_allowed = true;
            }
            c
        };
        use opts::CheckedOn::*;
        assert!(method_auth(opt("user.write", None)).is_ok());
        assert!(method_auth(opt("authenticated", check("user.write", TargetUser, true, ""))).is_ok());
        assert!(
            method_auth(opt(
                "authenticated",
                with_token(check("session.delete", SessionUser, true, ""))
            ))
            .is_ok()
        );
        for bad in [
            opt("user.writ", None),
            opt("", None),
            opt("authenticated", check("user.nope", TargetUser, false, "")),
            opt("authenticated", check("user.write", Unspecified, false, "")),
            opt(
                "authenticated",
                check("user.write", TargetUser, true, "user.self.delete"),
            ),
            opt(
                "authenticated",
                check("user.delete", TargetUser, false, "user.selfdelete"),
            ),
            opt("authenticated", check("user.write", RequestedOrg, true, "")),
            opt("authenticated", check("session.write", Instance, true, "")),
            opt("authenticated", with_token(check("user.write", TargetUser, false, ""))),
        ] {
            assert!(method_auth(bad.clone()).is_err(), "{bad:?}");
        }
    }
}
