"""Small pure pieces of the HTTP layer: entity tags and settings."""

from __future__ import annotations

import pytest

from app.http.auth import bearer_token
from app.http.conditional import etag, expected_versions, none_match
from app.http.idempotency import idempotency_key
from app.settings import SettingsError
from app.settings_layers import decode_settings, load_settings, read_dotenv, redacted
from domain.errors import InvalidInput


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("*", None),
        ('"3"', {3}),
        (' "3" , "4"', {3, 4}),  # any listed tag may be the current one (RFC 9110 §13.1.1)
        ('"1", W/"2", "x"', {1}),
        ('W/"3"', set()),  # weak tags never satisfy If-Match
        ('"abc"', set()),
    ],
)
def test_if_match_parsing(header, expected):
    assert expected_versions(header) == expected


@pytest.mark.parametrize("header", ["3", "abc", '"3', '"1", 2'])
def test_malformed_if_match_is_bad_input(header):
    with pytest.raises(InvalidInput):
        expected_versions(header)


@pytest.mark.parametrize(
    ("if_none_match", "etag_", "matches"),
    [
        ('"3"', b'"3"', True),
        ('"2", "3"', b'"3"', True),
        ('W/"3"', b'"3"', True),  # If-None-Match compares weakly (RFC 9110 §13.1.2)
        ("*", b'"3"', True),
        ('"2"', b'"3"', False),
        ('"3', b'"3"', False),  # malformed: no match, the full answer
        ('"3"', None, False),  # nothing to compare with
    ],
)
def test_if_none_match(if_none_match, etag_, matches):
    assert none_match(if_none_match.encode(), etag_) is matches


@pytest.mark.parametrize(
    "headers",
    [
        [(b"authorization", b"Bearer a.b.c"), (b"authorization", b"Bearer a.b.c")],
        [(b"authorization", b"Bearer a.b.c"), (b"accept", b"*/*"), (b"authorization", b"Basic eDp5")],
        [(b"authorization", b"Bearer a.b.c, Bearer d.e.f")],  # the same, joined by a client or proxy
    ],
)
def test_two_authorization_fields_are_bad_input(headers):
    with pytest.raises(InvalidInput) as refused:
        bearer_token({"headers": headers})  # type: ignore[typeddict-item]
    assert refused.value.field == "Authorization"


def test_etag_is_a_quoted_strong_validator():
    assert etag(7) == '"7"'


def test_defaults_match_the_contract():
    settings = load_settings(environ={}, dotenv=None).settings
    assert settings.app_env == "development"
    assert settings.database_url == "sqlite:///./var/app.sqlite3"
    assert (settings.db_pool_min, settings.db_pool_max) == (2, 20)
    assert settings.auto_migrate is True
    assert settings.oidc_admin_role == "admin"
    # region: consul
    assert settings.consul_prefix == "app/"
    assert settings.consul_poll_seconds == 10
    # endregion
    assert settings.effective_log_format == "console"
    assert settings.web_concurrency == 1
    assert decode_settings([("env", {"APP_ENV": "test"})]).settings.auto_migrate is False


def test_env_overrides_dotenv(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text('# comment\nexport LOG_LEVEL="DEBUG"\nDB_POOL_MAX=7\n\nCORS_ORIGINS=http://a, http://b\n')
    loaded = load_settings(environ={"DB_POOL_MAX": "9"}, dotenv=dotenv)
    assert loaded.settings.log_level == "DEBUG"
    assert loaded.settings.db_pool_max == 9
    assert loaded.sources["DB_POOL_MAX"] == "env"
    assert loaded.sources["LOG_LEVEL"] == ".env"
    assert loaded.settings.cors_origin_list == ["http://a", "http://b"]
    assert read_dotenv(tmp_path / "missing") == {}


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"DB_POOL_MAX": "many"}, "DB_POOL_MAX"),
        ({"DB_POOL_MIN": "-1"}, "DB_POOL_MIN"),
        ({"APP_ENV": "staging"}, "APP_ENV"),
        ({"DB_POOL_MIN": "5", "DB_POOL_MAX": "2"}, "DB_POOL_MIN"),
        ({"SERVICE_PREFIX": "blog"}, "SERVICE_PREFIX"),
    ],
)
def test_a_bad_value_names_the_variable(env, names):
    with pytest.raises(SettingsError) as error:
        decode_settings([("env", env)])
    assert names in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"APP_ENV": "production", "DATABASE_URL": "postgresql://db/x", "KEYCLOAK_WEBHOOK_SECRET": "s"}, "OIDC_ISSUER"),
        ({"APP_ENV": "production", "OIDC_ISSUER": "http://kc/realms/x", "KEYCLOAK_WEBHOOK_SECRET": "s"}, "SQLite"),
        # region: webhook
        (
            {"APP_ENV": "production", "OIDC_ISSUER": "http://kc/realms/x", "DATABASE_URL": "postgresql://db/x"},
            "KEYCLOAK_WEBHOOK_SECRET",
        ),
        # endregion
    ],
)
def test_production_refuses_dev_auth_sqlite_and_a_missing_webhook_secret(env, reason):
    with pytest.raises(SettingsError, match=reason):
        decode_settings([("env", env)])


def test_config_output_redacts_secrets():
    loaded = decode_settings(
        [
            (
                "env",
                {
                    "DATABASE_URL": "postgresql://app:hunter2@db:5432/blog",
                    # region: consul
                    "CONSUL_TOKEN": "tok",
                    # endregion
                    "SERVICE_PREFIX": "/blog",
                },
            )
        ]
    )
    shown = redacted(loaded)
    assert shown["DATABASE_URL"] == ("postgresql://app:********@db:5432/blog", "env")
    # region: consul
    assert shown["CONSUL_TOKEN"] == ("********", "env")
    # endregion
    assert shown["SERVICE_PREFIX"] == ("/blog", "env")
    assert shown["LOG_LEVEL"] == ("INFO", "default")
    assert "hunter2" not in repr(shown)


def _scope(*keys: bytes) -> dict:
    return {"headers": [(b"authorization", b"Bearer x"), *((b"idempotency-key", key) for key in keys)]}


def test_idempotency_key_is_read_from_the_scope():
    assert idempotency_key(_scope()) is None
    assert idempotency_key(_scope(b"k-1")) == "k-1"
    assert idempotency_key(_scope(b"x" * 255)) == "x" * 255
    assert idempotency_key(_scope(b" ~ spaces and tildes ~ ")) == " ~ spaces and tildes ~ "


@pytest.mark.parametrize(
    "keys", [(b"",), (b"x" * 256,), ("caf\u00e9".encode(),), (b"tab\t",), (b"\x7f",), (b"k-1", b"k-1")]
)
def test_a_malformed_or_repeated_idempotency_key_is_bad_input(keys):
    with pytest.raises(InvalidInput) as error:
        idempotency_key(_scope(*keys))
    assert error.value.field == "Idempotency-Key"
