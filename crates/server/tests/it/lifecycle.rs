//! Start, stop, start again: bootstrap runs once, data survives.

use serde_json::json;

use crate::harness::{Backend, Server, backend_tests};

backend_tests!(restart_keeps_everything, a_new_external_domain_is_added);

async fn restart_keeps_everything(b: Backend) {
    let mut s = Server::start(b).await;
    let pat_file = s.dir.join("admin.pat");
    let key_file = s.dir.join("masterkey");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in [&pat_file, &key_file] {
            assert_eq!(
                std::fs::metadata(f).unwrap().permissions().mode() & 0o777,
                0o600,
                "{f:?}"
            );
        }
    }
    let (status, _) = s
        .call(
            "POST",
            "/admin/v1/policies/login/second_factors",
            Some(json!({"type": "SECOND_FACTOR_TYPE_OTP_EMAIL"})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, before) = s.call("GET", "/admin/v1/policies/login", None).await;
    let pat = std::fs::read_to_string(&pat_file).unwrap();

    assert!(s.stop().success(), "SIGTERM is a clean exit");
    s.restart();

    let (status, after) = s.call("GET", "/admin/v1/policies/login", None).await;
    assert_eq!(status, 200, "the old token still works");
    assert_eq!(before, after);
    assert_eq!(std::fs::read_to_string(&pat_file).unwrap(), pat, "no second bootstrap");
    assert_eq!(s.count_events("instance.added").await, 1);
    assert_eq!(s.count_events("user.pat.added").await, 1);
}

async fn a_new_external_domain_is_added(b: Backend) {
    let mut s = Server::start(b).await;
    let path = "/admin/v1/policies/login/second_factors/_search";
    let (status, _) = s.send(s.req("POST", path).header("host", "idp.example.com")).await;
    assert_eq!(status, 404, "not a domain of the instance yet");
    s.restart_with(&["--external-domain", "idp.example.com"]);
    let (status, _) = s.send(s.req("POST", path).header("host", "idp.example.com")).await;
    assert_eq!(status, 200, "the new external domain reaches the instance");
    let (status, _) = s.send(s.req("POST", path).header("host", "localhost")).await;
    assert_eq!(status, 200, "the first domain still does");
    assert_eq!(s.count_events("instance.added").await, 1, "no second instance");
}
