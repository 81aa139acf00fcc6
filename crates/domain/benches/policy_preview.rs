//! The lock-out preview's classification: one pass over per-user summaries
//! (as a scan would do it), and over the (org, factor set) groups the store
//! counts (as the preview RPC does it).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "benchmark code: a panic is a failed run"
)]

use twofold_domain::factors::SecondFactor;
use twofold_domain::ids::{OrgId, UserId};
use twofold_domain::login_policy::{LoginPolicySettings, LoginPolicyState};
use twofold_domain::policy_preview::{self as pp, FactorMask, Impact, UserRef, UserSummary};

fn main() {
    divan::main();
}

fn policy(second: &[SecondFactor]) -> LoginPolicyState {
    LoginPolicyState {
        exists: true,
        settings: LoginPolicySettings::instance_default(),
        second_factors: second.to_vec(),
        multi_factors: vec![],
    }
}

/// `n` users over 100 orgs with a spread of factor sets.
fn users(n: usize) -> Vec<UserSummary> {
    (0..n)
        .map(|i| UserSummary {
            user: UserRef {
                user_id: UserId::from(format!("{i}").as_str()),
                login_name: format!("user{i}"),
                org_id: OrgId::from(format!("org{}", i % 100).as_str()),
            },
            mask: FactorMask((i % 64) as u8 | FactorMask::PASSWORD),
        })
        .collect()
}

#[divan::bench(args = [10_000, 100_000])]
fn classify_users(bencher: divan::Bencher, n: usize) {
    let users = users(n);
    let before = policy(&[SecondFactor::Otp, SecondFactor::U2f, SecondFactor::OtpEmail]);
    let after = policy(&[SecondFactor::Otp, SecondFactor::U2f]);
    bencher.bench(|| pp::impact(divan::black_box(&users), |_| Some((&before, &after))));
}

/// What the RPC classifies: one entry per (org, factor set) with its count.
#[divan::bench(args = [10_000, 100_000])]
fn classify_groups(bencher: divan::Bencher, n: usize) {
    let mut groups: std::collections::BTreeMap<(OrgId, FactorMask), u64> = Default::default();
    for u in users(n) {
        *groups.entry((u.user.org_id, u.mask)).or_default() += 1;
    }
    let before = policy(&[SecondFactor::Otp, SecondFactor::U2f, SecondFactor::OtpEmail]);
    let after = policy(&[SecondFactor::Otp, SecondFactor::U2f]);
    bencher.bench(|| {
        let mut out = Impact::default();
        for ((_, mask), count) in divan::black_box(&groups) {
            out.group_mut(pp::classify(&before, &after, *mask)).count += count;
        }
        out
    });
}
