"""Settings: what the service can be configured with, as one msgspec struct, and the checks across
its values. Where the values come from (defaults < .env < environment < Consul KV) and which source
each one came from: app/settings_layers.py.

Every value arrives as a string, as environment variables do; msgspec converts and validates it,
and an error names the variable.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import unquote, urlsplit

import msgspec

SECRETS = frozenset(
    {
        "KEYCLOAK_WEBHOOK_SECRET",
        # region: openfga
        "OPENFGA_API_TOKEN",
        # endregion
        "CONSUL_TOKEN",
        "DATABASE_URL",
    }
)

# Settings that are read once at start-up; a change to one of them needs a restart.
RESTART_REQUIRED = frozenset(
    {
        "APP_ENV",
        "DATABASE_URL",
        "DB_POOL_MIN",
        "DB_POOL_MAX",
        "DB_AUTO_MIGRATE",
        "SERVICE_PREFIX",
        "OIDC_ISSUER",
        "OIDC_TIMEOUT_SECONDS",
        "OIDC_JWKS_REFETCH_INTERVAL_SECONDS",
        "OIDC_JWKS_REFRESH_SECONDS",
        "OIDC_STARTUP_ATTEMPTS",
        "OIDC_STARTUP_BACKOFF_SECONDS",
        # region: openfga
        "OPENFGA_API_URL",
        "OPENFGA_STORE_ID",
        "OPENFGA_API_TOKEN",
        # endregion
        # region: consul
        "CONSUL_URL",
        "CONSUL_TOKEN",
        "CONSUL_PREFIX",
        # endregion
        "WEB_CONCURRENCY",
        "VAR_DIR",
        "METRICS_ENABLED",
        # region: grpc
        "GRPC_PORT",
        "GRPC_HOST",
        # endregion
    }
)

Positive = Annotated[int, msgspec.Meta(ge=1)]
NonNegative = Annotated[int, msgspec.Meta(ge=0)]
PositiveSeconds = Annotated[float, msgspec.Meta(gt=0)]


class SettingsError(ValueError):
    """A setting is missing, malformed or not allowed here. The message is one line for the operator."""


class Settings(msgspec.Struct, frozen=True, rename="upper", forbid_unknown_fields=False):
    app_env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./var/app.sqlite3"
    db_pool_min: NonNegative = 2
    db_pool_max: Positive = 20
    db_auto_migrate: bool | None = None  # None: on in development only
    db_statement_timeout_ms: Positive = 5000
    db_acquire_timeout_ms: Positive = 2000
    db_request_timeout_ms: Positive = 3000  # all of a unit of work's database work (adapters/db/pool.py)
    service_prefix: str = ""
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_admin_role: str = "admin"
    oidc_leeway_seconds: NonNegative = 60
    oidc_jwks_refetch_interval_seconds: NonNegative = 10
    oidc_timeout_seconds: Annotated[float, msgspec.Meta(gt=0)] = 5.0
    oidc_jwks_refresh_seconds: Positive = 600  # background refresh when the JWKS has no max-age
    oidc_startup_attempts: Positive = 4  # discovery + JWKS at start-up, then a start-up error
    oidc_startup_backoff_seconds: Annotated[float, msgspec.Meta(ge=0)] = 0.5  # doubles per retry
    # region: webhook
    keycloak_webhook_secret: str | None = None
    # endregion
    # region: openfga
    openfga_api_url: str | None = None
    openfga_store_id: str | None = None
    openfga_model_id: str | None = None
    openfga_api_token: str | None = None
    openfga_timeout_ms: Positive = 2000
    outbox_poll_seconds: PositiveSeconds = 5.0
    outbox_batch_size: Annotated[int, msgspec.Meta(ge=1, le=100)] = 50  # OpenFGA takes ≤ 100 tuples per write
    outbox_backoff_base_seconds: PositiveSeconds = 1.0
    outbox_backoff_max_seconds: PositiveSeconds = 300.0
    outbox_lease_seconds: PositiveSeconds = 60.0
    outbox_keep_delivered_hours: Annotated[float, msgspec.Meta(ge=0)] = 24.0
    # endregion
    # region: consul
    consul_url: str | None = None
    consul_token: str | None = None
    consul_prefix: str = "app/"
    consul_poll_seconds: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    consul_required: bool = False
    consul_timeout_seconds: Annotated[float, msgspec.Meta(gt=0)] = 5.0
    # endregion
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["console", "json"] | None = None  # None: console in development, else json
    cors_origins: str = ""
    web_concurrency: Positive = 1
    maintenance_cache_seconds: Annotated[float, msgspec.Meta(ge=0)] = 2.0
    admission_max_in_flight: NonNegative = 128  # per worker; 0: no limit (app/http/admission.py)
    admission_max_wait_ms: NonNegative = 500
    metrics_enabled: bool = False
    # region: grpc
    grpc_port: Annotated[int, msgspec.Meta(ge=1, le=65535)] | None = None  # set: a gRPC server (app/grpc/)
    grpc_host: str = "0.0.0.0"  # noqa: S104  # like HOST for `just serve`; `just dev` binds 127.0.0.1
    # endregion
    var_dir: str = "./var"

    @property
    def auto_migrate(self) -> bool:
        return self.app_env == "development" if self.db_auto_migrate is None else self.db_auto_migrate

    @property
    def effective_log_format(self) -> Literal["console", "json"]:
        return self.log_format or ("console" if self.app_env == "development" else "json")

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def prefix(self) -> str:
        return "/" + self.service_prefix.strip("/") if self.service_prefix.strip("/") else ""

    @property
    def dev_auth(self) -> bool:
        return self.oidc_issuer is None

    # region: openfga
    @property
    def openfga_enabled(self) -> bool:
        return self.openfga_api_url is not None

    # endregion

    def check(self) -> Settings:
        """Rules across fields; raises SettingsError with a one-line reason."""
        if self.db_pool_min > self.db_pool_max:
            raise SettingsError(f"DB_POOL_MIN ({self.db_pool_min}) is larger than DB_POOL_MAX ({self.db_pool_max})")
        if self.service_prefix and not self.service_prefix.startswith("/"):
            raise SettingsError(f"SERVICE_PREFIX must start with '/', got {self.service_prefix!r}")
        # region: openfga
        if self.openfga_enabled and not (self.openfga_store_id and self.openfga_model_id):
            raise SettingsError("OPENFGA_API_URL is set but OPENFGA_STORE_ID or OPENFGA_MODEL_ID is not")
        if self.openfga_enabled:
            _check_openfga(self)
        if self.outbox_backoff_base_seconds > self.outbox_backoff_max_seconds:
            raise SettingsError("OUTBOX_BACKOFF_BASE_SECONDS is larger than OUTBOX_BACKOFF_MAX_SECONDS")
        if self.outbox_lease_seconds * 1000 < 2 * self.openfga_timeout_ms:
            # A relay gives up on a batch after half its lease; that must leave room for one call.
            raise SettingsError("OUTBOX_LEASE_SECONDS must be at least twice OPENFGA_TIMEOUT_MS")
        # endregion
        if self.app_env == "production":
            if self.dev_auth:
                raise SettingsError("APP_ENV=production refuses dev auth: set OIDC_ISSUER")
            if self.database_url.startswith("sqlite:"):
                raise SettingsError("APP_ENV=production refuses SQLite: set DATABASE_URL to PostgreSQL")
            # region: webhook
            if not self.keycloak_webhook_secret:
                raise SettingsError("APP_ENV=production needs KEYCLOAK_WEBHOOK_SECRET")
            # endregion
        return self


# region: openfga
_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")  # OpenFGA's store and model ids


def _check_openfga(settings: Settings) -> None:
    url = urlsplit(settings.openfga_api_url or "")
    if url.scheme not in ("http", "https") or not url.netloc:
        raise SettingsError(f"OPENFGA_API_URL must be an http(s) URL, got {settings.openfga_api_url!r}")
    for name, value in (
        ("OPENFGA_STORE_ID", settings.openfga_store_id),
        ("OPENFGA_MODEL_ID", settings.openfga_model_id),
    ):
        if not _ULID.match(value or ""):
            raise SettingsError(f"{name} must be an OpenFGA id (a ULID, 26 characters), got {value!r}")


# endregion

FIELDS: tuple[str, ...] = tuple(field.encode_name for field in msgspec.structs.fields(Settings))


def secret_values(settings: Settings) -> set[str]:
    """What the secret settings hold, as it could appear in a log line (app/logging.py scrubs it):
    each secret's value, and of DATABASE_URL its password, as written in the URL and decoded."""
    encoded = msgspec.to_builtins(settings)
    values: set[str] = set()
    for name in SECRETS:
        value = encoded.get(name)
        if not value:
            continue
        if name == "DATABASE_URL":
            password = urlsplit(value).password
            values |= {password, unquote(password)} if password else set()
        else:
            values.add(str(value))
    return values
