"""Domain errors. They travel up as exceptions; the app maps each kind to one HTTP problem."""

from __future__ import annotations


class DomainError(Exception):
    """Base class. ``detail`` is safe to show to the caller."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    pass


class Forbidden(DomainError):
    pass


class PreconditionFailed(DomainError):
    """The caller's ``If-Match`` names a version that is no longer current."""


class Conflict(DomainError):
    pass


class InvalidInput(DomainError):
    """A value broke a domain rule; ``field`` names it for the caller."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Unauthenticated(DomainError):
    """The bearer token is missing or cannot be trusted; ``detail`` says which check failed."""


class BadSignature(Unauthenticated):
    """A signed request (the Keycloak webhook) whose signature is missing or wrong.

    Unlike a bearer-token failure, it carries no ``WWW-Authenticate: Bearer`` challenge.
    """


class DependencyUnavailable(DomainError):
    """A dependency (the database, a permission server, ...) did not answer in time or is down."""

    def __init__(self, dependency: str, detail: str | None = None) -> None:
        super().__init__(detail or f"{dependency} is unavailable")
        self.dependency = dependency


class MaintenanceMode(DomainError):
    pass
