//! Closed-loop load: N workers each send a request, wait for the answer,
//! and send the next, until the deadline. Latencies go to an HDR histogram.
//! Every result carries the CPU the client and the server used meanwhile
//! (see `cpu.rs`).

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::json;

use crate::cpu::{self, Meter, Server, Usage};
use crate::raw;

#[derive(Debug)]
pub struct Outcome {
    pub name: String,
    pub baseline: Option<String>,
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    /// p50, p99, p99.9 in ms.
    pub quantiles: [Option<f64>; 3],
    pub usage: Usage,
}

impl Outcome {
    pub fn new(
        name: &str,
        baseline: Option<&str>,
        (requests, errors): (u64, u64),
        seconds: f64,
        hist: &Histogram<u64>,
        usage: Usage,
    ) -> Self {
        let ms = |q| (!hist.is_empty()).then(|| hist.value_at_quantile(q) as f64 / 1000.0);
        let o = Self {
            name: name.to_owned(),
            baseline: baseline.map(str::to_owned),
            requests,
            errors,
            seconds,
            quantiles: [ms(0.5), ms(0.99), ms(0.999)],
            usage,
        };
        o.report();
        o
    }

    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    pub fn report(&self) {
        eprintln!(
            "{:<34} {:>10.0} req/s  p99 {:>7} ms  errors {}  client {:.2} cores ({:.0} %)  server {:.2} cores",
            self.name,
            self.rps(),
            fmt_ms(self.quantiles[1]),
            self.errors,
            self.usage.client_cores,
            100.0 * self.usage.client_cores / cpu::cores(),
            self.usage.server_cores,
        );
    }

    /// Server CPU per request in µs.
    pub fn server_us_per_request(&self) -> f64 {
        if self.requests == 0 {
            return 0.0;
        }
        self.usage.server_cores * self.seconds * 1e6 / self.requests as f64
    }
}

fn fmt_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{v:.2}"))
}

/// Runs the raw HTTP/1.1 client (`raw.rs`) against `addr`.
pub fn run_raw(
    name: &str,
    baseline: Option<&str>,
    server: Server,
    addr: SocketAddr,
    requests: raw::Requests,
    (connections, threads): (usize, usize),
    duration: Duration,
) -> Outcome {
    let meter = Meter::start(server);
    let started = Instant::now();
    let t = raw::run(addr, requests, connections, threads, duration);
    let seconds = started.elapsed().as_secs_f64();
    Outcome::new(name, baseline, (t.ok, t.errors), seconds, &t.hist, meter.finish())
}

/// Runs `workers` loops of `step(worker)` for `duration` on this runtime;
/// a step returns whether it succeeded. For clients the raw one cannot
/// speak (gRPC).
pub async fn run<F, Fut>(
    name: &str,
    baseline: Option<&str>,
    server: Server,
    workers: usize,
    duration: Duration,
    step: F,
) -> Outcome
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    let meter = Meter::start(server);
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let step = step.clone();
            tokio::spawn(async move {
                let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds");
                let (mut ok, mut errors) = (0u64, 0u64);
                while Instant::now() < deadline {
                    let t = Instant::now();
                    if step(w).await {
                        ok += 1;
                        hist.record(t.elapsed().as_micros().max(1) as u64).ok();
                    } else {
                        errors += 1;
                    }
                }
                (hist, ok, errors)
            })
        })
        .collect();
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds");
    let (mut requests, mut errors) = (0, 0);
    for t in tasks {
        let (h, ok, e) = t.await.expect("worker");
        hist.add(h).ok();
        requests += ok;
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();
    Outcome::new(name, baseline, (requests, errors), seconds, &hist, meter.finish())
}

fn ratio(o: &Outcome, all: &[Outcome]) -> Option<f64> {
    let b = all.iter().find(|b| Some(&b.name) == o.baseline.as_ref())?;
    Some(o.rps() / b.rps())
}

pub fn table(all: &[Outcome]) -> String {
    let mut out = format!(
        "| scenario | req/s | p50 ms | p99 ms | p99.9 ms | errors | client CPU (of {:.0} cores) | server CPU | server µs/req | ratio to baseline |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
        cpu::cores()
    );
    for o in all {
        let r = match (ratio(o, all), &o.baseline) {
            (Some(r), Some(b)) => format!("{r:.2} × {b}"),
            _ => "(baseline)".into(),
        };
        out.push_str(&format!(
            "| {} | {:.0} | {} | {} | {} | {} | {:.2} | {:.2} | {:.0} | {} |\n",
            o.name,
            o.rps(),
            fmt_ms(o.quantiles[0]),
            fmt_ms(o.quantiles[1]),
            fmt_ms(o.quantiles[2]),
            o.errors,
            o.usage.client_cores,
            o.usage.server_cores,
            o.server_us_per_request(),
            r
        ));
    }
    out
}

pub fn json(all: &[Outcome]) -> serde_json::Value {
    json!(
        all.iter()
            .map(|o| json!({
                "scenario": o.name,
                "requests_per_second": o.rps(),
                "p50_ms": o.quantiles[0],
                "p99_ms": o.quantiles[1],
                "p999_ms": o.quantiles[2],
                "errors": o.errors,
                "client_cores": o.usage.client_cores,
                "server_cores": o.usage.server_cores,
                "server_us_per_request": o.server_us_per_request(),
                "baseline": o.baseline,
                "ratio": ratio(o, all),
            }))
            .collect::<Vec<_>>()
    )
}
