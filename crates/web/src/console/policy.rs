//! The login policy of the instance and of an org: the form, the preview
//! of a pending change (who it locks out, sends to MFA set-up, ...), the
//! save through the same use cases as the Admin and Management APIs (the
//! guard rail included, with "save anyway" as `x-twofold-force`), and the
//! policy's change history.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use serde::Deserialize;
use twofold_app::auth::RequestCtx;
use twofold_app::login_policy::FactorChange;
use twofold_app::policy_history::PolicyEvent;
use twofold_app::policy_preview::{Force, PolicyChange};
use twofold_domain::factors::{MultiFactor, SecondFactor};
use twofold_domain::login_policy::LoginPolicySettings;
use twofold_domain::policy_preview::{Category, Impact};
use twofold_domain::readmodel::login_policy::LoginPolicyView;
use twofold_domain::readmodel::query::ListRequest;
use twofold_domain::scope::Scope;
use twofold_domain::{DomainError, EventPayload};

use super::{acting, refused, rpc};
use crate::account::when;
use crate::catalog::Catalog;
use crate::errors::{self, render};
use crate::login::{Early, form_expired};
use crate::visit::Visit;
use crate::web::Web;

const HOUR_NS: i64 = 3_600 * 1_000_000_000;
/// The guard rail's refusal (`twofold_domain::policy_preview::check_owners`).
const LOCK_OUT: &str = "POLICY-LockOut";

/// The second factors the form toggles: form value, label.
const SECOND: [(SecondFactor, &str, &str); 5] = [
    (SecondFactor::Otp, "otp", "console.factor.otp"),
    (SecondFactor::U2f, "u2f", "console.factor.u2f"),
    (SecondFactor::OtpEmail, "otp_email", "console.factor.otp_email"),
    (SecondFactor::OtpSms, "otp_sms", "console.factor.otp_sms"),
    (
        SecondFactor::RecoveryCodes,
        "recovery_codes",
        "console.factor.recovery_codes",
    ),
];
const MULTI: [(MultiFactor, &str, &str); 1] = [(MultiFactor::U2fWithVerification, "passkey", "console.factor.passkey")];

/// A lifetime the form edits, in whole hours.
struct Lifetime {
    field: &'static str,
    label: &'static str,
    get: fn(&LoginPolicySettings) -> i64,
    set: fn(&mut LoginPolicySettings, i64),
}

const LIFETIMES: [Lifetime; 5] = [
    Lifetime {
        field: "password_check",
        label: "console.lifetime.password_check",
        get: |s| s.password_check_lifetime,
        set: |s, v| s.password_check_lifetime = v,
    },
    Lifetime {
        field: "second_factor_check",
        label: "console.lifetime.second_factor_check",
        get: |s| s.second_factor_check_lifetime,
        set: |s, v| s.second_factor_check_lifetime = v,
    },
    Lifetime {
        field: "multi_factor_check",
        label: "console.lifetime.multi_factor_check",
        get: |s| s.multi_factor_check_lifetime,
        set: |s, v| s.multi_factor_check_lifetime = v,
    },
    Lifetime {
        field: "mfa_init_skip",
        label: "console.lifetime.mfa_init_skip",
        get: |s| s.mfa_init_skip_lifetime,
        set: |s, v| s.mfa_init_skip_lifetime = v,
    },
    Lifetime {
        field: "external_login_check",
        label: "console.lifetime.external_login_check",
        get: |s| s.external_login_check_lifetime,
        set: |s, v| s.external_login_check_lifetime = v,
    },
];
/// Longest lifetime the form takes: ten years.
const MAX_HOURS: i64 = 24 * 3_660;

/// What the form says the policy should be.
#[derive(Clone, Debug, PartialEq)]
struct Pending {
    /// Org: a policy of its own (else the instance default). Always true
    /// for the instance.
    custom: bool,
    second: Vec<SecondFactor>,
    multi: Vec<MultiFactor>,
    force_mfa: bool,
    allow_password: bool,
    passwordless: bool,
    hours: [i64; 5],
}

impl Pending {
    fn of(view: &LoginPolicyView, custom: bool) -> Self {
        let s = &view.settings;
        Self {
            custom,
            second: SECOND
                .iter()
                .map(|(f, ..)| *f)
                .filter(|f| view.second_factors.contains(f))
                .collect(),
            multi: MULTI
                .iter()
                .map(|(f, ..)| *f)
                .filter(|f| view.multi_factors.contains(f))
                .collect(),
            force_mfa: s.force_mfa,
            allow_password: s.allow_username_password,
            passwordless: s.passwordless_type != 0,
            hours: LIFETIMES.map(|l| (l.get)(s) / HOUR_NS),
        }
    }

    /// From the posted fields; an error key for a bad lifetime.
    fn parse(pairs: &[(String, String)], scope: Scope) -> Result<Self, &'static str> {
        let has = |k: &str, v: &str| pairs.iter().any(|(pk, pv)| pk == k && pv == v);
        let value = |k: &str| pairs.iter().find(|(pk, _)| pk == k).map(|(_, v)| v.trim());
        let mut hours = [0; 5];
        for (h, l) in hours.iter_mut().zip(LIFETIMES.iter()) {
            *h = value(l.field)
                .and_then(|v| v.parse::<i64>().ok())
                .filter(|v| (0..=MAX_HOURS).contains(v))
                .ok_or("console.error.hours")?;
        }
        Ok(Self {
            custom: scope == Scope::Instance || has("policy", "custom"),
            second: SECOND
                .iter()
                .filter(|(_, v, _)| has("second", v))
                .map(|(f, ..)| *f)
                .collect(),
            multi: MULTI
                .iter()
                .filter(|(_, v, _)| has("multi", v))
                .map(|(f, ..)| *f)
                .collect(),
            force_mfa: has("force_mfa", "on"),
            allow_password: has("allow_password", "on"),
            passwordless: has("passwordless", "on"),
            hours,
        })
    }

    /// The fields the form posts for this (carried by the Save form).
    fn fields(&self, scope: Scope) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if scope == Scope::Org {
            out.push(("policy", if self.custom { "custom" } else { "default" }.to_owned()));
        }
        for (f, v, _) in SECOND {
            if self.second.contains(&f) {
                out.push(("second", v.to_owned()));
            }
        }
        for (f, v, _) in MULTI {
            if self.multi.contains(&f) {
                out.push(("multi", v.to_owned()));
            }
        }
        for (on, name) in [
            (self.force_mfa, "force_mfa"),
            (self.allow_password, "allow_password"),
            (self.passwordless, "passwordless"),
        ] {
            if on {
                out.push((name, "on".to_owned()));
            }
        }
        for (h, l) in self.hours.iter().zip(LIFETIMES.iter()) {
            out.push((l.field, h.to_string()));
        }
        out
    }

    /// `base` with the settings the form edits replaced; lifetimes keep
    /// their exact value where the hours shown were not changed.
    fn settings(&self, base: &LoginPolicySettings) -> LoginPolicySettings {
        let mut s = base.clone();
        s.force_mfa = self.force_mfa;
        s.allow_username_password = self.allow_password;
        s.passwordless_type = i32::from(self.passwordless);
        for (h, l) in self.hours.iter().zip(LIFETIMES.iter()) {
            if (l.get)(base) / HOUR_NS != *h {
                (l.set)(&mut s, h * HOUR_NS);
            }
        }
        s
    }
}

/// The policy as it is: the scope's own (None: an org on the default) and
/// the one in force.
struct Current {
    own: Option<LoginPolicyView>,
    effective: LoginPolicyView,
}

/// How to get from the current policy to the pending one.
enum Plan {
    Nothing,
    Reset,
    Create {
        settings: LoginPolicySettings,
        second: Vec<SecondFactor>,
        multi: Vec<MultiFactor>,
    },
    Change {
        settings: Option<LoginPolicySettings>,
        factors: Vec<FactorChange>,
    },
}

impl Plan {
    fn of(current: &Current, p: &Pending) -> Self {
        let Some(own) = &current.own else {
            if !p.custom {
                return Self::Nothing;
            }
            return Self::Create {
                settings: p.settings(&current.effective.settings),
                second: p.second.clone(),
                multi: p.multi.clone(),
            };
        };
        if !p.custom {
            return Self::Reset;
        }
        let settings = Some(p.settings(&own.settings)).filter(|s| *s != own.settings);
        // Additions first: a change is never weaker on its way than at its end.
        let mut factors = Vec::new();
        for (f, ..) in SECOND {
            if p.second.contains(&f) && !own.second_factors.contains(&f) {
                factors.push(FactorChange::AddSecond(f));
            }
        }
        for (f, ..) in MULTI {
            if p.multi.contains(&f) && !own.multi_factors.contains(&f) {
                factors.push(FactorChange::AddMulti(f));
            }
        }
        for (f, ..) in SECOND {
            if !p.second.contains(&f) && own.second_factors.contains(&f) {
                factors.push(FactorChange::RemoveSecond(f));
            }
        }
        for (f, ..) in MULTI {
            if !p.multi.contains(&f) && own.multi_factors.contains(&f) {
                factors.push(FactorChange::RemoveMulti(f));
            }
        }
        if settings.is_none() && factors.is_empty() {
            return Self::Nothing;
        }
        Self::Change { settings, factors }
    }

    /// The whole change, as the preview and the guard rail see it.
    fn change(&self) -> Option<PolicyChange> {
        match self {
            Self::Nothing => None,
            Self::Reset => Some(PolicyChange::Reset),
            Self::Create {
                settings,
                second,
                multi,
            } => {
                let mut steps = vec![PolicyChange::Settings(settings.clone())];
                steps.extend(second.iter().map(|f| PolicyChange::Factor(FactorChange::AddSecond(*f))));
                steps.extend(multi.iter().map(|f| PolicyChange::Factor(FactorChange::AddMulti(*f))));
                Some(PolicyChange::Steps(steps))
            }
            Self::Change { settings, factors } => {
                let mut steps: Vec<PolicyChange> = settings.iter().cloned().map(PolicyChange::Settings).collect();
                steps.extend(factors.iter().map(|f| PolicyChange::Factor(*f)));
                Some(PolicyChange::Steps(steps))
            }
        }
    }
}

/// Where a page is: the instance's policy or an org's.
struct Target {
    scope: Scope,
    org: Option<(String, String)>,
}

impl Target {
    fn org_id(&self) -> Option<&str> {
        self.org.as_ref().map(|(id, _)| id.as_str())
    }

    fn path(&self) -> String {
        match self.org_id() {
            Some(id) => format!("/ui/console/orgs/{id}/policy"),
            None => "/ui/console/policy".to_owned(),
        }
    }

    fn read_rpc(&self) -> &'static str {
        match self.scope {
            Scope::Instance => rpc::ADMIN_GET_POLICY,
            Scope::Org => rpc::MGMT_GET_POLICY,
        }
    }

    async fn ctx(&self, web: &Web, visit: &Visit, rpc: &str) -> Early<RequestCtx> {
        acting(web, visit, rpc, self.org_id()).await
    }

    /// The policy as the caller may read it.
    async fn current(&self, web: &Web, visit: &Visit) -> Early<(RequestCtx, Current)> {
        let ctx = self.ctx(web, visit, self.read_rpc()).await?;
        let fail = |e| errors::page(visit.t, &e);
        let current = match self.scope {
            Scope::Instance => {
                let view = web.app.default_login_policy(&ctx.instance_id).await.map_err(fail)?;
                Current {
                    own: Some(view.clone()),
                    effective: view,
                }
            }
            Scope::Org => {
                let view = web
                    .app
                    .org_login_policy(&ctx.instance_id, &ctx.org_id)
                    .await
                    .map_err(fail)?;
                Current {
                    own: (!view.is_default).then(|| view.clone()),
                    effective: view,
                }
            }
        };
        Ok((ctx, current))
    }
}

async fn org_target(web: &Web, visit: &Visit, org: String) -> Early<Target> {
    // Reading the policy checks the permission; the name is shown only after.
    let ctx = acting(web, visit, rpc::MGMT_GET_POLICY, Some(&org)).await?;
    let view = web
        .app
        .org(&ctx.instance_id, ctx.org_id.as_str())
        .await
        .map_err(|e| errors::page(visit.t, &e))?;
    Ok(Target {
        scope: Scope::Org,
        org: Some((org, view.name)),
    })
}

pub struct Toggle {
    pub name: &'static str,
    pub value: &'static str,
    pub label: &'static str,
    pub on: bool,
}

pub struct LifetimeField {
    pub name: &'static str,
    pub label: &'static str,
    pub hours: i64,
}

pub struct GroupView {
    pub key: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub count: u64,
    pub examples: Vec<String>,
}

pub struct PreviewView {
    pub total: u64,
    pub groups: Vec<GroupView>,
}

pub struct HistoryRow {
    pub at: String,
    pub who: String,
    pub what: String,
}

#[derive(Template)]
#[template(path = "console_policy.html")]
struct PolicyPage<'a> {
    t: &'a Catalog,
    csrf: String,
    title: String,
    action: String,
    org_id: Option<String>,
    error: Option<String>,
    notice: Option<String>,
    /// An org's page: "a policy of its own / the default".
    is_org: bool,
    custom: bool,
    second: Vec<Toggle>,
    multi: Vec<Toggle>,
    flags: Vec<Toggle>,
    lifetimes: Vec<LifetimeField>,
    preview: Option<PreviewView>,
    hidden: Vec<(&'static str, String)>,
    refused: bool,
    history: Vec<HistoryRow>,
}

fn factor_label(t: &Catalog, f: SecondFactor) -> &'static str {
    SECOND
        .iter()
        .find(|(s, ..)| *s == f)
        .map_or("", |(_, _, label)| t.get(label))
}

fn multi_label(t: &Catalog, f: MultiFactor) -> &'static str {
    MULTI
        .iter()
        .find(|(m, ..)| *m == f)
        .map_or("", |(_, _, label)| t.get(label))
}

/// What a policy event did, in a sentence.
fn what(t: &Catalog, p: &EventPayload) -> String {
    use EventPayload as E;
    match p {
        E::InstanceLoginPolicyAdded(_) | E::OrgLoginPolicyAdded(_) => t.get("console.history.added").to_owned(),
        E::OrgLoginPolicyRemoved => t.get("console.history.reset").to_owned(),
        E::InstanceLoginPolicyChanged(c) | E::OrgLoginPolicyChanged(c) => {
            let fields = serde_json::to_value(c)
                .ok()
                .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>().join(", ")))
                .unwrap_or_default();
            t.with("console.history.changed", fields)
        }
        E::InstanceSecondFactorAdded(f) | E::OrgSecondFactorAdded(f) => {
            t.with("console.history.second_added", factor_label(t, f.mfa_type))
        }
        E::InstanceSecondFactorRemoved(f) | E::OrgSecondFactorRemoved(f) => {
            t.with("console.history.second_removed", factor_label(t, f.mfa_type))
        }
        E::InstanceMultiFactorAdded(f) | E::OrgMultiFactorAdded(f) => {
            t.with("console.history.multi_added", multi_label(t, f.mfa_type))
        }
        E::InstanceMultiFactorRemoved(f) | E::OrgMultiFactorRemoved(f) => {
            t.with("console.history.multi_removed", multi_label(t, f.mfa_type))
        }
        _ => String::new(),
    }
}

fn history_rows(t: &Catalog, events: Vec<PolicyEvent>) -> Vec<HistoryRow> {
    events
        .into_iter()
        .map(|e| HistoryRow {
            at: when(e.event.created_at),
            who: e.editor.unwrap_or_else(|| e.event.creator.clone()),
            what: what(t, &e.event.payload),
        })
        .collect()
}

fn groups(t: &Catalog, i: &Impact) -> Vec<GroupView> {
    Category::ALL
        .iter()
        .map(|c| {
            let (key, label, hint) = match c {
                Category::LockedOut => (
                    "locked_out",
                    "console.preview.locked_out",
                    "console.preview.locked_out_hint",
                ),
                Category::MustEnroll => (
                    "must_enroll",
                    "console.preview.must_enroll",
                    "console.preview.must_enroll_hint",
                ),
                Category::MfaDowngraded => (
                    "mfa_downgraded",
                    "console.preview.mfa_downgraded",
                    "console.preview.mfa_downgraded_hint",
                ),
                Category::LosesAFactor => (
                    "loses_a_factor",
                    "console.preview.loses_a_factor",
                    "console.preview.loses_a_factor_hint",
                ),
                Category::Unaffected => (
                    "unaffected",
                    "console.preview.unaffected",
                    "console.preview.unaffected_hint",
                ),
            };
            let g = i.group(*c);
            GroupView {
                key,
                label: t.get(label),
                hint: t.get(hint),
                count: g.count,
                examples: g.examples.iter().map(|u| u.login_name.clone()).collect(),
            }
        })
        .collect()
}

/// What a page shows besides the form.
#[derive(Default)]
struct Extras {
    error: Option<String>,
    notice: Option<String>,
    preview: Option<Impact>,
    /// The pending change was refused by the guard rail.
    refused: bool,
}

async fn show(
    web: &Web,
    visit: &Visit,
    target: &Target,
    ctx: &RequestCtx,
    pending: &Pending,
    x: Extras,
) -> Early<Response> {
    let t = visit.t;
    let history = web
        .app
        .login_policy_history(ctx, target.scope)
        .await
        .map_err(|e| errors::page(t, &e))?;
    let toggle = |name, value, label, on| Toggle {
        name,
        value,
        label: t.get(label),
        on,
    };
    let title = match &target.org {
        Some((_, name)) => t.with("console.policy.org_title", name),
        None => t.get("console.policy.instance_title").to_owned(),
    };
    let status = errors::form_status(&x.error);
    let page = PolicyPage {
        t,
        csrf: web.csrf_token(&visit.seed),
        title,
        action: target.path(),
        org_id: target.org_id().map(str::to_owned),
        error: x.error,
        notice: x.notice,
        is_org: target.scope == Scope::Org,
        custom: pending.custom,
        second: SECOND
            .iter()
            .map(|(f, v, l)| toggle("second", *v, *l, pending.second.contains(f)))
            .collect(),
        multi: MULTI
            .iter()
            .map(|(f, v, l)| toggle("multi", *v, *l, pending.multi.contains(f)))
            .collect(),
        flags: vec![
            toggle("force_mfa", "on", "console.policy.force_mfa", pending.force_mfa),
            toggle(
                "allow_password",
                "on",
                "console.policy.allow_password",
                pending.allow_password,
            ),
            toggle(
                "passwordless",
                "on",
                "console.policy.passwordless",
                pending.passwordless,
            ),
        ],
        lifetimes: pending
            .hours
            .iter()
            .zip(LIFETIMES.iter())
            .map(|(h, l)| LifetimeField {
                name: l.field,
                label: t.get(l.label),
                hours: *h,
            })
            .collect(),
        preview: x.preview.as_ref().map(|i| PreviewView {
            total: i.total(),
            groups: groups(t, i),
        }),
        hidden: pending.fields(target.scope),
        refused: x.refused,
        history: history_rows(t, history),
    };
    Ok(render(status, &page))
}

#[derive(Deserialize)]
pub struct Saved {
    saved: Option<String>,
}

async fn policy_page(web: &Web, visit: &Visit, target: Target, saved: bool) -> Early<Response> {
    let (ctx, current) = target.current(web, visit).await?;
    let pending = Pending::of(&current.effective, current.own.is_some());
    let notice = saved.then(|| visit.t.get("console.policy.saved").to_owned());
    show(
        web,
        visit,
        &target,
        &ctx,
        &pending,
        Extras {
            notice,
            ..Extras::default()
        },
    )
    .await
}

pub async fn instance_page(State(web): State<Arc<Web>>, visit: Visit, Query(q): Query<Saved>) -> Early<Response> {
    let target = Target {
        scope: Scope::Instance,
        org: None,
    };
    policy_page(&web, &visit, target, q.saved.is_some()).await
}

pub async fn org_page(
    State(web): State<Arc<Web>>,
    visit: Visit,
    Path(org): Path<String>,
    Query(q): Query<Saved>,
) -> Early<Response> {
    let target = org_target(&web, &visit, org).await?;
    policy_page(&web, &visit, target, q.saved.is_some()).await
}

pub async fn instance_post(
    State(web): State<Arc<Web>>,
    visit: Visit,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Early<Response> {
    let target = Target {
        scope: Scope::Instance,
        org: None,
    };
    post(&web, &visit, target, &pairs).await
}

pub async fn org_post(
    State(web): State<Arc<Web>>,
    visit: Visit,
    Path(org): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Early<Response> {
    let target = org_target(&web, &visit, org).await?;
    post(&web, &visit, target, &pairs).await
}

/// Preview (the form's primary action), save, or save past the guard rail.
async fn post(web: &Web, visit: &Visit, target: Target, pairs: &[(String, String)]) -> Early<Response> {
    let value = |k: &str| pairs.iter().find(|(pk, _)| pk == k).map(|(_, v)| v.as_str());
    if !web.csrf_ok(&visit.seed, value("csrf").unwrap_or("")) {
        return Ok(form_expired(visit.t));
    }
    let (ctx, current) = target.current(web, visit).await?;
    let pending = match Pending::parse(pairs, target.scope) {
        Ok(p) => p,
        Err(key) => {
            let pending = Pending::of(&current.effective, current.own.is_some());
            let error = Some(visit.t.get(key).to_owned());
            return show(
                web,
                visit,
                &target,
                &ctx,
                &pending,
                Extras {
                    error,
                    ..Extras::default()
                },
            )
            .await;
        }
    };
    let plan = Plan::of(&current, &pending);
    let Some(change) = plan.change() else {
        let notice = Some(visit.t.get("console.policy.unchanged").to_owned());
        return show(
            web,
            visit,
            &target,
            &ctx,
            &pending,
            Extras {
                notice,
                ..Extras::default()
            },
        )
        .await;
    };
    let force = match value("step") {
        Some("save") => Force(false),
        Some("force") => Force(true),
        _ => {
            let impact = preview(web, visit, &target, &change).await?;
            let x = Extras {
                preview: Some(impact),
                ..Extras::default()
            };
            return show(web, visit, &target, &ctx, &pending, x).await;
        }
    };
    match save(web, visit, &target, &plan, &change, force).await? {
        Ok(()) => Ok(Redirect::to(&format!("{}?saved=1", target.path())).into_response()),
        Err(e) => {
            let refused = e.id.as_ref() == LOCK_OUT;
            let error = Some(if refused {
                visit.t.get("console.policy.lock_out").to_owned()
            } else {
                errors::sentence(visit.t, &e)
            });
            let impact = preview(web, visit, &target, &change).await.ok();
            let x = Extras {
                error,
                preview: impact,
                refused,
                ..Extras::default()
            };
            show(web, visit, &target, &ctx, &pending, x).await
        }
    }
}

/// The impact of `change`, under the preview RPC's auth.
async fn preview(web: &Web, visit: &Visit, target: &Target, change: &PolicyChange) -> Early<Impact> {
    let rpc = match target.scope {
        Scope::Instance => rpc::PREVIEW_INSTANCE,
        Scope::Org => rpc::PREVIEW_ORG,
    };
    let ctx = target.ctx(web, visit, rpc).await?;
    web.app
        .preview_login_policy_change(&ctx, target.scope, change)
        .await
        .map_err(|e| refused(visit.t, &e))
}

/// Makes the change through the use cases the APIs use, each under its
/// RPC's auth. The guard rail judges the whole change first; the steps
/// after it are then not judged one by one (a step on the way may look
/// weaker than where the change ends).
async fn save(
    web: &Web,
    visit: &Visit,
    target: &Target,
    plan: &Plan,
    change: &PolicyChange,
    force: Force,
) -> Early<Result<(), DomainError>> {
    let scope = target.scope;
    let org = scope == Scope::Org;
    let first_rpc = match plan {
        Plan::Nothing => return Ok(Ok(())),
        Plan::Reset => rpc::MGMT_RESET,
        Plan::Create { .. } => rpc::MGMT_ADD_CUSTOM,
        Plan::Change { .. } if org => rpc::MGMT_UPDATE_CUSTOM,
        Plan::Change { .. } => rpc::ADMIN_UPDATE_POLICY,
    };
    let ctx = target.ctx(web, visit, first_rpc).await?;
    if let Err(e) = web.app.check_login_policy_change(&ctx, scope, change, force).await {
        return Ok(Err(e));
    }
    let checked = Force(true);
    let app = &web.app;
    let result = match plan {
        Plan::Nothing => Ok(()),
        Plan::Reset => app.reset_login_policy(&ctx, checked).await.map(drop),
        Plan::Create {
            settings,
            second,
            multi,
        } => {
            let second: Vec<i32> = second.iter().map(|f| i32::from(*f)).collect();
            let multi: Vec<i32> = multi.iter().map(|f| i32::from(*f)).collect();
            app.add_custom_login_policy(&ctx, settings.clone(), &second, &multi, 0, checked)
                .await
                .map(drop)
        }
        Plan::Change { settings, factors } => {
            if let Some(s) = settings
                && let Err(e) = app.update_login_policy(&ctx, scope, s.clone(), checked).await
            {
                return Ok(Err(e));
            }
            for f in factors {
                let rpc = match (f, org) {
                    (FactorChange::AddSecond(_), false) => rpc::ADMIN_ADD_SECOND,
                    (FactorChange::RemoveSecond(_), false) => rpc::ADMIN_REMOVE_SECOND,
                    (FactorChange::AddMulti(_), false) => rpc::ADMIN_ADD_MULTI,
                    (FactorChange::RemoveMulti(_), false) => rpc::ADMIN_REMOVE_MULTI,
                    (FactorChange::AddSecond(_), true) => rpc::MGMT_ADD_SECOND,
                    (FactorChange::RemoveSecond(_), true) => rpc::MGMT_REMOVE_SECOND,
                    (FactorChange::AddMulti(_), true) => rpc::MGMT_ADD_MULTI,
                    (FactorChange::RemoveMulti(_), true) => rpc::MGMT_REMOVE_MULTI,
                };
                let ctx = target.ctx(web, visit, rpc).await?;
                if let Err(e) = app.change_factor(&ctx, scope, *f, checked).await {
                    return Ok(Err(e));
                }
            }
            Ok(())
        }
    };
    Ok(result)
}

#[derive(Template)]
#[template(path = "console_home.html")]
struct HomePage<'a> {
    t: &'a Catalog,
    instance: bool,
    orgs: Vec<(String, String)>,
}

/// The instance's policy (for those who may read it) and the orgs: all of
/// them for an instance administrator, else the caller's own.
pub async fn home(State(web): State<Arc<Web>>, visit: Visit) -> Early<Response> {
    let t = visit.t;
    let instance = acting(&web, &visit, rpc::ADMIN_GET_POLICY, None).await.is_ok();
    let orgs = match acting(&web, &visit, rpc::LIST_ORGS, None).await {
        Ok(ctx) => {
            web.app
                .list_orgs(&ctx.instance_id, &[], true, ListRequest::default())
                .await
                .map_err(|e| errors::page(t, &e))?
                .orgs
        }
        Err(_) => match acting(&web, &visit, rpc::MGMT_GET_POLICY, None).await {
            Ok(ctx) => vec![
                web.app
                    .org(&ctx.instance_id, ctx.org_id.as_str())
                    .await
                    .map_err(|e| errors::page(t, &e))?,
            ],
            Err(_) if instance => vec![],
            // Signed out: the login; signed in without a role: not allowed.
            Err(resp) => return Err(resp),
        },
    };
    let page = HomePage {
        t,
        instance,
        orgs: orgs.into_iter().map(|o| (o.id.as_str().to_owned(), o.name)).collect(),
    };
    Ok(render(StatusCode::OK, &page))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(second: &[SecondFactor]) -> LoginPolicyView {
        LoginPolicyView {
            details: Default::default(),
            settings: LoginPolicySettings::instance_default(),
            second_factors: second.to_vec(),
            multi_factors: vec![],
            is_default: true,
        }
    }

    #[test]
    fn an_unchanged_form_plans_nothing() {
        let v = view(&[SecondFactor::Otp, SecondFactor::U2f]);
        let current = Current {
            own: Some(v.clone()),
            effective: v.clone(),
        };
        let p = Pending::of(&v, true);
        let pairs: Vec<(String, String)> = p
            .fields(Scope::Instance)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert_eq!(Pending::parse(&pairs, Scope::Instance), Ok(p.clone()));
        assert!(matches!(Plan::of(&current, &p), Plan::Nothing));
    }

    #[test]
    fn a_toggled_factor_is_one_step() {
        let v = view(&[SecondFactor::Otp, SecondFactor::U2f]);
        let current = Current {
            own: Some(v.clone()),
            effective: v.clone(),
        };
        let mut p = Pending::of(&v, true);
        p.second.retain(|f| *f != SecondFactor::Otp);
        assert_eq!(
            Plan::of(&current, &p).change(),
            Some(PolicyChange::Steps(vec![PolicyChange::Factor(
                FactorChange::RemoveSecond(SecondFactor::Otp)
            )]))
        );
    }

    #[test]
    fn an_org_on_the_default_gets_its_own_policy() {
        let v = view(&[SecondFactor::Otp]);
        let current = Current {
            own: None,
            effective: v.clone(),
        };
        let mut p = Pending::of(&v, false);
        assert!(matches!(Plan::of(&current, &p), Plan::Nothing));
        p.custom = true;
        p.force_mfa = true;
        let Plan::Create { settings, second, .. } = Plan::of(&current, &p) else {
            panic!("a new policy")
        };
        assert!(settings.force_mfa);
        assert_eq!(second, vec![SecondFactor::Otp]);
    }

    #[test]
    fn bad_hours_are_refused() {
        let pairs = vec![("password_check".to_owned(), "x".to_owned())];
        assert_eq!(Pending::parse(&pairs, Scope::Instance), Err("console.error.hours"));
    }
}
