//! Every Prometheus metric of the server, in one place; `docs/operations.md`
//! describes each. Label values are `&'static str` or shared method names,
//! so recording allocates nothing once a series exists: a counter is an
//! atomic add, a histogram a short lock.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use twofold_domain::event::EventPayload;
use twofold_domain::session;
use twofold_domain::{DomainError, StoredEvent};

/// The content type of [`encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: Arc<str>,
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CheckLabels {
    factor: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    channel: &'static str,
    outcome: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Histograms<RequestLabels>,
    sign_in_checks: Family<CheckLabels, Counter>,
    otp_throttled: Counter,
    user_locks: Counter,
    commit_seconds: Histogram,
    commit_batch: Histogram,
    events_loaded: Counter,
    deliveries: Family<DeliveryLabels, Counter>,
    hash_queue_full: Counter,
}

fn request_histogram() -> Histogram {
    // 0.5 ms … 16 s
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("twofold");
    let m = Metrics {
        requests: Family::default(),
        request_seconds: Family::new_with_constructor(request_histogram),
        sign_in_checks: Family::default(),
        otp_throttled: Counter::default(),
        user_locks: Counter::default(),
        // 0.1 ms … 3.3 s
        commit_seconds: Histogram::new(exponential_buckets(0.0001, 2.0, 16)),
        // 1 … 128 (the SQLite writer's largest batch)
        commit_batch: Histogram::new(exponential_buckets(1.0, 2.0, 8)),
        events_loaded: Counter::default(),
        deliveries: Family::default(),
        hash_queue_full: Counter::default(),
        registry: Registry::default(),
    };
    registry.register(
        "requests",
        "API calls by gRPC method and result code",
        m.requests.clone(),
    );
    registry.register(
        "request_duration_seconds",
        "Time to answer an API call, by gRPC method and result code",
        m.request_seconds.clone(),
    );
    registry.register(
        "sign_in_checks",
        "Session checks by factor and outcome",
        m.sign_in_checks.clone(),
    );
    registry.register(
        "otp_throttled",
        "Sign-in calls refused by the one-time-password throttle",
        m.otp_throttled.clone(),
    );
    registry.register(
        "user_locks",
        "Users locked (by the lockout policy or an administrator)",
        m.user_locks.clone(),
    );
    registry.register(
        "store_commit_duration_seconds",
        "Time to commit one write transaction",
        m.commit_seconds.clone(),
    );
    registry.register(
        "store_commit_batch_size",
        "Appends committed together in one transaction",
        m.commit_batch.clone(),
    );
    registry.register(
        "events_loaded",
        "Events read to rebuild an aggregate's state (users: only those after their snapshot)",
        m.events_loaded.clone(),
    );
    registry.register(
        "deliveries",
        "One-time-code messages by channel and outcome",
        m.deliveries.clone(),
    );
    registry.register(
        "password_hash_queue_full",
        "Password hashing jobs refused because the queue was full",
        m.hash_queue_full.clone(),
    );
    Metrics { registry, ..m }
});

/// Every metric in the OpenMetrics text format (which Prometheus scrapes).
pub fn encode() -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &METRICS.registry);
    out
}

/// One answered API call; `code` is the canonical gRPC code name.
pub fn request(method: &Arc<str>, code: &'static str, elapsed: Duration) {
    let labels = RequestLabels {
        method: method.clone(),
        code,
    };
    METRICS.requests.get_or_create(&labels).inc();
    METRICS
        .request_seconds
        .get_or_create(&labels)
        .observe(elapsed.as_secs_f64());
}

/// A factor a session can check (the `factor` label).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Factor {
    Password,
    Totp,
    OtpSms,
    OtpEmail,
    Webauthn,
    RecoveryCode,
}

impl Factor {
    fn label(self) -> &'static str {
        match self {
            Factor::Password => "password",
            Factor::Totp => "totp",
            Factor::OtpSms => "otp_sms",
            Factor::OtpEmail => "otp_email",
            Factor::Webauthn => "webauthn",
            Factor::RecoveryCode => "recovery_code",
        }
    }
}

const REFUSED_BY_POLICY: [&str; 2] = [session::FACTOR_NOT_ALLOWED, session::PASSWORD_NOT_ALLOWED];

/// The outcome of one session call that checked `factors`. A refusal is
/// counted for every factor of the call (the call succeeds or fails whole).
pub fn sign_in(factors: &[Factor], result: Result<(), &DomainError>) {
    if factors.is_empty() {
        return;
    }
    let outcome = match result {
        Ok(()) => "success",
        Err(e) if e.id == session::THROTTLED => {
            METRICS.otp_throttled.inc();
            "throttled"
        }
        Err(e) if REFUSED_BY_POLICY.contains(&&*e.id) => "refused_by_policy",
        Err(_) => "failure",
    };
    for f in factors {
        METRICS
            .sign_in_checks
            .get_or_create(&CheckLabels {
                factor: f.label(),
                outcome,
            })
            .inc();
    }
}

/// Events just appended: locks are counted.
pub(crate) fn appended(stored: &[StoredEvent]) {
    let locks = stored
        .iter()
        .filter(|e| matches!(e.payload, EventPayload::UserLocked))
        .count();
    if locks > 0 {
        METRICS.user_locks.inc_by(locks as u64);
    }
}

/// One committed (or failed) write transaction of `batch` appends.
pub fn commit(batch: usize, elapsed: Duration) {
    METRICS.commit_seconds.observe(elapsed.as_secs_f64());
    METRICS.commit_batch.observe(batch as f64);
}

/// `n` events read to rebuild one aggregate's state.
pub(crate) fn events_loaded(n: usize) {
    METRICS.events_loaded.inc_by(n as u64);
}

/// What became of a one-time-code message.
#[derive(Clone, Copy, Debug)]
pub enum Delivery {
    Sent,
    /// Every attempt failed.
    Failed,
    /// Not attempted: the delivery queue was full.
    Dropped,
}

pub(crate) fn delivery(channel: twofold_domain::notify::Channel, outcome: Delivery) {
    let channel = match channel {
        twofold_domain::notify::Channel::Email => "email",
        twofold_domain::notify::Channel::Sms => "sms",
    };
    let outcome = match outcome {
        Delivery::Sent => "sent",
        Delivery::Failed => "failed",
        Delivery::Dropped => "dropped",
    };
    METRICS
        .deliveries
        .get_or_create(&DeliveryLabels { channel, outcome })
        .inc();
}

pub(crate) fn hash_queue_full() {
    METRICS.hash_queue_full.inc();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_appear_once_recorded() {
        let method: Arc<str> = Arc::from("/zitadel.session.v2.SessionService/CreateSession");
        request(&method, "OK", Duration::from_millis(3));
        sign_in(&[Factor::Password, Factor::Totp], Ok(()));
        let throttled = DomainError::new(
            twofold_domain::ErrorKind::ResourceExhausted,
            session::THROTTLED,
            "slow down",
        );
        sign_in(&[Factor::Totp], Err(&throttled));
        let text = encode();
        for line in [
            "twofold_requests_total{method=\"/zitadel.session.v2.SessionService/CreateSession\",code=\"OK\"} 1",
            "twofold_sign_in_checks_total{factor=\"password\",outcome=\"success\"} 1",
            "twofold_sign_in_checks_total{factor=\"totp\",outcome=\"throttled\"} 1",
            "twofold_otp_throttled_total 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing from\n{text}");
        }
        assert!(text.contains("# TYPE twofold_request_duration_seconds histogram"));
        assert!(text.ends_with("# EOF\n"));
    }
}
