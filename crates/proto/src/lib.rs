//! Generated protobuf and gRPC code for the API Twofold serves.
// Generated code: prost lays out oneofs as it must.
#![allow(clippy::large_enum_variant)]

/// Encoded `FileDescriptorSet` of every served file (with imports and options).
pub const DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptor.bin"));

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
