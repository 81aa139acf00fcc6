//! How REST and Connect reach an RPC: the admission every transport passes
//! (`auth::admit`, then `nul_strings::check`, as in the gRPC layer), then
//! the service's trait method called in-process with the request message
//! (the tables generated beside tonic's servers, `twofold_proto::direct`),
//! without gRPC framing, the gRPC router or tonic's codec in between.

use std::collections::HashMap;

use bytes::Bytes;
use http::HeaderMap;
use tonic::metadata::MetadataMap;
use tonic::{Code, Status};
use tracing::Instrument;
use twofold_app::App;
use twofold_proto::direct::DirectCall;

use crate::methods::{DescriptorError, MethodInfo, Methods};
use crate::{auth, nul_strings, observe};

pub struct Direct {
    app: App,
    calls: HashMap<&'static str, DirectCall>,
}

impl Direct {
    /// `tables`: the generated `<service>_direct` tables of the served
    /// services, which together must cover every described method.
    pub fn new(
        app: App,
        methods: &Methods,
        tables: impl IntoIterator<Item = Vec<(&'static str, DirectCall)>>,
    ) -> Result<Self, DescriptorError> {
        let calls: HashMap<_, _> = tables.into_iter().flatten().collect();
        if let Some(m) = methods.iter().find(|m| !calls.contains_key(&*m.grpc_path)) {
            return Err(DescriptorError(format!("{} is not served", m.grpc_path)));
        }
        Ok(Self { app, calls })
    }

    /// Calls `method` with the encoded request `message` on behalf of the
    /// client whose request head is `parts`; the encoded answer.
    pub async fn call(
        &self,
        method: &MethodInfo,
        parts: &mut http::request::Parts,
        message: Bytes,
    ) -> Result<Vec<u8>, Status> {
        observe::method(&method.grpc_path);
        let result = self
            .admit_and_call(method, parts, message)
            .instrument(observe::span(&method.grpc_path))
            .await;
        observe::code(result.as_ref().err().map_or(Code::Ok, Status::code));
        result
    }

    async fn admit_and_call(
        &self,
        method: &MethodInfo,
        parts: &mut http::request::Parts,
        message: Bytes,
    ) -> Result<Vec<u8>, Status> {
        let call = self
            .calls
            .get(&*method.grpc_path)
            .ok_or_else(|| Status::unimplemented(format!("unknown method {}", method.grpc_path)))?;
        auth::admit(&self.app, method, parts).await?;
        nul_strings::check(method, &message)?;
        let extensions = std::mem::take(&mut parts.extensions);
        call(tonic::Request::from_parts(
            metadata(&parts.headers),
            extensions,
            message,
        ))
        .await
    }
}

/// The request headers handlers may read as gRPC metadata (auth, instance
/// host, org context, language, the policy preview switch).
fn metadata(headers: &HeaderMap) -> MetadataMap {
    let mut forwarded = HeaderMap::new();
    for (name, value) in headers {
        let n = name.as_str();
        if n == "authorization"
            || n == "host"
            || n == "accept-language"
            || n.starts_with("x-zitadel-")
            || n == crate::policy_preview::FORCE_HEADER
        {
            forwarded.append(name.clone(), value.clone());
        }
    }
    MetadataMap::from_headers(forwarded)
}
