//! Hot pure functions of the domain: folding a login policy's history and
//! the permission check every API call makes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "benchmark code: a panic is a failed run"
)]

use twofold_domain::OrgId;
use twofold_domain::event::{EventPayload, MfaTypePayload};
use twofold_domain::factors::SecondFactor;
use twofold_domain::login_policy::{LoginPolicySettings, LoginPolicyState};
use twofold_domain::permissions::{self, Membership, On, Permission};
use twofold_domain::scope::Scope;

fn main() {
    divan::main();
}

/// A policy after `n` add/remove toggles of one factor.
fn history(n: usize) -> Vec<EventPayload> {
    let mut events = vec![EventPayload::InstanceLoginPolicyAdded(
        LoginPolicySettings::instance_default(),
    )];
    for i in 0..n {
        let p = MfaTypePayload {
            mfa_type: SecondFactor::OtpEmail,
        };
        events.push(if i % 2 == 0 {
            EventPayload::InstanceSecondFactorAdded(p)
        } else {
            EventPayload::InstanceSecondFactorRemoved(p)
        });
    }
    events
}

#[divan::bench(args = [10, 1_000])]
fn fold_login_policy(bencher: divan::Bencher, n: usize) {
    let events = history(n);
    bencher.bench(|| LoginPolicyState::fold(Scope::Instance, divan::black_box(&events)));
}

#[divan::bench]
fn permission_check(bencher: divan::Bencher) {
    let memberships = vec![
        Membership {
            org_id: Some("1".into()),
            roles: vec!["ORG_OWNER_VIEWER".into()],
        },
        Membership {
            org_id: None,
            roles: vec!["IAM_OWNER".into()],
        },
    ];
    let org = OrgId::from("2");
    bencher.bench(|| {
        permissions::check(
            divan::black_box(&memberships),
            On::Org(&org),
            Permission::IamPolicyWrite,
        )
    });
}
