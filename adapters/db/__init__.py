"""Persistence on SQLite or PostgreSQL: a module per resource (its Piccolo table, its statements as
literal SQL, its repository and reader), how statements are sent (sql.py), the unit of work,
opening, migrating and closing the database. docs/database.md has the whole picture."""
