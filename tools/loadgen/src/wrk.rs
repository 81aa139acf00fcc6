//! `wrk` (if installed) against the same server in the same run: the
//! yardstick the raw client is held to.

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::cpu::{self, Meter, Server, Usage};
use crate::drive::Outcome;

/// Runs `wrk -t threads -c connections --latency` for `duration` with
/// `method`, `path`, `headers` (a Lua script sets method and body).
/// None when `wrk` is not installed or failed.
pub fn run(
    name: &str,
    baseline: Option<&str>,
    server: Server,
    addr: SocketAddr,
    (method, path, headers, body): (&str, &str, &[(&str, &str)], &str),
    (connections, threads): (usize, usize),
    duration: Duration,
) -> Option<Outcome> {
    let script = std::env::temp_dir().join(format!("loadgen-wrk-{}.lua", std::process::id()));
    std::fs::write(&script, format!("wrk.method = {method:?}\nwrk.body = {body:?}\n")).ok()?;
    let mut cmd = Command::new("wrk");
    cmd.arg(format!("-t{threads}"))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{}s", duration.as_secs().max(1)))
        .arg("--latency")
        .arg("-s")
        .arg(&script);
    for (k, v) in headers {
        cmd.arg("-H").arg(format!("{k}: {v}"));
    }
    cmd.arg(format!("http://{addr}{path}"));
    let meter = Meter::start(server);
    let children = cpu::children_seconds();
    let started = Instant::now();
    let out = cmd.output();
    let seconds = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&script);
    let out = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => {
            eprintln!("wrk failed: {}", String::from_utf8_lossy(&o.stderr));
            return None;
        }
        Err(e) => {
            eprintln!("wrk not run ({e}); install it with `apt-get install wrk`");
            return None;
        }
    };
    let mut usage: Usage = meter.finish();
    usage.client_cores = (cpu::children_seconds() - children) / seconds;
    let total = out
        .lines()
        .find_map(|l| l.trim().split_once(" requests in "))
        .and_then(|(n, _)| n.trim().parse::<u64>().ok())?;
    let errors = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let quantile = |q: &str| {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(q))
            .and_then(|v| parse_ms(v.trim()))
    };
    let mut o = Outcome {
        name: name.to_owned(),
        baseline: baseline.map(str::to_owned),
        requests: total.saturating_sub(errors),
        errors,
        // wrk counts over its own -d window, not over its start-up.
        seconds: duration.as_secs().max(1) as f64,
        quantiles: [quantile("50%"), quantile("99%"), None],
        usage,
    };
    o.usage.client_cores *= seconds / o.seconds;
    o.report();
    Some(o)
}

/// wrk's "512.00us", "1.23ms", "1.01s" in ms.
fn parse_ms(v: &str) -> Option<f64> {
    let (n, scale) = if let Some(n) = v.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    n.parse::<f64>().ok().map(|n| n * scale)
}

#[cfg(test)]
mod tests {
    #[test]
    fn latency_units() {
        assert_eq!(super::parse_ms("512.00us"), Some(0.512));
        assert_eq!(super::parse_ms("1.50ms"), Some(1.5));
        assert_eq!(super::parse_ms("2.00s"), Some(2000.0));
    }
}
