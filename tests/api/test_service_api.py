"""Health, docs, errors outside the API."""

from __future__ import annotations

from domain.listing import MAX_OFFSET
from tests.support.problems import assert_problem


async def test_health_needs_no_token(client):
    assert (await client.get("/health/live")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


async def test_unknown_route_is_a_404_problem_and_wrong_method_405(client, keys):
    assert_problem(await client.get("/nope"), 404)
    assert_problem(await client.put("/v1/users/me", headers=keys.headers()), 405)


async def test_docs_are_served_offline(client):
    page = await client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        assert f"/docs/assets/{asset}" in page.text
        assert (await client.get(f"/docs/assets/{asset}")).status_code == 200
    assert (await client.get("/docs/redoc")).status_code == 200


async def test_openapi_describes_routes_constraints_and_problems(client):
    doc = (await client.get("/docs/openapi.json")).json()
    assert doc["openapi"].startswith("3.1")
    paths = doc["paths"]
    for path in (
        # region: blog
        "/v1/posts",
        "/v1/posts/{post_id}",
        "/v1/comments",
        "/v1/comments/{comment_id}",
        # endregion
        "/v1/users/me",
        "/v1/users/{user_id}",
        "/health/live",
        "/health/ready",
    ):
        assert path in paths, path
    # region: blog
    schemas = doc["components"]["schemas"]
    content = schemas["ContentIn"]["properties"]["content"]
    assert content["minLength"] == 1
    assert "maxLength" not in content  # 10,000 counts after trimming: a bound on the raw string would lie
    assert "1–10,000 characters after trimming" in content["description"]
    limit = next(p for p in paths["/v1/posts"]["get"]["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 100)
    sort_by = next(p for p in paths["/v1/posts"]["get"]["parameters"] if p["name"] == "sort_by")
    ref = sort_by["schema"]["allOf"][0]["$ref"].rsplit("/", 1)[-1]
    assert set(schemas[ref]["enum"]) == {"created_at", "updated_at"}
    patch = paths["/v1/posts/{post_id}"]["patch"]["responses"]
    for status in ("400", "401", "403", "404", "412", "503"):
        assert "application/problem+json" in patch[status]["content"], status
    # endregion


async def test_responses_say_nosniff(client):
    assert (await client.get("/health/live")).headers["x-content-type-options"] == "nosniff"


async def test_openapi_states_headers_conditions_and_every_status(client):
    """What clients and generators read from the document (Spectral and openapi-python-client judge
    the rest in `just lint` and tests/integration/test_openapi_client.py)."""
    doc = (await client.get("/docs/openapi.json")).json()
    paths, schemas = doc["paths"], doc["components"]["schemas"]
    # region: blog
    item, comment = paths["/v1/posts/{post_id}"], paths["/v1/comments/{comment_id}"]

    assert set(paths["/v1/posts"]["post"]["responses"]["201"]["headers"]) == {"Location", "ETag"}
    for operation in (item["get"], item["patch"], comment["get"], paths["/v1/users/me"]["get"]):
        assert "ETag" in operation["responses"]["200"]["headers"]
    for operation in (item["get"], comment["get"], paths["/v1/users/{user_id}"]["get"], paths["/v1/users/me"]["get"]):
        assert "If-None-Match" in {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert "content" not in operation["responses"]["304"]
        assert "ETag" in operation["responses"]["304"]["headers"]
    for operation in (item["patch"], item["delete"], comment["patch"], comment["delete"]):
        assert "If-Match" in {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert "412" in operation["responses"]
    # endregion

    body_taking = [(path, method) for path, item_ in paths.items() for method in item_ if method in ("post", "patch")]
    assert {  # and any a new resource adds
        # region: blog
        ("/v1/posts", "post"),
        ("/v1/posts/{post_id}", "patch"),
        ("/v1/comments", "post"),
        ("/v1/comments/{comment_id}", "patch"),
        # endregion
        ("/v1/service-context", "patch"),
        # region: webhook
        ("/v1/authentication/webhook/events-synchronization", "post"),
        # endregion
    } <= set(body_taking)
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert "405" in operation["responses"], (path, method)
            assert ("415" in operation["responses"]) == ((path, method) in body_taking), (path, method)
            assert operation["description"].strip(), (path, method)
            if path.startswith("/v1/") and "webhook" not in path:  # a bearer token: two of them are a 400
                assert {"400", "401", "503"} <= set(operation["responses"]), (path, method)
            if (path, method) in body_taking:
                assert "413" in operation["responses"], (path, method)
            assert set(operation["tags"]) <= {tag["name"] for tag in doc["tags"]}

    # region: blog
    query = {p["name"]: p["schema"] for p in paths["/v1/posts"]["get"]["parameters"]}
    assert (query["limit"]["minimum"], query["limit"]["maximum"]) == (1, 100)
    assert query["offset"]["maximum"] == MAX_OFFSET  # deeper: cursor
    for bound in (query["limit"]["minimum"], query["limit"]["maximum"], query["offset"]["maximum"]):
        assert isinstance(bound, int)
    for name in ("from_date", "to_date"):
        assert (query[name]["type"], query[name]["format"]) == ("string", "date-time")
    # endregion
    for refusing in (
        # region: blog
        "ContentIn",
        "NewComment",
        # endregion
        "MaintenanceIn",
    ):
        assert schemas[refusing]["additionalProperties"] is False, refusing
