"""No secret in any log line: the real server (`just serve`, Granian) with every secret configured,
taken through what makes libraries log their arguments and requests — a database outage, the
integrations' failures, bad and good bearer tokens, bad and good webhook signatures — in both log
formats, at DEBUG. Everything the process wrote (stdout and stderr) is searched for each value.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.support.fake_consul import FakeConsul
from tests.support.fake_openfga import FakeOpenFGA
from tests.support.keycloak_events import admin_event, encode, sign
from tests.support.openfga import openfga_env
from tests.support.pg_cluster import PgCluster
from tests.support.servers import Server

pytestmark = pytest.mark.slow

DB_PASSWORD = "Db-pass-8c41f0"
WEBHOOK_SECRET = "Hook-secret-5e2a97"
# region: openfga
OPENFGA_TOKEN = "Fga-token-0b7d33"
# endregion
CONSUL_TOKEN = "Consul-token-91cc2e"
WEBHOOK = "/v1/authentication/webhook/events-synchronization"
OUTAGE_SECONDS = 4.0  # long enough for the pool to retry its connections and say so


def _send(client: httpx.Client, method: str, path: str, **kwargs: object) -> httpx.Response:
    response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert response.status_code < 500 or response.status_code == 503, (method, path, response.text)
    return response


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_no_secret_token_or_signature_is_ever_logged(pg_cluster: PgCluster, tmp_path: Path, log_format: str) -> None:
    name = f"secrets_{uuid.uuid4().hex[:10]}"
    asyncio.run(pg_cluster.create_database(name))
    # The cluster trusts local connections: the password is never checked, but every connection carries it.
    database_url = f"postgresql://postgres:{DB_PASSWORD}@127.0.0.1:{pg_cluster.port}/{name}"
    settings: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        # region: openfga
        fga = stack.enter_context(FakeOpenFGA())
        settings |= openfga_env(fga, OPENFGA_API_TOKEN=OPENFGA_TOKEN, OPENFGA_TIMEOUT_MS="1000")
        # endregion
        # region: consul
        consul = stack.enter_context(FakeConsul(required_token=CONSUL_TOKEN))
        consul.put("app/LOG_LEVEL", "DEBUG")
        settings |= {"CONSUL_URL": consul.url, "CONSUL_TOKEN": CONSUL_TOKEN, "CONSUL_POLL_SECONDS": "1"}
        # endregion
        server = Server(
            tmp_path,
            database_url,
            LOG_FORMAT=log_format,
            LOG_LEVEL="DEBUG",
            DB_AUTO_MIGRATE="true",
            DB_ACQUIRE_TIMEOUT_MS="1000",
            KEYCLOAK_WEBHOOK_SECRET=WEBHOOK_SECRET,
            **settings,
        )
        try:
            server.start().wait_ready()
            alice, bob = server.token("alice"), server.token("bob")
            forged = alice["Authorization"][:-8] + "AAAAAAAA"
            # region: webhook
            event = encode(admin_event("CREATE", uuid.uuid4(), 1, username="zed"))
            good_signature = sign(event, WEBHOOK_SECRET)
            bad_signature = sign(event, "not-the-secret")
            # endregion
            with httpx.Client(base_url=server.url, timeout=30) as client:
                _send(client, "GET", "/v1/users/me", headers=alice)
                # region: blog
                post = _send(client, "POST", "/v1/posts", json={"content": "x"}, headers=alice).json()
                # endregion
                _send(client, "GET", "/v1/users/me", headers={"Authorization": forged})
                _send(client, "GET", "/v1/users/me", headers={"Authorization": "Bearer not.a.token"})
                _send(client, "GET", "/v1/users/me", headers=[("Authorization", alice["Authorization"])] * 2)
                # region: webhook
                for signature in (bad_signature, good_signature):
                    _send(
                        client,
                        "POST",
                        WEBHOOK,
                        content=event,
                        headers={"Content-Type": "application/json", "X-Keycloak-Signature": signature},
                    )
                # endregion
                # region: openfga
                # region: blog
                fga.fail_next(20, 500)  # OpenFGA failing: bob's PATCH asks it, then gives up with a 503
                _send(client, "PATCH", f"/v1/posts/{post['id']}", json={"content": "y"}, headers=bob)
                # endregion
                # endregion
                # region: consul
                consul.stop()  # Consul gone: the watcher warns and retries
                # endregion
                pg_cluster.stop("fast")
                try:
                    deadline = time.monotonic() + OUTAGE_SECONDS
                    while time.monotonic() < deadline:
                        _send(client, "GET", "/v1/users/me", headers=bob)
                        # region: blog
                        _send(client, "GET", "/v1/posts", headers=alice)
                        _send(client, "POST", "/v1/posts", json={"content": "z"}, headers=alice)
                        # endregion
                        _send(client, "GET", "/health/ready")
                        time.sleep(0.2)
                finally:
                    pg_cluster.start()
        finally:
            server.close()
    log = server.log()

    # What was logged is what the test meant to provoke (so the search below searches something).
    for expected in (
        "dependency unavailable",
        "bearer token refused",
        "Traceback" if log_format == "console" else "exc_type",
    ):
        assert expected in log, expected
    secrets = {
        "the database password": DB_PASSWORD,
        # region: webhook
        "KEYCLOAK_WEBHOOK_SECRET": WEBHOOK_SECRET,
        # endregion
        # region: openfga
        "OPENFGA_API_TOKEN": OPENFGA_TOKEN,
        # endregion
        # region: consul
        "CONSUL_TOKEN": CONSUL_TOKEN,
        # endregion
        "alice's bearer token": alice["Authorization"].removeprefix("Bearer "),
        "bob's bearer token": bob["Authorization"].removeprefix("Bearer "),
        "a forged bearer token": forged.removeprefix("Bearer "),
        "a token's signature": alice["Authorization"].rsplit(".", 1)[1],
        # region: webhook
        "a good webhook signature": good_signature,
        "a bad webhook signature": bad_signature,
        # endregion
    }
    leaked = {what: log.count(value) for what, value in secrets.items() if value in log}
    assert not leaked, f"secrets in the {log_format} log: {leaked}"
