//! Generated protobuf and gRPC code for the API Twofold serves.
// Generated code: prost lays out oneofs as it must.
#![allow(clippy::large_enum_variant)]

/// Encoded `FileDescriptorSet` of every served file (with imports and options).
pub const DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptor.bin"));

/// What the generated `<service>_direct` tables are made of (see build.rs):
/// a service's trait method called in-process, the way the REST and Connect
/// transports reach it without gRPC framing or the gRPC router.
pub mod direct {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;

    use prost::Message;
    use prost::bytes::Bytes;
    use tonic::{Request, Response, Status};

    pub type DirectFuture = Pin<Box<dyn Future<Output = Result<Vec<u8>, Status>> + Send>>;

    /// One RPC: the encoded request message, with the metadata and
    /// extensions its handler reads, in; the encoded answer out.
    pub type DirectCall = Arc<dyn Fn(Request<Bytes>) -> DirectFuture + Send + Sync>;

    pub fn call<F, Fut>(f: F) -> DirectCall
    where
        F: Fn(Request<Bytes>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<u8>, Status>> + Send + 'static,
    {
        Arc::new(move |req| Box::pin(f(req)))
    }

    /// The typed request; bytes that are no such message are the client's
    /// error, worded as the gRPC transport words it (`grpc_decode` in the API).
    pub fn decode<M: Message + Default>(req: Request<Bytes>) -> Result<Request<M>, Status> {
        let (metadata, extensions, message) = req.into_parts();
        let message =
            M::decode(message).map_err(|e| Status::invalid_argument(format!("invalid request message: {e}")))?;
        Ok(Request::from_parts(metadata, extensions, message))
    }

    pub fn encode<M: Message>(resp: Result<Response<M>, Status>) -> Result<Vec<u8>, Status> {
        resp.map(|r| r.into_inner().encode_to_vec())
    }
}

pub mod twofold {
    pub mod api {
        pub mod v1 {
            tonic::include_proto!("twofold.api.v1");
        }
    }
    pub mod policy {
        pub mod v1 {
            tonic::include_proto!("twofold.policy.v1");
        }
    }
}

pub mod zitadel {
    pub mod v1 {
        tonic::include_proto!("zitadel.v1");
    }
    pub mod authn {
        pub mod v1 {
            tonic::include_proto!("zitadel.authn.v1");
        }
    }
    pub mod idp {
        pub mod v1 {
            tonic::include_proto!("zitadel.idp.v1");
        }
    }
    pub mod policy {
        pub mod v1 {
            tonic::include_proto!("zitadel.policy.v1");
        }
    }
    pub mod org {
        pub mod v1 {
            tonic::include_proto!("zitadel.org.v1");
        }
        pub mod v2 {
            tonic::include_proto!("zitadel.org.v2");
        }
    }
    pub mod filter {
        pub mod v2 {
            tonic::include_proto!("zitadel.filter.v2");
        }
    }
    pub mod metadata {
        pub mod v2 {
            tonic::include_proto!("zitadel.metadata.v2");
        }
    }
    pub mod object {
        pub mod v2 {
            tonic::include_proto!("zitadel.object.v2");
        }
    }
    pub mod user {
        pub mod v1 {
            tonic::include_proto!("zitadel.user.v1");
        }
        pub mod v2 {
            tonic::include_proto!("zitadel.user.v2");
        }
    }
    pub mod member {
        pub mod v1 {
            tonic::include_proto!("zitadel.member.v1");
        }
    }
    pub mod oidc {
        pub mod v2 {
            tonic::include_proto!("zitadel.oidc.v2");
        }
    }
    pub mod session {
        pub mod v2 {
            tonic::include_proto!("zitadel.session.v2");
        }
    }
    pub mod auth {
        pub mod v1 {
            tonic::include_proto!("zitadel.auth.v1");
        }
    }
    pub mod settings {
        pub mod v2 {
            tonic::include_proto!("zitadel.settings.v2");
        }
    }
    pub mod admin {
        pub mod v1 {
            tonic::include_proto!("zitadel.admin.v1");
        }
    }
    pub mod project {
        pub mod v1 {
            tonic::include_proto!("zitadel.project.v1");
        }
    }
    pub mod app {
        pub mod v1 {
            tonic::include_proto!("zitadel.app.v1");
        }
    }
    pub mod management {
        pub mod v1 {
            tonic::include_proto!("zitadel.management.v1");
        }
    }
}
