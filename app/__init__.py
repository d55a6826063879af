"""The Litestar application: HTTP, settings, composition root and the management CLI."""
