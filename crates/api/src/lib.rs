//! Transports, all on one port: native gRPC (h2c), gRPC-web, REST/JSON,
//! Connect and health endpoints. Handlers are thin: request → use case → response.

#[macro_use]
mod scoped;

mod admin;
mod auth;
mod connect;
mod convert;
mod direct;
mod error;
mod grpc_decode;
mod guard;
mod hosted_login;
mod management;
pub mod methods;
mod nul_strings;
mod observe;
mod oidc;
mod org_service;
mod passkeys;
mod passwordless_v1;
mod passwords;
mod policies;
mod policy_preview;
mod projects;
mod queries;
mod rest;
mod self_service;
mod sessions;
mod settings;
mod settings_service;
mod user_tokens;
mod users;
mod users_v2_admin;
mod validate;
pub mod wire_json;

use std::sync::Arc;

pub use auth::request_host;
use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
pub use guard::Logging;
use http::StatusCode;
pub use observe::EventFormat;
use tonic_web::GrpcWebLayer;
use tower::ServiceExt;
use tower_http::cors::{Any, CorsLayer};
use twofold_app::App;
use twofold_proto::twofold::policy::v1 as policy_v1;
use twofold_proto::twofold::policy::v1::policy_service_server::PolicyServiceServer;
use twofold_proto::zitadel::admin::v1 as admin_v1;
use twofold_proto::zitadel::admin::v1::admin_service_server::AdminServiceServer;
use twofold_proto::zitadel::auth::v1 as auth_v1;
use twofold_proto::zitadel::auth::v1::auth_service_server::AuthServiceServer;
use twofold_proto::zitadel::management::v1 as management_v1;
use twofold_proto::zitadel::management::v1::management_service_server::ManagementServiceServer;
use twofold_proto::zitadel::oidc::v2 as oidc_v2;
use twofold_proto::zitadel::oidc::v2::oidc_service_server::OidcServiceServer;
use twofold_proto::zitadel::org::v2 as org_v2;
use twofold_proto::zitadel::org::v2::organization_service_server::OrganizationServiceServer;
use twofold_proto::zitadel::session::v2 as session_v2;
use twofold_proto::zitadel::session::v2::session_service_server::SessionServiceServer;
use twofold_proto::zitadel::settings::v2 as settings_v2;
use twofold_proto::zitadel::settings::v2::settings_service_server::SettingsServiceServer;
use twofold_proto::zitadel::user::v2 as user_v2;
use twofold_proto::zitadel::user::v2::user_service_server::UserServiceServer;

/// Limits on what a client may send.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest request body (REST) or message (gRPC); routes without a
    /// body mapping take none.
    pub max_request_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_request_body_bytes: 1 << 20,
        }
    }
}

/// The whole HTTP surface of the server.
pub async fn router(app: App, limits: Limits, logging: Logging) -> Result<Api, methods::DescriptorError> {
    let methods = methods::Methods::load()?;
    let max = limits.max_request_body_bytes;

    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<AdminServiceServer<admin::Admin>>().await;
    health
        .set_serving::<ManagementServiceServer<management::Management>>()
        .await;
    health.set_serving::<UserServiceServer<users::Users>>().await;
    health.set_serving::<SessionServiceServer<sessions::Sessions>>().await;
    health
        .set_serving::<AuthServiceServer<self_service::SelfService>>()
        .await;
    health
        .set_serving::<OrganizationServiceServer<org_service::Orgs>>()
        .await;
    health.set_serving::<OidcServiceServer<oidc::service::Oidc>>().await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(twofold_proto::DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| methods::DescriptorError(e.to_string()))?;

    // Each service once, behind both its tonic server and its direct calls.
    let admin = Arc::new(admin::Admin { app: app.clone() });
    let management = Arc::new(management::Management { app: app.clone() });
    let users = Arc::new(users::Users { app: app.clone() });
    let sessions = Arc::new(sessions::Sessions { app: app.clone() });
    let self_service = Arc::new(self_service::SelfService { app: app.clone() });
    let settings = Arc::new(settings_service::Settings { app: app.clone() });
    let orgs = Arc::new(org_service::Orgs { app: app.clone() });
    let policies = Arc::new(policy_preview::Policies { app: app.clone() });
    let oidc = Arc::new(oidc::service::Oidc { app: app.clone() });
    let direct = Arc::new(direct::Direct::new(
        app.clone(),
        &methods,
        [
            admin_v1::admin_service_direct(admin.clone()),
            management_v1::management_service_direct(management.clone()),
            user_v2::user_service_direct(users.clone()),
            session_v2::session_service_direct(sessions.clone()),
            auth_v1::auth_service_direct(self_service.clone()),
            settings_v2::settings_service_direct(settings.clone()),
            org_v2::organization_service_direct(orgs.clone()),
            policy_v1::policy_service_direct(policies.clone()),
            oidc_v2::oidc_service_direct(oidc.clone()),
        ],
    )?);

    let grpc = tonic::service::Routes::new(AdminServiceServer::from_arc(admin).max_decoding_message_size(max))
        .add_service(ManagementServiceServer::from_arc(management).max_decoding_message_size(max))
        .add_service(UserServiceServer::from_arc(users).max_decoding_message_size(max))
        .add_service(SessionServiceServer::from_arc(sessions).max_decoding_message_size(max))
        .add_service(AuthServiceServer::from_arc(self_service).max_decoding_message_size(max))
        .add_service(SettingsServiceServer::from_arc(settings).max_decoding_message_size(max))
        .add_service(OrganizationServiceServer::from_arc(orgs).max_decoding_message_size(max))
        .add_service(PolicyServiceServer::from_arc(policies).max_decoding_message_size(max))
        .add_service(OidcServiceServer::from_arc(oidc).max_decoding_message_size(max))
        .add_service(health_service)
        .add_service(reflection)
        .prepare()
        .into_axum_router()
        .layer(axum::middleware::from_fn_with_state(
            auth::AuthState {
                app: app.clone(),
                methods: methods.clone(),
                max_message_bytes: max,
            },
            auth::layer,
        ));
    let rest = rest::Rest::new(&methods, direct.clone(), max)?;
    let connect = connect::Connect::new(methods.clone(), direct, max);

    let (a1, a2, a3, a4, a5) = (app.clone(), app.clone(), app.clone(), app.clone(), app.clone());
    let (a6, a7, a8, a9, a10, a11) = (
        app.clone(),
        app.clone(),
        app.clone(),
        app.clone(),
        app.clone(),
        app.clone(),
    );
    let routes = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move |req| oidc::endpoints::discovery(a1.clone(), req)),
        )
        .route(
            "/oauth/v2/authorize",
            get(move |req| oidc::endpoints::authorize_get(a2.clone(), req))
                .post(move |req| oidc::endpoints::authorize_post(a3.clone(), req)),
        )
        .route("/oauth/v2/token", post(move |req| oidc::tokens::token(a4.clone(), req)))
        .route("/oauth/v2/keys", get(move |req| oidc::tokens::keys(a5.clone(), req)))
        .route(
            "/oidc/v1/userinfo",
            get(move |req| oidc::tokens::userinfo(a6.clone(), req))
                .post(move |req| oidc::tokens::userinfo(a7.clone(), req)),
        )
        .route(
            "/oauth/v2/introspect",
            post(move |req| oidc::tokens::introspect(a8.clone(), req)),
        )
        .route(
            "/oauth/v2/revoke",
            post(move |req| oidc::tokens::revoke(a9.clone(), req)),
        )
        .route(
            "/oidc/v1/end_session",
            get(move |req| oidc::tokens::end_session(a10.clone(), req))
                .post(move |req| oidc::tokens::end_session(a11.clone(), req)),
        )
        .route("/debug/healthz", get(|| async { "ok" }))
        .route("/debug/ready", get(move || ready(app.clone())))
        .route("/debug/metrics", get(metrics))
        .merge(grpc.layer(GrpcWebLayer::new()))
        .fallback(move |req| rest.clone().handle(req))
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods(Any)
                .allow_headers(Any)
                .expose_headers(Any),
        )
        // Handlers become routes once, not on every request.
        .with_state(());
    Ok(Api {
        logging,
        connect,
        routes,
        methods,
    })
}

/// Every transport behind one entry: the guard around everything, then
/// Connect calls taken out, then the routes (gRPC, gRPC-web, REST, debug).
/// Composed as plain calls rather than router layers, which axum would
/// apply to each route and box on every request.
pub struct Api {
    logging: Logging,
    connect: connect::Connect,
    routes: Router,
    methods: Arc<methods::Methods>,
}

impl Api {
    /// The served RPCs and the auth each declares: the hosted login calls
    /// the same use cases under the same checks.
    pub fn methods(&self) -> Arc<methods::Methods> {
        self.methods.clone()
    }

    /// `pages` served beside the API, outside its CORS layer (browser
    /// pages with cookies are never answered to other origins).
    pub fn with_pages(mut self, pages: Router) -> Self {
        self.routes = pages.merge(self.routes);
        self
    }

    pub async fn handle(self: Arc<Self>, req: Request) -> Response {
        guard::guard(self.logging, req, |req| async {
            connect::route(&self.connect, req, |req| async {
                match self.routes.clone().oneshot(req).await {
                    Ok(resp) => resp,
                    Err(never) => match never {},
                }
            })
            .await
        })
        .await
    }
}

/// 200 with the JSON string "ok" when the database answers, else 412.
async fn ready(app: App) -> axum::response::Response {
    if app.ready().await {
        axum::Json("ok").into_response()
    } else {
        (
            StatusCode::PRECONDITION_FAILED,
            "ID=API-F24h2 Message=DB CONNECTION ERROR",
        )
            .into_response()
    }
}

/// Every metric, in the text format Prometheus scrapes (see docs/operations.md).
async fn metrics() -> axum::response::Response {
    (
        [(http::header::CONTENT_TYPE, twofold_app::metrics::CONTENT_TYPE)],
        twofold_app::metrics::encode(),
    )
        .into_response()
}
