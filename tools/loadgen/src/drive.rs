//! Closed-loop load: N workers each send a request, wait for the answer,
//! and send the next, until the deadline. Latencies go to an HDR histogram.

use std::future::Future;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::json;

#[derive(Debug)]
pub struct Outcome {
    pub name: String,
    pub baseline: Option<String>,
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    pub hist: Histogram<u64>,
}

impl Outcome {
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
    fn ms(&self, q: f64) -> f64 {
        self.hist.value_at_quantile(q) as f64 / 1000.0
    }
}

/// Runs `workers` loops of `step(worker)` for `duration`; a step returns
/// whether it succeeded.
pub async fn run<F, Fut>(name: &str, baseline: Option<&str>, workers: usize, duration: Duration, step: F) -> Outcome
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
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
    let o = Outcome {
        name: name.to_owned(),
        baseline: baseline.map(str::to_owned),
        requests,
        errors,
        seconds: started.elapsed().as_secs_f64(),
        hist,
    };
    eprintln!(
        "{:<28} {:>10.0} req/s  p99 {:>7.2} ms  errors {}",
        o.name,
        o.rps(),
        o.ms(0.99),
        o.errors
    );
    o
}

fn ratio(o: &Outcome, all: &[Outcome]) -> Option<f64> {
    let b = all.iter().find(|b| Some(&b.name) == o.baseline.as_ref())?;
    Some(o.rps() / b.rps())
}

pub fn table(all: &[Outcome]) -> String {
    let mut out = String::from(
        "| scenario | req/s | p50 ms | p99 ms | p99.9 ms | errors | ratio to baseline |\n|---|---:|---:|---:|---:|---:|---|\n",
    );
    for o in all {
        let r = match (ratio(o, all), &o.baseline) {
            (Some(r), Some(b)) => format!("{r:.2} × {b}"),
            _ => "(baseline)".into(),
        };
        out.push_str(&format!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {} |\n",
            o.name,
            o.rps(),
            o.ms(0.5),
            o.ms(0.99),
            o.ms(0.999),
            o.errors,
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
                "p50_ms": o.ms(0.5),
                "p99_ms": o.ms(0.99),
                "p999_ms": o.ms(0.999),
                "errors": o.errors,
                "baseline": o.baseline,
                "ratio": ratio(o, all),
            }))
            .collect::<Vec<_>>()
    )
}
