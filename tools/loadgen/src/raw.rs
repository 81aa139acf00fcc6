//! The load client: raw HTTP/1.1 keep-alive connections on tokio's
//! `TcpStream`, one request in flight per connection (no pipelining), spread
//! over a few OS threads that each run a current-thread runtime (no work
//! stealing, no cross-thread wake-ups). A fixed request is written from the
//! same bytes every time and every answer is read into a buffer reused for
//! the connection's life, so the hot loop allocates nothing. The answer is
//! parsed only as far as needed: the status, and the body's length
//! (`Content-Length` or chunked).
//!
//! Measured against `wrk` in the same run (`--only wrk`), see
//! docs/benchmarks.md.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What each connection sends.
#[derive(Clone)]
pub enum Requests {
    /// The same bytes every time.
    Fixed(Bytes),
    /// Built per (connection, iteration); `None` ends that connection.
    Each(Arc<dyn Fn(usize, u64) -> Option<Vec<u8>> + Send + Sync>),
}

/// An HTTP/1.1 request as bytes. `headers` must not repeat Host or
/// Content-Length.
pub fn request(method: &str, addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// One connection's results.
pub struct Tally {
    pub hist: Histogram<u64>,
    pub ok: u64,
    pub errors: u64,
}

impl Tally {
    fn new() -> Self {
        Self {
            hist: Histogram::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds"),
            ok: 0,
            errors: 0,
        }
    }
}

/// Runs `connections` closed-loop connections to `addr` over `threads`
/// threads until `duration` has passed. Returns the merged tally.
pub fn run(addr: SocketAddr, requests: Requests, connections: usize, threads: usize, duration: Duration) -> Tally {
    let deadline = Instant::now() + duration;
    let threads = threads.clamp(1, connections.max(1));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let requests = requests.clone();
            // Connections t, t + threads, t + 2·threads… run on thread t.
            let mine: Vec<usize> = (t..connections).step_by(threads).collect();
            std::thread::Builder::new()
                .name(format!("lg-client-{t}"))
                .spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime");
                    let local = tokio::task::LocalSet::new();
                    local.block_on(&rt, async move {
                        let tasks: Vec<_> = mine
                            .into_iter()
                            .map(|c| tokio::task::spawn_local(connection(addr, requests.clone(), c, deadline)))
                            .collect();
                        let mut total = Tally::new();
                        for task in tasks {
                            let t = task.await.expect("connection task");
                            total.hist.add(t.hist).ok();
                            total.ok += t.ok;
                            total.errors += t.errors;
                        }
                        total
                    })
                })
                .expect("client thread")
        })
        .collect();
    let mut total = Tally::new();
    for h in handles {
        let t = h.join().expect("client thread");
        total.hist.add(t.hist).ok();
        total.ok += t.ok;
        total.errors += t.errors;
    }
    total
}

async fn connection(addr: SocketAddr, requests: Requests, index: usize, deadline: Instant) -> Tally {
    let mut tally = Tally::new();
    let mut conn: Option<Conn> = None;
    let mut built: Vec<u8>;
    let mut i = 0u64;
    while Instant::now() < deadline {
        let req: &[u8] = match &requests {
            Requests::Fixed(b) => b,
            Requests::Each(f) => match f(index, i) {
                Some(b) => {
                    built = b;
                    &built
                }
                None => break,
            },
        };
        i += 1;
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match Conn::open(addr).await {
                Ok(c) => conn.insert(c),
                Err(_) => {
                    tally.errors += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let t = Instant::now();
        match c.exchange(req).await {
            Ok(status) if (200..300).contains(&status) => {
                tally.ok += 1;
                tally.hist.record(t.elapsed().as_micros().max(1) as u64).ok();
            }
            Ok(_) => tally.errors += 1,
            Err(_) => {
                tally.errors += 1;
                conn = None;
            }
        }
    }
    tally
}

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

impl Conn {
    async fn open(addr: SocketAddr) -> io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(16 * 1024),
        })
    }

    /// Reads more bytes into the buffer; an early end is an error.
    async fn fill(&mut self) -> io::Result<()> {
        if self.buf.capacity() - self.buf.len() < 4096 {
            self.buf.reserve(16 * 1024);
        }
        if self.stream.read_buf(&mut self.buf).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }

    /// Sends `req` and reads the whole answer; returns its status.
    async fn exchange(&mut self, req: &[u8]) -> io::Result<u16> {
        self.stream.write_all(req).await?;
        self.buf.clear();
        let mut scanned = 0;
        let head_end = loop {
            if let Some(p) = find(&self.buf[scanned..], b"\r\n\r\n") {
                break scanned + p + 4;
            }
            scanned = self.buf.len().saturating_sub(3);
            self.fill().await?;
        };
        let head = &self.buf[..head_end];
        let status = head
            .get(9..12)
            .and_then(|s| std::str::from_utf8(s).ok())
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("status line"))?;
        let mut length = None;
        let mut chunked = false;
        for line in head.split(|&b| b == b'\n').skip(1) {
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let (name, value) = line.split_at(colon);
            let value = std::str::from_utf8(&value[1..]).map_err(|_| bad("header"))?.trim();
            if name.eq_ignore_ascii_case(b"content-length") {
                length = Some(value.parse::<usize>().map_err(|_| bad("content-length"))?);
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") && value.eq_ignore_ascii_case("chunked") {
                chunked = true;
            }
        }
        if chunked {
            self.chunked_body(head_end).await?;
        } else {
            let end = head_end + length.unwrap_or(0);
            while self.buf.len() < end {
                self.fill().await?;
            }
        }
        Ok(status)
    }

    /// Reads a chunked body that starts at `at` up to its last chunk.
    async fn chunked_body(&mut self, mut at: usize) -> io::Result<()> {
        loop {
            let line_end = loop {
                if let Some(p) = find(&self.buf[at..], b"\r\n") {
                    break at + p;
                }
                self.fill().await?;
            };
            let size_text = std::str::from_utf8(&self.buf[at..line_end]).map_err(|_| bad("chunk size"))?;
            let size_text = size_text.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16).map_err(|_| bad("chunk size"))?;
            // The chunk, its CRLF; the last (empty) chunk ends with a CRLF
            // after no trailers.
            let end = line_end + 2 + size + 2;
            while self.buf.len() < end {
                self.fill().await?;
            }
            if size == 0 {
                return Ok(());
            }
            at = end;
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
