//! One-time-password delivery: provider set-up (Admin API) and sending.
//! Sending runs off the request path, with retries; the outcome is logged
//! and recorded on the session (`session.otp.*.sent` or
//! `session.otp.delivery.failed`), never failing the API call.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use hmac::{Hmac, Mac};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;
use tokio::sync::{Semaphore, mpsc};
use tracing::Instrument;
use twofold_domain::event::{DeliveryFailed, EventPayload as E};
use twofold_domain::notify::{self, Channel, HttpSmsConfig, ProviderId, Providers, SmtpConfig};
use twofold_domain::readmodel::Collection;
use twofold_domain::readmodel::directory::InstanceView;
use twofold_domain::readmodel::providers::{ACTIVE_EMAIL, ACTIVE_SMS, sms_doc_id, smtp_doc_id};
use twofold_domain::{AggregateRef, DomainError, InstanceId, SessionId};

use crate::auth::RequestCtx;
use crate::{App, WriteDetails, metrics, secrets};

const ATTEMPTS: u32 = 3;
const HTTP_TIMEOUT: Duration = Duration::from_secs(5);
/// Messages that may wait for sending by default.
pub const DEFAULT_QUEUE: usize = 1024;
/// Messages being sent at the same time.
const CONCURRENT_SENDS: usize = 16;

/// The delivery queue, its worker started with the first message (inside
/// the async runtime).
pub(crate) struct Deliveries {
    capacity: usize,
    queue: OnceLock<mpsc::Sender<(Delivery, tracing::Span)>>,
}

impl Deliveries {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            queue: OnceLock::new(),
        }
    }
}

pub struct NewSmtp {
    pub sender_address: String,
    pub sender_name: String,
    pub tls: bool,
    pub host: String,
    pub user: String,
    pub password: String,
    pub reply_to_address: String,
    pub description: String,
}

/// What a code is for: a sign-in (recorded on the session), verifying a
/// user's email address or phone number, or resetting the password with
/// the link (recorded on the user).
pub(crate) enum Purpose {
    SignIn {
        session_id: SessionId,
    },
    /// `link`: the request's link template, rendered.
    Verify {
        user: AggregateRef,
        link: Option<String>,
    },
    PasswordReset {
        user: AggregateRef,
        link: String,
    },
    /// An invite code (by email), recorded on the invited user.
    Invite {
        user: AggregateRef,
        application_name: String,
        link: Option<String>,
    },
    /// A passkey registration link (by email), recorded on the user.
    PasskeyRegistration {
        user: AggregateRef,
        link: String,
    },
}

/// The line a mail adds for a rendered link.
fn link_line(link: Option<&String>) -> String {
    link.map(|l| format!("\nOr open this link: {l}\n")).unwrap_or_default()
}

/// One code to send.
pub(crate) struct Delivery {
    pub instance_id: InstanceId,
    pub purpose: Purpose,
    pub channel: Channel,
    pub recipient: String,
    pub display_name: String,
    pub code: String,
}

/// `t=<unix>,v1=<hex HMAC-SHA256(key, "<unix>." + body)>`, as ZITADEL signs.
#[expect(clippy::expect_used, reason = "HMAC takes keys of any length")]
pub fn signature(key: &[u8], unix: u64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(format!("{unix}.").as_bytes());
    mac.update(body);
    format!("t={unix},v1={}", hex::encode(mac.finalize().into_bytes()))
}

impl App {
    pub async fn add_smtp_provider(&self, ctx: &RequestCtx, c: NewSmtp) -> Result<(String, WriteDetails), DomainError> {
        notify::validate_smtp_host(&c.host)?;
        let id = self.ids.next();
        let config = SmtpConfig {
            id: id.clone(),
            sender_address: c.sender_address,
            sender_name: c.sender_name,
            tls: c.tls,
            host: c.host,
            user: c.user,
            sealed_password: if c.password.is_empty() {
                String::new()
            } else {
                self.keys.seal(c.password.as_bytes())
            },
            reply_to_address: c.reply_to_address,
            description: c.description,
        };
        let d = self
            .execute(
                &ctx.instance_id,
                ctx.caller.user_id.as_str(),
                AggregateRef::instance(&ctx.instance_id),
                |_| Ok(vec![E::SmtpConfigAdded(config.clone())]),
            )
            .await?;
        Ok((id, d))
    }

    /// Returns the provider ID and the signing key (shown once).
    pub async fn add_http_sms_provider(
        &self,
        ctx: &RequestCtx,
        endpoint: &str,
        description: &str,
    ) -> Result<(String, String, WriteDetails), DomainError> {
        let url = url::Url::parse(endpoint)
            .map_err(|_| DomainError::invalid("COMMAND-SmsEp1", "The endpoint is not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(DomainError::invalid(
                "COMMAND-SmsEp1",
                "The endpoint must be an http(s) URL",
            ));
        }
        let id = self.ids.next();
        let key = secrets::random_code(36, b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
        let config = HttpSmsConfig {
            id: id.clone(),
            endpoint: endpoint.to_owned(),
            description: description.to_owned(),
            sealed_signing_key: self.keys.seal(key.as_bytes()),
        };
        let d = self
            .execute(
                &ctx.instance_id,
                ctx.caller.user_id.as_str(),
                AggregateRef::instance(&ctx.instance_id),
                |_| Ok(vec![E::SmsConfigHttpAdded(config.clone())]),
            )
            .await?;
        Ok((id, key, d))
    }

    pub async fn activate_provider(
        &self,
        ctx: &RequestCtx,
        channel: Channel,
        id: &str,
    ) -> Result<WriteDetails, DomainError> {
        self.execute(
            &ctx.instance_id,
            ctx.caller.user_id.as_str(),
            AggregateRef::instance(&ctx.instance_id),
            |events| notify::decide_activate(&Providers::fold(events.iter().map(|e| &e.payload)), channel, id),
        )
        .await
    }

    /// Queues `d` for sending; the caller's request does not wait. With the
    /// queue full the message is dropped (logged and counted), so a slow
    /// provider cannot pile up memory or hold requests.
    pub(crate) fn deliver(&self, d: Delivery) {
        let channel = d.channel;
        let queue = self.deliveries.queue.get_or_init(|| self.start_delivery_worker());
        // The request's span goes along: the delivery's log lines carry its request id.
        if queue.try_send((d, tracing::Span::current())).is_err() {
            tracing::warn!(?channel, "the delivery queue is full: a code was not sent");
            metrics::delivery(channel, metrics::Delivery::Dropped);
        }
    }

    /// The one delivery worker: it takes queued messages and sends up to
    /// [`CONCURRENT_SENDS`] at once through one HTTP client.
    fn start_delivery_worker(&self) -> mpsc::Sender<(Delivery, tracing::Span)> {
        let (tx, mut rx) = mpsc::channel(self.deliveries.capacity);
        let app = self.clone();
        tokio::spawn(async move {
            let http = match reqwest::Client::builder().timeout(HTTP_TIMEOUT).build() {
                Ok(http) => http,
                Err(e) => {
                    tracing::error!(error = %e, "no HTTP client for deliveries: codes are not sent");
                    return;
                }
            };
            let sends = Arc::new(Semaphore::new(CONCURRENT_SENDS));
            while let Some((d, span)) = rx.recv().await {
                let Ok(permit) = sends.clone().acquire_owned().await else {
                    return;
                };
                let (app, http) = (app.clone(), http.clone());
                tokio::spawn(
                    async move {
                        app.send_with_retries(&http, d).await;
                        drop(permit);
                    }
                    .instrument(span),
                );
            }
        });
        tx
    }

    #[tracing::instrument(skip_all, fields(channel = ?d.channel))]
    async fn send_with_retries(&self, http: &reqwest::Client, d: Delivery) {
        let mut last_error = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_secs(1 << (attempt - 1))).await;
            }
            match self.send_once(http, &d).await {
                Ok(provider) => {
                    metrics::delivery(d.channel, metrics::Delivery::Sent);
                    let p = ProviderId { id: provider };
                    let event = match (&d.purpose, d.channel) {
                        (Purpose::SignIn { .. }, Channel::Email) => E::SessionOtpEmailSent(p),
                        (Purpose::SignIn { .. }, Channel::Sms) => E::SessionOtpSmsSent(p),
                        (Purpose::Verify { .. }, Channel::Email) => E::EmailCodeSent(p),
                        (Purpose::Verify { .. }, Channel::Sms) => E::PhoneCodeSent(p),
                        (Purpose::PasswordReset { .. }, _) => E::PasswordCodeSent(p),
                        (Purpose::Invite { .. }, _) => E::InviteCodeSent(p),
                        (Purpose::PasskeyRegistration { .. }, _) => E::PasskeyCodeSent(p),
                    };
                    self.record_delivery(&d, event).await;
                    return;
                }
                Err(e) => last_error = e,
            }
        }
        metrics::delivery(d.channel, metrics::Delivery::Failed);
        tracing::warn!(channel = ?d.channel, error = %last_error, "a code could not be delivered");
        let failed = DeliveryFailed {
            channel: format!("{:?}", d.channel).to_lowercase(),
            reason: last_error,
        };
        let event = match d.purpose {
            Purpose::SignIn { .. } => E::SessionOtpDeliveryFailed(failed),
            Purpose::Verify { .. }
            | Purpose::PasswordReset { .. }
            | Purpose::Invite { .. }
            | Purpose::PasskeyRegistration { .. } => E::CodeDeliveryFailed(failed),
        };
        self.record_delivery(&d, event).await;
    }

    async fn record_delivery(&self, d: &Delivery, event: E) {
        let agg = match &d.purpose {
            Purpose::SignIn { session_id } => AggregateRef::session(session_id, &d.instance_id),
            Purpose::Verify { user, .. }
            | Purpose::PasswordReset { user, .. }
            | Purpose::Invite { user, .. }
            | Purpose::PasskeyRegistration { user, .. } => user.clone(),
        };
        let result = self
            .execute(&d.instance_id, "system", agg, |_| Ok(vec![event.clone()]))
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "recording a code delivery failed");
        }
    }

    /// One attempt; the ID of the provider that accepted the message.
    async fn send_once(&self, http: &reqwest::Client, d: &Delivery) -> Result<String, String> {
        let doc = |id: String| async move {
            self.store
                .doc(&d.instance_id, Collection::Provider, &id)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| "no active provider".to_owned())
        };
        match d.channel {
            Channel::Email => {
                let active = ProviderId::deserialize(&*doc(ACTIVE_EMAIL.into()).await?).map_err(|e| e.to_string())?;
                let c = SmtpConfig::deserialize(&*doc(smtp_doc_id(&active.id)).await?).map_err(|e| e.to_string())?;
                self.send_email(&c, d).await.map(|_| c.id)
            }
            Channel::Sms => {
                let active = ProviderId::deserialize(&*doc(ACTIVE_SMS.into()).await?).map_err(|e| e.to_string())?;
                let c = HttpSmsConfig::deserialize(&*doc(sms_doc_id(&active.id)).await?).map_err(|e| e.to_string())?;
                self.send_sms(http, &c, d).await.map(|_| c.id)
            }
        }
    }

    async fn send_email(&self, c: &SmtpConfig, d: &Delivery) -> Result<(), String> {
        let from: Mailbox = format!("{} <{}>", c.sender_name, c.sender_address)
            .parse()
            .map_err(|e| format!("sender: {e}"))?;
        let to: Mailbox = d.recipient.parse().map_err(|e| format!("recipient: {e}"))?;
        let (subject, text) = match &d.purpose {
            Purpose::SignIn { .. } => (
                "Verify One-Time Password",
                format!(
                    "Hello {},\n\nPlease use the one-time password {} to authenticate within the next five minutes.\n",
                    d.display_name, d.code
                ),
            ),
            Purpose::Verify { link, .. } => (
                "Verify email",
                format!(
                    "Hello {},\n\nPlease use the code {} to verify your email address within the next hour.\n{}",
                    d.display_name,
                    d.code,
                    link_line(link.as_ref())
                ),
            ),
            Purpose::Invite {
                application_name, link, ..
            } => (
                "Invitation",
                format!(
                    "Hello {},\n\nYou have been invited{}. Please use the code {} within the next three days \
                     to set up your account.\n{}",
                    d.display_name,
                    if application_name.is_empty() {
                        String::new()
                    } else {
                        format!(" to {application_name}")
                    },
                    d.code,
                    link_line(link.as_ref())
                ),
            ),
            Purpose::PasskeyRegistration { link, .. } => (
                "Add Passkey",
                format!(
                    "Hello {},\n\nPlease follow this link within the next hour to add a passkey to your account:\n{link}\n",
                    d.display_name
                ),
            ),
            Purpose::PasswordReset { link, .. } => (
                "Reset password",
                format!(
                    "Hello {},\n\nPlease use the code {} to reset your password within the next hour, or follow this link:\n{link}\n",
                    d.display_name, d.code
                ),
            ),
        };
        let mut msg = Message::builder().from(from).to(to).subject(subject);
        if !c.reply_to_address.is_empty() {
            msg = msg.reply_to(c.reply_to_address.parse().map_err(|e| format!("reply-to: {e}"))?);
        }
        let msg = msg.body(text).map_err(|e| e.to_string())?;
        let (host, port) = c.host.rsplit_once(':').ok_or("host without port")?;
        let port: u16 = port.parse().map_err(|_| "bad port")?;
        let mut transport = if !c.tls {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        } else if port == 465 {
            AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(|e| e.to_string())?
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(|e| e.to_string())?
        }
        .port(port)
        .timeout(Some(HTTP_TIMEOUT));
        if !c.user.is_empty() {
            let password = self
                .keys
                .open(&c.sealed_password)
                .map(|p| String::from_utf8_lossy(&p).into_owned())
                .unwrap_or_default();
            transport = transport.credentials(Credentials::new(c.user.clone(), password));
        }
        transport.build().send(msg).await.map(|_| ()).map_err(|e| e.to_string())
    }

    async fn send_sms(&self, http: &reqwest::Client, c: &HttpSmsConfig, d: &Delivery) -> Result<(), String> {
        // Texts name the instance by its external domain.
        let domain = self
            .typed_doc::<InstanceView>(&d.instance_id, Collection::Instance, d.instance_id.as_str())
            .await
            .map_err(|e| e.to_string())?
            .map(|i| i.external_domain)
            .unwrap_or_default();
        let (text, event_type) = match &d.purpose {
            Purpose::SignIn { .. } => (
                format!(
                    "{code} is your one-time password for {domain}. Use it within the next 5m0s.\n\n@{domain} #{code}",
                    code = d.code,
                    domain = domain
                ),
                "session.otp.sms.challenged",
            ),
            Purpose::Verify { .. } | Purpose::Invite { .. } => (
                format!("{} is your verification code for {domain}.", d.code),
                "user.human.phone.code.added",
            ),
            Purpose::PasskeyRegistration { link, .. } => (
                format!("Add a passkey for {domain}: {link}"),
                "user.human.passwordless.initialization.code.requested",
            ),
            Purpose::PasswordReset { link, .. } => (
                format!("{} is your password reset code for {domain}: {link}", d.code),
                "user.human.password.code.added",
            ),
        };
        let body = json!({
            "contextInfo": {
                "recipientPhoneNumber": d.recipient,
                "eventType": event_type,
                "provider": {"id": c.id, "description": c.description},
            },
            "templateData": {"text": text},
            "args": {"oTP": d.code, "domain": domain, "expiry": 300_000_000_000u64},
        })
        .to_string()
        .into_bytes();
        let key = self.keys.open(&c.sealed_signing_key).ok_or("signing key unreadable")?;
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let resp = http
            .post(&c.endpoint)
            .header("content-type", "application/json")
            .header("ZITADEL-Signature", signature(&key, unix, &body))
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!("the SMS endpoint answered {}", resp.status()))
        }
    }
}
