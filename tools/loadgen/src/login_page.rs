//! The hosted login's first page (`GET /ui/login/login`): instance by
//! host, language, CSRF seed and token, template. Measured beside the bare
//! hyper baseline; the acceptance bar is p99 < 5 ms on loopback.

use std::net::SocketAddr;
use std::time::Duration;

use crate::cpu::Server;
use crate::drive::{Outcome, run_raw};
use crate::raw;

pub fn scenario(addr: SocketAddr, server: Server, conns: (usize, usize), duration: Duration) -> Outcome {
    let req = raw::request(
        "GET",
        addr,
        "/ui/login/login",
        &[("Accept-Language", "de-CH,de;q=0.9")],
        b"",
    );
    run_raw(
        "twofold: login page GET",
        Some("baseline: bare hyper"),
        server,
        addr,
        raw::Requests::Fixed(req.into()),
        conns,
        duration,
    )
}
