"""Checking an RFC 9457 problem response: every error the service answers has this shape."""

from __future__ import annotations

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= body.keys()
    assert body["status"] == status
    return body


def assert_unavailable(response) -> None:
    """A 503 that says the database is unavailable, and leaks nothing of it (no trace, SQL or driver)."""
    problem = assert_problem(response, 503)
    assert response.headers["retry-after"].isdigit()
    assert "database" in problem["detail"]
    for leak in ("Traceback", "SELECT", "INSERT", "UPDATE", "asyncpg", "postgres"):
        assert leak not in response.text, leak
