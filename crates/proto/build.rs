//! Compiles our own .proto files with protox (no system protoc) and generates
//! prost messages plus tonic servers and clients. The encoded descriptor set is
//! kept for gRPC reflection and for the REST transcoder, which reads the
//! `twofold.api.v1` method options from it.

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

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(compiler.file_descriptor_set())?;
    Ok(())
}
