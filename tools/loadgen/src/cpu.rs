//! CPU time of the load client and of the server under test over one
//! scenario, from /proc (Linux): a client that uses most of the machine is
//! the bottleneck, not the server, and every result says so.
//!
//! The in-process baseline servers run on their own runtime whose threads
//! are named [`SERVER_THREAD`]; the client's share is the process's CPU
//! time minus theirs. The Twofold server is another process.

use std::time::Instant;

/// Name prefix of the threads that run the in-process baseline servers.
pub const SERVER_THREAD: &str = "bl-srv";

/// Clock ticks per second of /proc's utime and stime (USER_HZ, fixed at 100
/// in Linux's user-space ABI).
const TICKS: f64 = 100.0;

/// utime + stime in seconds from the contents of a `stat` file.
fn stat_seconds(stat: &str) -> Option<f64> {
    // Field 2 (comm) may hold spaces; fields after its closing ')' are plain.
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace();
    // rest starts at field 3 (state); utime and stime are fields 14 and 15.
    let utime: f64 = fields.nth(11)?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / TICKS)
}

/// CPU seconds of this process's exited, waited-for children (cutime +
/// cstime): what a finished `wrk` used.
pub fn children_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1.to_owned();
            let mut f = rest.split_whitespace().skip(13);
            let cutime: f64 = f.next()?.parse().ok()?;
            let cstime: f64 = f.next()?.parse().ok()?;
            Some((cutime + cstime) / TICKS)
        })
        .unwrap_or(0.0)
}

/// CPU seconds of a whole process (live and exited threads).
pub fn process_seconds(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| stat_seconds(&s))
        .unwrap_or(0.0)
}

/// CPU seconds of this process's threads whose name starts with `prefix`.
fn threads_seconds(prefix: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    tasks
        .filter_map(Result::ok)
        .filter(|t| std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.starts_with(prefix)))
        .filter_map(|t| std::fs::read_to_string(t.path().join("stat")).ok())
        .filter_map(|s| stat_seconds(&s))
        .sum()
}

pub fn cores() -> f64 {
    std::thread::available_parallelism().map_or(1, |n| n.get()) as f64
}

/// Who serves the scenario being measured.
#[derive(Clone, Copy, Debug)]
pub enum Server {
    /// A baseline on this process's [`SERVER_THREAD`] threads.
    InProcess,
    /// The Twofold child process.
    Child(u32),
    /// Nothing served over the network (e.g. hashing in this process).
    None,
}

/// CPU used over one scenario, in cores (CPU seconds ÷ wall seconds).
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    pub client_cores: f64,
    pub server_cores: f64,
}

pub struct Meter {
    server: Server,
    started: Instant,
    process: f64,
    in_process_server: f64,
    child: f64,
}

impl Meter {
    pub fn start(server: Server) -> Self {
        Self {
            server,
            started: Instant::now(),
            process: process_seconds("self"),
            in_process_server: threads_seconds(SERVER_THREAD),
            child: child_seconds(server),
        }
    }

    pub fn finish(&self) -> Usage {
        let wall = self.started.elapsed().as_secs_f64().max(1e-9);
        let process = process_seconds("self") - self.process;
        let in_process_server = threads_seconds(SERVER_THREAD) - self.in_process_server;
        let server = match self.server {
            Server::InProcess => in_process_server,
            Server::Child(_) => child_seconds(self.server) - self.child,
            Server::None => 0.0,
        };
        Usage {
            client_cores: (process - in_process_server).max(0.0) / wall,
            server_cores: server / wall,
        }
    }
}

fn child_seconds(server: Server) -> f64 {
    match server {
        Server::Child(pid) => process_seconds(&pid.to_string()),
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utime_and_stime() {
        let stat = "1234 (bl srv) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 4 0 100 0 0";
        assert_eq!(stat_seconds(stat), Some(3.0));
    }
}
