//! Login-policy settings from the three request messages that carry them
//! (admin Update, management AddCustom and UpdateCustom). Their field names
//! are the same though their numbers differ, so one macro reads them all.

/// Builds `LoginPolicySettings` from `$r`, validating as `$msg` (the proto
/// message name used in validation errors). Absent fields count as
/// false/0/"" (full replacement).
#[macro_export]
macro_rules! settings_from_request {
    ($r:expr, $msg:expr) => {{
        use $crate::validate;
        let r = $r;
        let m: &str = $msg;
        twofold_domain::login_policy::LoginPolicySettings {
            allow_username_password: r.allow_username_password,
            allow_register: r.allow_register,
            allow_external_idp: r.allow_external_idp,
            force_mfa: r.force_mfa,
            force_mfa_local_only: r.force_mfa_local_only,
            hide_password_reset: r.hide_password_reset,
            ignore_unknown_usernames: r.ignore_unknown_usernames,
            allow_domain_discovery: r.allow_domain_discovery,
            disable_login_with_email: r.disable_login_with_email,
            disable_login_with_phone: r.disable_login_with_phone,
            passwordless_type: validate::defined_enum(m, "PasswordlessType", r.passwordless_type, 1)?,
            default_redirect_uri: r.default_redirect_uri.clone(),
            password_check_lifetime: validate::lifetime(
                m,
                "PasswordCheckLifetime",
                r.password_check_lifetime.as_ref(),
            )?,
            external_login_check_lifetime: validate::lifetime(
                m,
                "ExternalLoginCheckLifetime",
                r.external_login_check_lifetime.as_ref(),
            )?,
            mfa_init_skip_lifetime: validate::lifetime(m, "MfaInitSkipLifetime", r.mfa_init_skip_lifetime.as_ref())?,
            second_factor_check_lifetime: validate::lifetime(
                m,
                "SecondFactorCheckLifetime",
                r.second_factor_check_lifetime.as_ref(),
            )?,
            multi_factor_check_lifetime: validate::lifetime(
                m,
                "MultiFactorCheckLifetime",
                r.multi_factor_check_lifetime.as_ref(),
            )?,
        }
    }};
}
