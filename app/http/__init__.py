"""HTTP: controllers, request/response structs, the auth middleware and problem+json errors."""
