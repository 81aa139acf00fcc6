//! Typed ids, so an org id cannot be passed where a user id is expected.
//! Each is a transparent string: stored events, read-model documents and
//! wire formats keep the plain id.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }
    )*};
}

string_id! {
    /// An instance: the tenant every other aggregate belongs to.
    InstanceId;
    /// An organization, owner of its users.
    OrgId;
    /// A user (human or machine).
    UserId;
    /// A sign-in session.
    SessionId;
    /// A project: the org's container of applications.
    ProjectId;
    /// An application of a project (OIDC or API).
    AppId;
    /// The OAuth client ID of an application, what relying parties send.
    ClientId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_the_plain_string() {
        let id = UserId::new("123");
        assert_eq!(serde_json::to_string(&id).unwrap(), r#""123""#);
        assert_eq!(serde_json::from_str::<UserId>(r#""123""#).unwrap(), id);
        assert_eq!(id.to_string(), "123");
    }
}
