//! Connection limits (issue 10, finding 5): idle and slow clients are cut
//! off after the configured timeouts, and connections above the cap are
//! closed at once while the server keeps serving the others. The timeouts
//! here are small flag values; waits allow a generous margin.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{Backend, Server};

/// Reads until the server closes the connection; the bytes read, or None
/// if it is still open after `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let mut buf = [0u8; 1024];
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(got),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

const REQUEST: &[u8] = b"GET /debug/healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed() {
    let s = Server::start_args(
        Backend::Sqlite,
        &[
            "--http-header-timeout",
            "1",
            "--http-idle-timeout",
            "2",
            "--http2-keepalive-interval",
            "3600",
        ],
    )
    .await;

    // A connection that never sends anything.
    let mut silent = TcpStream::connect(s.addr).await.unwrap();
    let started = Instant::now();
    let got = closed_within(&mut silent, Duration::from_secs(10)).await;
    assert_eq!(got, Some(Vec::new()), "closed without an answer");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "not before the timeout"
    );

    // HTTP/1.1 keep-alive: one request, then nothing.
    let mut kept = TcpStream::connect(s.addr).await.unwrap();
    kept.write_all(REQUEST).await.unwrap();
    let got = closed_within(&mut kept, Duration::from_secs(10))
        .await
        .expect("closed after the timeout");
    assert!(
        String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"),
        "answered first"
    );

    // HTTP/2 (h2c): the preface and settings, then no request.
    let mut h2 = TcpStream::connect(s.addr).await.unwrap();
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let got = closed_within(&mut h2, Duration::from_secs(10))
        .await
        .expect("an idle HTTP/2 connection is closed");
    assert!(got.len() >= 9, "the server spoke HTTP/2 first");

    // HTTP/2 after a request: closed once idle for the idle timeout.
    let mut h2 = TcpStream::connect(s.addr).await.unwrap();
    let mut hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00".to_vec();
    // HEADERS on stream 1, END_STREAM | END_HEADERS: GET http://localhost/debug/healthz
    // in HPACK (static-table methods and scheme, literal path and authority).
    let mut block = vec![0x82, 0x86, 0x44, 14];
    block.extend_from_slice(b"/debug/healthz");
    block.extend_from_slice(&[0x41, 9]);
    block.extend_from_slice(b"localhost");
    hello.extend_from_slice(&[0, 0, block.len() as u8, 0x1, 0x5, 0, 0, 0, 1]);
    hello.extend_from_slice(&block);
    h2.write_all(&hello).await.unwrap();
    let got = closed_within(&mut h2, Duration::from_secs(10))
        .await
        .expect("an HTTP/2 connection idle after a request is closed");
    let types = h2_frame_types(&got);
    const HEADERS: u8 = 0x1;
    const GOAWAY: u8 = 0x7;
    assert!(types.contains(&HEADERS), "answered first: {types:?}");
    assert!(types.contains(&GOAWAY), "closed gracefully: {types:?}");

    // The server still serves.
    let (status, _) = s.call("GET", "/admin/v1/policies/login", None).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_header_sender_is_cut_off() {
    let s = Server::start_args(Backend::Sqlite, &["--http-header-timeout", "1"]).await;
    let mut slow = TcpStream::connect(s.addr).await.unwrap();
    slow.write_all(b"GET /debug/healthz HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    // One header byte every 200 ms: never a complete head.
    let started = Instant::now();
    let mut cut = false;
    while started.elapsed() < Duration::from_secs(10) {
        if slow.write_all(b"x").await.is_err() {
            cut = true;
            break;
        }
        let mut buf = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(200), slow.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                cut = true;
                break;
            }
            Ok(Ok(n)) => assert!(
                !String::from_utf8_lossy(&buf[..n]).contains(" 200 "),
                "no answer to an incomplete request"
            ),
            Err(_) => {}
        }
    }
    assert!(cut, "the slow sender was cut off");
    let (status, _) = s.call("GET", "/admin/v1/policies/login", None).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_above_the_cap_are_refused() {
    let s = Server::start_args(
        Backend::Sqlite,
        &[
            "--max-connections",
            "4",
            "--http-header-timeout",
            "60",
            "--http-idle-timeout",
            "60",
        ],
    )
    .await;
    // Four kept-alive connections, each answered once (so surely accepted).
    let mut idle = Vec::new();
    for _ in 0..4 {
        let mut c = TcpStream::connect(s.addr).await.unwrap();
        c.write_all(REQUEST).await.unwrap();
        let mut buf = [0u8; 1024];
        let n = c.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        idle.push(c);
    }

    let mut over = TcpStream::connect(s.addr).await.unwrap();
    let _ = over.write_all(REQUEST).await;
    let got = closed_within(&mut over, Duration::from_secs(10))
        .await
        .expect("closed at once");
    assert!(got.is_empty(), "no answer: {}", String::from_utf8_lossy(&got));
    let logged = Instant::now() + Duration::from_secs(5);
    while !s.log_text().contains("connection limit reached") {
        assert!(Instant::now() < logged, "the refusal is logged");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Once the others go away, a normal client is served again.
    drop(idle);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ok = reqwest::get(s.url("/debug/healthz"))
            .await
            .is_ok_and(|r| r.status() == 200);
        if ok {
            break;
        }
        assert!(Instant::now() < deadline, "served again once connections closed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The frame types of everything the server sent on an HTTP/2 connection.
fn h2_frame_types(mut bytes: &[u8]) -> Vec<u8> {
    let mut types = Vec::new();
    while bytes.len() >= 9 {
        let len = (usize::from(bytes[0]) << 16) | (usize::from(bytes[1]) << 8) | usize::from(bytes[2]);
        types.push(bytes[3]);
        bytes = &bytes[(9 + len).min(bytes.len())..];
    }
    types
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_keepalive_pings_close_a_silent_peer() {
    let s = Server::start_args(
        Backend::Sqlite,
        &[
            "--http-header-timeout",
            "60",
            "--http-idle-timeout",
            "60",
            "--http2-keepalive-interval",
            "1",
            "--http2-keepalive-timeout",
            "1",
        ],
    )
    .await;
    let mut h2 = TcpStream::connect(s.addr).await.unwrap();
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    // Never answers a ping: closed long before the 60 s timeouts.
    let got = closed_within(&mut h2, Duration::from_secs(20))
        .await
        .expect("a peer that does not answer pings is dropped");
    const PING: u8 = 0x6;
    assert!(h2_frame_types(&got).contains(&PING), "the server pinged: {got:?}");
}
