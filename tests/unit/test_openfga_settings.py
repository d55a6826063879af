"""The OPENFGA_* and OUTBOX_* settings: defaults, and the combinations refused at start-up."""

from __future__ import annotations

import pytest

from app.settings import SettingsError
from app.settings_layers import decode_settings
from tests.support.fake_openfga import MODEL_ID, STORE_ID

OPENFGA = {"OPENFGA_API_URL": "http://openfga:8080", "OPENFGA_STORE_ID": STORE_ID, "OPENFGA_MODEL_ID": MODEL_ID}


def settings(**env: str):
    return decode_settings([("env", env)]).settings


def test_defaults():
    loaded = settings()
    assert not loaded.openfga_enabled
    assert (loaded.openfga_timeout_ms, loaded.outbox_poll_seconds, loaded.outbox_batch_size) == (2000, 5.0, 50)
    assert (loaded.outbox_backoff_base_seconds, loaded.outbox_backoff_max_seconds) == (1.0, 300.0)
    assert (loaded.outbox_lease_seconds, loaded.outbox_keep_delivered_hours) == (60.0, 24.0)
    assert settings(**OPENFGA).openfga_enabled


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"OPENFGA_API_URL": "http://openfga:8080"}, "OPENFGA_STORE_ID or OPENFGA_MODEL_ID"),
        ({**OPENFGA, "OPENFGA_API_URL": "openfga:8080"}, "OPENFGA_API_URL must be an http"),
        ({**OPENFGA, "OPENFGA_STORE_ID": "my-store"}, "OPENFGA_STORE_ID must be an OpenFGA id"),
        ({**OPENFGA, "OPENFGA_MODEL_ID": MODEL_ID.lower()}, "OPENFGA_MODEL_ID must be an OpenFGA id"),
        ({"OUTBOX_BATCH_SIZE": "101"}, "OUTBOX_BATCH_SIZE"),
        ({"OUTBOX_POLL_SECONDS": "0"}, "OUTBOX_POLL_SECONDS"),
        ({"OUTBOX_BACKOFF_BASE_SECONDS": "10", "OUTBOX_BACKOFF_MAX_SECONDS": "5"}, "OUTBOX_BACKOFF_BASE_SECONDS"),
        ({"OUTBOX_LEASE_SECONDS": "3", "OPENFGA_TIMEOUT_MS": "2000"}, "OUTBOX_LEASE_SECONDS"),
    ],
)
def test_refused_combinations_name_the_variable(env, reason):
    with pytest.raises(SettingsError, match=reason):
        settings(**env)
