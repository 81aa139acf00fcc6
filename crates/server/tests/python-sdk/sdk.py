"""Drives ZITADEL's official Python SDK (`zitadel-client`, which speaks the
Connect protocol with JSON bodies) against a running `twofold start`.

Env: TWOFOLD_URL (e.g. http://127.0.0.1:18090) and TWOFOLD_PAT (an admin
token). Prints one line per check; exits non-zero if any check fails.
Run by crates/server/tests/it/python_sdk.rs; by hand:
    python3 -m venv v && v/bin/pip install -r requirements.txt
    TWOFOLD_URL=... TWOFOLD_PAT=... v/bin/python sdk.py
"""

import base64
import hashlib
import hmac
import json
import os
import struct
import sys
import time
import warnings

# The SDK imports authlib.jose, which warns about its own deprecation.
warnings.filterwarnings("ignore", message="authlib.jose module is deprecated")

import zitadel_client as zitadel  # noqa: E402
from zitadel_client import models as m  # noqa: E402
from zitadel_client.exceptions import ApiError  # noqa: E402
from zitadel_client.version import Version  # noqa: E402

URL = os.environ["TWOFOLD_URL"]
PAT = os.environ["TWOFOLD_PAT"]
PASSWORD = "Secr3t!pass-Twofold"

failures = 0


def check(name, fn):
    """Runs one check and prints its line; returns the check's value (None on failure)."""
    global failures
    try:
        value = fn()
        print(f"ok   [zitadel-client] {name}")
        return value
    except Exception as e:  # noqa: BLE001 - every failure is reported, none is fatal
        failures += 1
        print(f"FAIL [zitadel-client] {name}: {type(e).__name__}: {e}".replace("\n", " "))
        return None


def totp(secret, unix):
    """RFC 6238 with SHA-1, 6 digits, 30 s steps (what RegisterTOTP enrols)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(unix) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def refused(fn, status, error_id):
    try:
        fn()
    except ApiError as e:
        assert e.code == status, f"HTTP {e.code}, expected {status}: {e.response_body}"
        body = e.response_body
        body = body.decode() if isinstance(body, bytes) else json.dumps(body) if isinstance(body, dict) else str(body)
        assert error_id in body, f"expected {error_id} in {body}"
        return
    raise AssertionError(f"expected HTTP {status}, the call succeeded")


with zitadel.Zitadel.with_access_token(URL, PAT) as client:
    print(f"# {URL}: zitadel-client {Version.VERSION}")
    username = f"py-{int(time.time() * 1000)}"

    def add_human():
        res = client.users.add_human_user(
            m.UserServiceAddHumanUserRequest(
                username=username,
                profile=m.UserServiceSetHumanProfile(given_name="Guido", family_name="Rossum"),
                email=m.UserServiceSetHumanEmail(email=f"{username}@example.com", is_verified=True),
                phone=m.UserServiceSetHumanPhone(phone="+41790000077", is_verified=True),
                password=m.UserServicePassword(password=PASSWORD),
            )
        )
        assert res.user_id, "user_id set"
        return res.user_id

    user_id = check("AddHumanUser", add_human)
    check(
        "AddHumanUser with a password the complexity policy refuses",
        lambda: refused(
            lambda: client.users.add_human_user(
                m.UserServiceAddHumanUserRequest(
                    username=f"{username}-weak",
                    profile=m.UserServiceSetHumanProfile(given_name="Weak", family_name="Password"),
                    email=m.UserServiceSetHumanEmail(email=f"{username}-weak@example.com"),
                    password=m.UserServicePassword(password="nouppercase1!"),
                )
            ),
            400,
            "COMMA-VoaRj",
        ),
    )

    def get_user():
        res = client.users.get_user_by_id(m.UserServiceGetUserByIDRequest(user_id=user_id))
        assert res.user.username == username, res.user.username
        assert res.user.human.profile.given_name == "Guido"
        assert res.user.state == "USER_STATE_ACTIVE", res.user.state

    check("GetUserByID", get_user)

    check(
        "GetUserByID of an unknown user -> 404 QUERY-Dfbg2",
        lambda: refused(
            lambda: client.users.get_user_by_id(m.UserServiceGetUserByIDRequest(user_id="404")),
            404,
            "QUERY-Dfbg2",
        ),
    )

    def list_users(query):
        def run():
            res = client.users.list_users(m.UserServiceListUsersRequest(queries=[query]))
            assert [u.user_id for u in res.result] == [user_id], [u.user_id for u in res.result]

        return run

    check(
        "ListUsers by user name",
        list_users(m.UserServiceSearchQuery(user_name_query=m.UserServiceUserNameQuery(user_name=username))),
    )
    check(
        "ListUsers by login name",
        list_users(m.UserServiceSearchQuery(login_name_query=m.UserServiceLoginNameQuery(login_name=username))),
    )
    check(
        "ListUsers by user id",
        list_users(m.UserServiceSearchQuery(in_user_ids_query=m.UserServiceInUserIDQuery(user_ids=[user_id]))),
    )

    def register_totp():
        res = client.users.register_totp(m.UserServiceRegisterTOTPRequest(user_id=user_id))
        assert res.uri.startswith("otpauth://totp/"), res.uri
        # The previous time step (within the allowed skew): the current one is
        # left for the session check below, as each step works once.
        code = totp(res.secret, time.time() - 30)
        client.users.verify_totp_registration(m.UserServiceVerifyTOTPRegistrationRequest(user_id=user_id, code=code))
        return res.secret

    secret = check("RegisterTOTP + VerifyTOTPRegistration", register_totp)

    check("AddOTPEmail", lambda: client.users.add_otp_email(m.UserServiceAddOTPEmailRequest(user_id=user_id)))
    check("AddOTPSMS", lambda: client.users.add_otpsms(m.UserServiceAddOTPSMSRequest(user_id=user_id)))

    def set_password(password, current):
        return client.users.set_password(
            m.UserServiceSetPasswordRequest(
                user_id=user_id,
                new_password=m.UserServicePassword(password=password, change_required=False),
                current_password=current,
            )
        )

    check(
        "SetPassword with a password the complexity policy refuses",
        lambda: refused(lambda: set_password("nouppercase1!", PASSWORD), 400, "DOMAIN-VoaRj"),
    )
    check("SetPassword", lambda: set_password(PASSWORD + "2", PASSWORD))
    check("SetPassword back", lambda: set_password(PASSWORD, PASSWORD + "2"))

    def method_types():
        res = client.users.list_authentication_method_types(
            m.UserServiceListAuthenticationMethodTypesRequest(user_id=user_id)
        )
        got = sorted(res.auth_method_types or [])
        want = [
            "AUTHENTICATION_METHOD_TYPE_OTP_EMAIL",
            "AUTHENTICATION_METHOD_TYPE_OTP_SMS",
            "AUTHENTICATION_METHOD_TYPE_PASSWORD",
            "AUTHENTICATION_METHOD_TYPE_TOTP",
        ]
        assert got == want, got

    check("ListAuthenticationMethodTypes", method_types)

    def create_session():
        res = client.sessions.create_session(
            m.SessionServiceCreateSessionRequest(
                checks=m.SessionServiceChecks(
                    user=m.SessionServiceCheckUser(login_name=username),
                    password=m.SessionServiceCheckPassword(password=PASSWORD),
                )
            )
        )
        assert res.session_id and res.session_token, "session id and token set"
        return res.session_id, res.session_token

    session = check("CreateSession with password", create_session)

    def set_session_totp():
        session_id, token = session
        res = client.sessions.set_session(
            m.SessionServiceSetSessionRequest(
                session_id=session_id,
                session_token=token,
                checks=m.SessionServiceChecks(totp=m.SessionServiceCheckTOTP(code=totp(secret, time.time()))),
            )
        )
        return session_id, res.session_token

    session = check("SetSession with TOTP", set_session_totp)

    def get_session():
        session_id, token = session
        res = client.sessions.get_session(m.SessionServiceGetSessionRequest(session_id=session_id, session_token=token))
        f = res.session.factors
        assert f.user.id == user_id, f.user
        assert f.password.verified_at and f.totp.verified_at, f

    check("GetSession shows password and TOTP", get_session)

    def delete_session():
        session_id, token = session
        client.sessions.delete_session(m.SessionServiceDeleteSessionRequest(session_id=session_id, session_token=token))
        refused(
            lambda: client.sessions.get_session(m.SessionServiceGetSessionRequest(session_id=session_id)),
            404,
            "QUERY-",
        )

    check("DeleteSession", delete_session)

    instance = m.SettingsServiceRequestContext(instance=True)

    def login_settings():
        res = client.settings.get_login_settings(m.SettingsServiceGetLoginSettingsRequest(ctx=instance))
        assert res.settings.allow_username_password is True, res.settings

    check("GetLoginSettings", login_settings)
    check(
        "GetLockoutSettings",
        lambda: client.settings.get_lockout_settings(m.SettingsServiceGetLockoutSettingsRequest(ctx=instance)),
    )

    def complexity_settings():
        res = client.settings.get_password_complexity_settings(
            m.SettingsServiceGetPasswordComplexitySettingsRequest(ctx=instance)
        )
        assert int(res.settings.min_length) == 8 and res.settings.requires_symbol is True, res.settings

    check("GetPasswordComplexitySettings", complexity_settings)

    def general_settings():
        res = client.settings.get_general_settings()
        assert res.default_org_id and res.default_language == "en", res

    check("GetGeneralSettings", general_settings)
    check(
        "GetPasswordExpirySettings",
        lambda: client.settings.get_password_expiry_settings(
            m.SettingsServiceGetPasswordExpirySettingsRequest(ctx=instance)
        ),
    )

    def branding_settings():
        res = client.settings.get_branding_settings(m.SettingsServiceGetBrandingSettingsRequest(ctx=instance))
        assert res.settings.light_theme.primary_color == "#5469d4", res.settings

    check("GetBrandingSettings", branding_settings)
    check(
        "GetDomainSettings",
        lambda: client.settings.get_domain_settings(m.SettingsServiceGetDomainSettingsRequest(ctx=instance)),
    )

    def legal_settings():
        res = client.settings.get_legal_and_support_settings(
            m.SettingsServiceGetLegalAndSupportSettingsRequest(ctx=instance)
        )
        assert res.settings.docs_link == "https://zitadel.com/docs", res.settings

    check("GetLegalAndSupportSettings", legal_settings)
    check("GetSecuritySettings", lambda: client.settings.get_security_settings())

    def active_idps():
        res = client.settings.get_active_identity_providers(
            m.SettingsServiceGetActiveIdentityProvidersRequest(ctx=instance)
        )
        assert not res.identity_providers, res

    check("GetActiveIdentityProviders", active_idps)

    def hosted_login_translation():
        res = client.settings.get_hosted_login_translation(
            m.SettingsServiceGetHostedLoginTranslationRequest(locale="en", instance=True)
        )
        assert res.etag and res.translations, res

    check("GetHostedLoginTranslation", hosted_login_translation)

print(f"{failures} check(s) failed" if failures else "all checks passed")
sys.exit(1 if failures else 0)
