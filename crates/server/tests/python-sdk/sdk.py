"""Drives ZITADEL's official Python SDK (`zitadel-client`, which speaks the
Connect protocol with JSON bodies) against a running `twofold start`.

Env: TWOFOLD_URL (e.g. http://127.0.0.1:18090) and TWOFOLD_PAT (an admin
token). Prints one line per check; exits non-zero if any check fails.
Run by crates/server/tests/it/python_sdk.rs; by hand:
    python3 -m venv v && v/bin/pip install -r requirements.txt
    TWOFOLD_URL=... TWOFOLD_PAT=... v/bin/python sdk.py
"""

import json
import os
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
                password=m.UserServicePassword(password=PASSWORD),
            )
        )
        assert res.user_id, "user_id set"
        return res.user_id

    user_id = check("AddHumanUser", add_human)

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
        "ListUsers by user id",
        list_users(m.UserServiceSearchQuery(in_user_ids_query=m.UserServiceInUserIDQuery(user_ids=[user_id]))),
    )

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

    check("CreateSession with password", create_session)

print(f"{failures} check(s) failed" if failures else "all checks passed")
sys.exit(1 if failures else 0)
