//! The hosted login's first page (`GET /ui/login/login`): instance by
//! host, language, CSRF seed and token, template. Measured beside the bare
//! hyper baseline; the acceptance bar is p99 < 5 ms on loopback.

use std::time::Duration;

use crate::drive::{Outcome, run};

pub async fn scenario(base_url: &str, workers: usize, duration: Duration) -> Outcome {
    let url = format!("{base_url}/ui/login/login");
    let clients: Vec<_> = (0..workers).map(|_| crate::scenarios::http_client()).collect();
    run(
        "twofold: login page GET",
        Some("baseline: bare hyper"),
        workers,
        duration,
        move |w| {
            let (c, url) = (clients[w].clone(), url.clone());
            async move {
                match c.get(&url).header("accept-language", "de-CH,de;q=0.9").send().await {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                }
            }
        },
    )
    .await
}
