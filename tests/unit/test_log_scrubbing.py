"""No secret in a rendered log line: tracebacks without locals, and the scrubber, in both formats.
(tests/reliability/test_log_secrets.py proves the same of the real server under an outage.)"""

from __future__ import annotations

import json
import logging
import sys

import pytest

from app.logging import REDACTED, Scrubber, formatter
from app.settings import secret_values
from app.settings_layers import decode_settings

PASSWORD = "s3cr3t-p@ss"  # written %-encoded in the URL
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz"
SIGNATURE = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def _record(message: str, *args: object) -> logging.LogRecord:
    dsn = f"postgresql://app:{PASSWORD}@db:5432/blog"  # a local variable of the failing frame  # noqa: F841
    try:
        raise ConnectionError("cannot connect")
    except ConnectionError:
        exc_info = sys.exc_info()
    return logging.LogRecord("asyncpg.pool", logging.WARNING, __file__, 1, message, args, exc_info)


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_tracebacks_are_rendered_without_their_frames_local_variables(log_format):
    line = formatter(log_format, Scrubber()).format(_record("connection failed"))  # a scrubber that knows nothing
    assert "ConnectionError" in line  # the traceback is there...
    assert "dsn" not in line  # ...its frame's locals are not
    assert PASSWORD not in line
    if log_format == "json":
        assert json.loads(line)["exception"][0]["frames"]


def test_secret_settings_are_scrubbed_as_given_and_as_escaped():
    env = {"DATABASE_URL": "postgresql://app:s3cr3t-p%40ss@db:5432/blog"}
    expected = {"s3cr3t-p%40ss", PASSWORD}
    unseen = [PASSWORD, "s3cr3t-p%40ss"]  # in a line that holds them all, as given or escaped
    # region: webhook
    env["KEYCLOAK_WEBHOOK_SECRET"] = 'hook"secret\\x'
    expected.add('hook"secret\\x')
    unseen += ["hook", "secret\\\\x"]
    # endregion
    # region: openfga
    env["OPENFGA_API_TOKEN"] = "fga-token"
    expected.add("fga-token")
    unseen.append("fga-token")
    # endregion
    # region: consul
    env["CONSUL_TOKEN"] = "abc"  # too short to scrub without blanking every "abc"
    expected.add("abc")
    # endregion
    settings = decode_settings([("env", env)]).settings
    assert secret_values(settings) == expected
    scrub = Scrubber()
    scrub.learn(secret_values(settings))
    for log_format in ("json", "console"):
        record = _record("retrying with %s, token %s and key %r", PASSWORD, "fga-token", 'hook"secret\\x')
        line = formatter(log_format, scrub).format(record)
        for secret in unseen:
            assert secret not in line, (log_format, secret, line)
        assert REDACTED in line
    # region: openfga
    assert scrub(None, "info", "abc and fga-token") == f"abc and {REDACTED}"
    # endregion


def test_a_replaced_secret_stays_scrubbed():
    scrub = Scrubber()
    scrub.learn(["old-secret"])
    scrub.learn(["new-secret"])
    assert scrub(None, "info", "old-secret new-secret") == f"{REDACTED} {REDACTED}"


@pytest.mark.parametrize(
    ("message", "kept"),
    [
        ("connect to postgresql://app:s3cr3t-p%40ss@db/blog failed", "postgresql://app:"),
        ("consul at http://:tok3n@consul:8500 refused", "http://:"),
        (f"Authorization: Bearer {TOKEN}", "Authorization: Bearer "),
        (f"authorization=bearer {TOKEN[:20]}", "authorization=bearer "),
        (f"refused token {TOKEN}", "refused token "),
        (f"X-Keycloak-Signature: {SIGNATURE}", "X-Keycloak-Signature: "),
    ],
)
def test_urls_with_a_password_bearer_tokens_jwts_and_signatures_are_scrubbed_from_any_message(message, kept):
    line = Scrubber()(None, "info", message)
    assert kept + REDACTED in line
    for secret in ("s3cr3t", "tok3n", TOKEN[:20], SIGNATURE):
        assert secret not in line


@pytest.mark.parametrize(
    "message",
    [
        "GET http://127.0.0.1:8000/v1/posts 200",
        "request 3f2a9c1e8b7d4e6fa0b1c2d3e4f5a6b7 done",  # a request id: 32 hex digits
        "post 0b2d7f4e-8c1a-4b3e-9f6d-5a4c3b2a1f0e at version 3",
        "malformed Authorization header; expected 'Bearer <token>'",
        "bearer token refused: bad signature",
    ],
)
def test_ordinary_lines_are_left_alone(message):
    assert Scrubber()(None, "info", message) == message


# region: webhook
def test_a_webhook_secret_changed_while_running_is_scrubbed_at_once(tmp_path):
    from app import logging as app_logging
    from app.container import build_container
    from app.live_settings import SettingsStore
    from app.settings_layers import with_layer

    settings = decode_settings([("env", {"APP_ENV": "test", "VAR_DIR": str(tmp_path)})]).settings
    store = build_container(settings)[SettingsStore]
    assert "rotated-7Qz-value" in app_logging.scrub(None, "info", "rotated-7Qz-value")

    change = store.replace(with_layer(store.loaded, "consul", {"KEYCLOAK_WEBHOOK_SECRET": "rotated-7Qz-value"}))

    assert "KEYCLOAK_WEBHOOK_SECRET" in change.applied
    assert app_logging.scrub(None, "info", "signed with rotated-7Qz-value") == f"signed with {REDACTED}"


# endregion
