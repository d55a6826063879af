"""Authentication: verifying bearer tokens (joserfc, Authlib's JOSE engine) and the key sources."""
