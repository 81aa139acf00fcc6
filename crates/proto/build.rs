//! Compiles our own .proto files with protox (no system protoc) and generates
//! prost messages plus tonic servers and clients. The encoded descriptor set is
//! kept for gRPC reflection and for the REST transcoder, which reads the
//! `twofold.api.v1` method options from it. Beside tonic's servers, each
//! service gets a table of direct calls (`<service>_direct`), through which
//! the REST and Connect transports reach the same trait methods with the
//! decoded message, without gRPC framing or the gRPC router.

use std::path::PathBuf;

const FILES: &[&str] = &[
    "zitadel/admin/v1/admin.proto",
    "zitadel/management/v1/management.proto",
    "zitadel/v1/message.proto",
    "zitadel/session/v2/session_service.proto",
    "zitadel/auth/v1/auth.proto",
    "zitadel/settings/v2/settings_service.proto",
    "zitadel/user/v2/user_service.proto",
    "zitadel/org/v2/org_service.proto",
    "twofold/policy/v1/policy_service.proto",
    "zitadel/oidc/v2/oidc_service.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Read at run time: a build script binary copied with a target dir from
    // another checkout must compile this checkout's protos, not its own.
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    println!("cargo:rerun-if-changed={}", root.display());

    let mut compiler = protox::Compiler::new([&root])?;
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(FILES)?;

    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("descriptor.bin"), compiler.encode_file_descriptor_set())?;

    let tonic = tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .service_generator();
    let mut config = prost_build::Config::new();
    config.out_dir(&out).service_generator(Box::new(WithDirectCalls(tonic)));
    config.compile_fds(compiler.file_descriptor_set())?;
    Ok(())
}

/// tonic's generator followed by the direct-call table of each service.
struct WithDirectCalls(Box<dyn prost_build::ServiceGenerator>);

impl prost_build::ServiceGenerator for WithDirectCalls {
    fn generate(&mut self, service: prost_build::Service, buf: &mut String) {
        direct_calls(&service, buf);
        self.0.generate(service, buf);
    }

    fn finalize(&mut self, buf: &mut String) {
        self.0.finalize(buf);
    }

    fn finalize_package(&mut self, package: &str, buf: &mut String) {
        self.0.finalize_package(package, buf);
    }
}

/// `pub fn <service>_direct(svc) -> Vec<(gRPC path, DirectCall)>` for the
/// unary methods of `service` (it has no others).
fn direct_calls(service: &prost_build::Service, buf: &mut String) {
    use std::fmt::Write;
    let snake = |s: &str| {
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    };
    let module = format!("{}_server", snake(&service.name));
    let service_trait = format!("{module}::{}", service.name);
    let _ = writeln!(
        buf,
        "/// The unary methods of `{}` as direct calls, by gRPC path.\n\
         pub fn {}_direct<T: {service_trait}>(svc: ::std::sync::Arc<T>) \
         -> ::std::vec::Vec<(&'static str, crate::direct::DirectCall)> {{\n    ::std::vec![",
        service.proto_name,
        snake(&service.name),
    );
    for m in service
        .methods
        .iter()
        .filter(|m| !m.client_streaming && !m.server_streaming)
    {
        let _ = writeln!(
            buf,
            "        (\"/{pkg}.{svc}/{proto}\", {{\n            let svc = svc.clone();\n            \
             crate::direct::call(move |req| {{\n                let svc = svc.clone();\n                \
             async move {{\n                    let req = crate::direct::decode::<{input}>(req)?;\n                    \
             crate::direct::encode(<T as {service_trait}>::{name}(&svc, req).await)\n                }}\n            \
             }})\n        }}),",
            pkg = service.package,
            svc = service.proto_name,
            proto = m.proto_name,
            input = m.input_type,
            name = m.name,
        );
    }
    buf.push_str("    ]\n}\n");
}
