"""Persistence: Piccolo tables, repositories and the unit of work, on SQLite or PostgreSQL."""
