"""Property-based tests (Hypothesis) of the content rules, the JSON depth bound, request bodies and
the listing query.

The listing properties run over HTTP against a fixed data set on both engines: every valid query
gives exactly the page and the total that a plain Python filter-sort-slice of all rows gives, and
every invalid value is a 400 naming its parameter. Every route that takes a body answers any bytes
under any content type with a 2xx or a 4xx problem, never a 5xx.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import hypothesis.strategies as st
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from litestar.testing import TestClient

from app.http.hardening import MAX_JSON_DEPTH, json_too_deep
from app.main import create_app
from domain.errors import InvalidInput
from domain.model import CONTENT_MAX_LENGTH, clean_content
from tests.support.keycloak_events import sign
from tests.support.reliability import STATS
from tests.support.tokens import TestKeys

# -- content rules -------------------------------------------------------------------------------

# Mostly short text with whitespace and NULs mixed in, sometimes near the length limit.
contents = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Z", "Cc"]), max_size=40),
    st.builds(
        lambda core, pad: pad + core + pad, st.text(min_size=1, max_size=5), st.sampled_from(["", " ", "\n\t"])
    ).map(lambda s: s * (CONTENT_MAX_LENGTH // max(len(s), 1))),
)


@given(contents)
def test_content_is_trimmed_and_accepted_exactly_when_the_rules_allow(raw: str) -> None:
    trimmed = raw.strip()
    allowed = 1 <= len(trimmed) <= CONTENT_MAX_LENGTH and "\x00" not in trimmed
    if allowed:
        assert clean_content(raw) == trimmed
    else:
        with pytest.raises(InvalidInput) as refused:
            clean_content(raw)
        assert refused.value.field == "content"


# -- JSON nesting depth --------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:', max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=60,
)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@given(json_values, st.integers(min_value=0, max_value=6))
def test_json_depth_bound_counts_only_real_nesting(value: Any, limit: int) -> None:
    body = msgspec.json.encode(value)  # brackets and escaped quotes inside strings must not count
    assert json_too_deep(body, limit) == (_depth(value) > limit)


@given(st.integers(min_value=MAX_JSON_DEPTH - 2, max_value=MAX_JSON_DEPTH + 2), st.sampled_from("[{"))
def test_nesting_at_the_bound_is_decoded_and_past_it_refused(depth: int, opener: str) -> None:
    inner = '"x"'
    for _ in range(depth):
        inner = f"[{inner}]" if opener == "[" else f'{{"k":{inner}}}'
    assert json_too_deep(inner.encode()) == (depth > MAX_JSON_DEPTH)


# -- the listing query, over HTTP ----------------------------------------------------------------

USERS = ["ann", "ben", "cat"]


class Dataset:
    def __init__(self, client: TestClient[Any], keys: TestKeys) -> None:
        self.client = client
        self.headers = keys.headers("ann")
        self.owner_ids = [str(keys.user_id(user)) for user in USERS]
        for n in range(24):
            user = USERS[n % 3]
            created = client.post("/v1/posts", json={"content": f"post {n}"}, headers=keys.headers(user)).json()
            if n % 4 == 0:  # updated_at then differs from created_at, and the two orders differ
                client.patch(f"/v1/posts/{created['id']}", json={"content": f"edited {n}"}, headers=keys.headers(user))
        self.rows = client.get("/v1/posts", params={"limit": 100}, headers=self.headers).json()["items"]
        assert len(self.rows) == 24
        self.instants = sorted(_instant(row["created_at"]) for row in self.rows)

    def expected(self, query: dict[str, Any]) -> tuple[list[str], int]:
        rows = [
            row
            for row in self.rows
            if ("owner_id" not in query or row["owner_id"] == query["owner_id"])
            and ("from_date" not in query or _instant(row["created_at"]) >= _instant(query["from_date"]))
            and ("to_date" not in query or _instant(row["created_at"]) <= _instant(query["to_date"]))
        ]
        field = query.get("sort_by", "updated_at")
        rows.sort(key=lambda row: (_instant(row[field]), uuid.UUID(row["id"])), reverse=query.get("order") != "asc")
        offset, limit = query.get("offset", 0), query.get("limit", 20)
        return [row["id"] for row in rows[offset : offset + limit]], len(rows)


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@pytest.fixture
def dataset(engine: Any, make_container: Any, keys: TestKeys) -> Iterator[Dataset]:
    with TestClient(app=create_app(make_container())) as client:
        yield Dataset(client, keys)


def _date_param(dataset: Dataset) -> st.SearchStrategy[str]:
    """Around the rows' own instants (so that boundaries are hit), written with any offset or none."""
    offsets = st.sampled_from([None, UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))])
    nudges = st.sampled_from([timedelta(0), timedelta(microseconds=1), -timedelta(microseconds=1), timedelta(days=1)])

    def render(instant: datetime, nudge: timedelta, offset: Any) -> str:
        moment = instant + nudge
        if offset is None:
            return moment.astimezone(UTC).replace(tzinfo=None).isoformat()
        return moment.astimezone(offset).isoformat()

    return st.builds(render, st.sampled_from(dataset.instants), nudges, offsets)


@st.composite
def valid_queries(draw: st.DrawFn, dataset: Dataset) -> dict[str, Any]:
    query: dict[str, Any] = {}
    if draw(st.booleans()):
        query["owner_id"] = draw(st.sampled_from([*dataset.owner_ids, str(uuid.uuid4())]))
    for name in ("from_date", "to_date"):
        if draw(st.booleans()):
            query[name] = draw(_date_param(dataset))
    if "from_date" in query and "to_date" in query and _instant(query["from_date"]) > _instant(query["to_date"]):
        query["from_date"], query["to_date"] = query["to_date"], query["from_date"]
    for name, values in (("sort_by", ["created_at", "updated_at"]), ("order", ["asc", "desc"])):
        if draw(st.booleans()):
            query[name] = draw(st.sampled_from(values))
    if draw(st.booleans()):
        query["limit"] = draw(st.integers(min_value=1, max_value=100))
    if draw(st.booleans()):
        query["offset"] = draw(st.integers(min_value=0, max_value=30))
    return query


LISTING = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@LISTING
@given(data=st.data())
def test_every_valid_listing_query_gives_exactly_the_filtered_sorted_sliced_rows(
    dataset: Dataset, data: st.DataObject
) -> None:
    query = data.draw(valid_queries(dataset))
    response = dataset.client.get("/v1/posts", params=query, headers=dataset.headers)
    assert response.status_code == 200, response.text
    page = response.json()
    ids, total = dataset.expected(query)
    assert [item["id"] for item in page["items"]] == ids
    assert (page["total"], page["limit"], page["offset"]) == (total, query.get("limit", 20), query.get("offset", 0))
    assert (page["next_cursor"] is not None) == (query.get("offset", 0) + query.get("limit", 20) < total)
    STATS["listing queries checked"] += 1


@LISTING
@given(data=st.data())
def test_walking_any_valid_listing_by_cursor_gives_every_row_once_in_order(
    dataset: Dataset, data: st.DataObject
) -> None:
    query = data.draw(valid_queries(dataset))
    query.pop("offset", None)
    query["limit"] = data.draw(st.integers(min_value=1, max_value=9))
    everything, total = dataset.expected({**query, "limit": 1000})
    seen: list[str] = []
    params = query
    while True:
        response = dataset.client.get("/v1/posts", params=params, headers=dataset.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert (page["total"], page["offset"]) == (total, 0)
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        params = {**query, "cursor": page["next_cursor"]}
    assert seen == everything
    STATS["listings walked by cursor"] += 1


invalid_values = st.sampled_from(
    [
        ("limit", "0"),
        ("limit", "101"),
        ("limit", "-1"),
        ("limit", "ten"),
        ("offset", "-1"),
        ("offset", "9223372036854775808"),
        ("offset", "1.5"),
        ("sort_by", "content"),
        ("sort_by", ""),
        ("order", "up"),
        ("owner_id", "not-a-uuid"),
        ("from_date", "yesterday"),
        ("from_date", "1700000000"),
        ("to_date", "0.5"),
        ("to_date", "2024-13-01T00:00:00Z"),
        ("from_date", "0001-01-01T00:00:00+01:00"),
    ]
)


@LISTING
@given(data=st.data(), bad=invalid_values)
def test_every_invalid_listing_value_is_a_400_naming_its_parameter(
    dataset: Dataset, data: st.DataObject, bad: tuple[str, str]
) -> None:
    name, value = bad
    query = {**data.draw(valid_queries(dataset)), name: value}
    response = dataset.client.get("/v1/posts", params=query, headers=dataset.headers)
    assert response.status_code == 400, (query, response.text)
    assert name in {error["field"] for error in response.json()["errors"]}


# -- request bodies: any bytes, never a 5xx -------------------------------------------------------

# region: webhook
WEBHOOK = "/v1/authentication/webhook/events-synchronization"
WEBHOOK_SECRET = "bytes-secret"
# endregion


@pytest.fixture
def body_routes(
    engine: Any, make_container: Any, keys: TestKeys
) -> Iterator[tuple[TestClient[Any], list[tuple[str, str]]]]:
    env = {}
    # region: webhook
    env["KEYCLOAK_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    # endregion
    with TestClient(app=create_app(make_container(**env))) as client:
        post = client.post("/v1/posts", json={"content": "target"}, headers=keys.headers("alice")).json()
        comment = client.post(
            "/v1/comments", json={"post_id": post["id"], "content": "target"}, headers=keys.headers("alice")
        ).json()
        routes = [
            ("POST", "/v1/posts"),
            ("PATCH", f"/v1/posts/{post['id']}"),
            ("POST", "/v1/comments"),
            ("PATCH", f"/v1/comments/{comment['id']}"),
            ("PATCH", "/v1/service-context"),
            # region: webhook
            ("POST", WEBHOOK),
            # endregion
        ]
        yield client, routes


# Raw bytes, and JSON documents of each route's shape with raw bytes (often not UTF-8) in a string.
_fields = st.sampled_from([b"content", b"post_id", b"maintenance", b"representation", b"time", b"\xff"])
bodies = st.one_of(
    st.binary(max_size=64),
    st.builds(lambda field, raw: b'{"' + field + b'": "' + raw + b'"}', _fields, st.binary(max_size=16)),
    st.builds(
        lambda raw: (
            b'{"resourceType": "USER", "operationType": "CREATE", "time": 1, "representation": "{\\"username\\": \\"'
            + raw
            + b'\\"}"}'
        ),
        st.binary(max_size=16),
    ),
)
content_types = st.sampled_from(
    [
        None,
        "application/json",
        "application/json; charset=latin-1",
        "application/merge-patch+json",
        "text/plain",
        "+json",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.integers(min_value=0, max_value=63), body=bodies, content_type=content_types, signed=st.booleans())
def test_any_bytes_on_any_body_route_are_never_a_server_error(
    body_routes: tuple[TestClient[Any], list[tuple[str, str]]],
    keys: TestKeys,
    route: int,
    body: bytes,
    content_type: str | None,
    signed: bool,
) -> None:
    client, routes = body_routes
    method, url = routes[route % len(routes)]  # however many body routes the service has
    admin = keys.headers("root", ("admin",))
    headers = {**admin, **({"Content-Type": content_type} if content_type else {})}
    # region: webhook
    if url == WEBHOOK and signed:
        headers["X-Keycloak-Signature"] = sign(body, WEBHOOK_SECRET)
    # endregion
    response = client.request(method, url, content=body, headers=headers)
    assert response.status_code < 500, (method, url, body, content_type, response.text)
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
    if url == "/v1/service-context" and response.status_code == 200:
        client.patch(url, json={"maintenance": False}, headers=admin)  # the next examples need the service up
    STATS["arbitrary bodies sent"] += 1
