//! Delivery providers for one-time passwords: SMTP for email, an HTTP
//! webhook for SMS. Instance-wide; at most one active provider per channel.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::event::EventPayload as E;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmtpConfig {
    pub id: String,
    pub sender_address: String,
    pub sender_name: String,
    pub tls: bool,
    /// `host:port`
    pub host: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    /// Sealed under the master key; empty when the server needs none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sealed_password: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reply_to_address: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpSmsConfig {
    pub id: String,
    pub endpoint: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Key of the `ZITADEL-Signature` HMAC, sealed under the master key.
    pub sealed_signing_key: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderId {
    pub id: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Email,
    Sms,
}

/// The providers of both channels, folded from instance events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Providers {
    pub email: Vec<String>,
    pub sms: Vec<String>,
    pub active_email: Option<String>,
    pub active_sms: Option<String>,
}

impl Providers {
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a E>) -> Self {
        let mut p = Self::default();
        for e in events {
            match e {
                E::SmtpConfigAdded(c) => p.email.push(c.id.clone()),
                E::SmtpConfigActivated(i) => p.active_email = Some(i.id.clone()),
                E::SmtpConfigDeactivated(i) if p.active_email.as_ref() == Some(&i.id) => p.active_email = None,
                E::SmsConfigHttpAdded(c) => p.sms.push(c.id.clone()),
                E::SmsConfigActivated(i) => p.active_sms = Some(i.id.clone()),
                E::SmsConfigDeactivated(i) if p.active_sms.as_ref() == Some(&i.id) => p.active_sms = None,
                _ => {}
            }
        }
        p
    }
}

/// `host:port` with a non-empty host and a numeric port.
pub fn validate_smtp_host(host: &str) -> Result<(), DomainError> {
    let ok = host
        .rsplit_once(':')
        .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid("COMMAND-EvAtufIinh", "Errors.Invalid.Argument"))
    }
}

/// Activating a provider deactivates the channel's active one: a single
/// provider delivers.
pub fn decide_activate(p: &Providers, channel: Channel, id: &str) -> Result<Vec<E>, DomainError> {
    let (known, active) = match channel {
        Channel::Email => (&p.email, &p.active_email),
        Channel::Sms => (&p.sms, &p.active_sms),
    };
    if !known.iter().any(|k| k == id) {
        return Err(match channel {
            Channel::Email => DomainError::not_found("COMMAND-E9K20hxOS9", "SMTP configuration not found"),
            Channel::Sms => DomainError::not_found("COMMAND-9ULtp9PH5E", "SMS configuration not found"),
        });
    }
    if active.as_deref() == Some(id) {
        return Err(match channel {
            Channel::Email => DomainError::precondition("COMMAND-vUHBSmBzaw", "Errors.SMTPConfig.AlreadyActive"),
            Channel::Sms => DomainError::precondition("COMMAND-B25GFeIvRi", "SMS configuration already active"),
        });
    }
    let pid = |id: &str| ProviderId { id: id.to_owned() };
    let mut events = Vec::new();
    if let Some(old) = active {
        events.push(match channel {
            Channel::Email => E::SmtpConfigDeactivated(pid(old)),
            Channel::Sms => E::SmsConfigDeactivated(pid(old)),
        });
    }
    events.push(match channel {
        Channel::Email => E::SmtpConfigActivated(pid(id)),
        Channel::Sms => E::SmsConfigActivated(pid(id)),
    });
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_active_provider_per_channel() {
        let added = |id: &str| {
            E::SmsConfigHttpAdded(HttpSmsConfig {
                id: id.into(),
                ..HttpSmsConfig::default()
            })
        };
        let p = Providers::fold(&[added("a"), added("b")]);
        assert_eq!(
            decide_activate(&p, Channel::Sms, "x").unwrap_err().id,
            "COMMAND-9ULtp9PH5E"
        );
        let first = decide_activate(&p, Channel::Sms, "a").unwrap();
        let mut all = vec![added("a"), added("b")];
        all.extend(first);
        let p = Providers::fold(&all);
        assert_eq!(
            decide_activate(&p, Channel::Sms, "a").unwrap_err().id,
            "COMMAND-B25GFeIvRi"
        );
        let second = decide_activate(&p, Channel::Sms, "b").unwrap();
        assert_eq!(second.len(), 2, "a is deactivated, b activated");
        assert!(validate_smtp_host("smtp.example.com:587").is_ok());
        assert_eq!(
            validate_smtp_host("smtp.example.com").unwrap_err().id,
            "COMMAND-EvAtufIinh"
        );
    }
}
