"""The Piccolo app "blog", for Piccolo's CLI and the migration runner: its tables and its migrations
(the top-level piccolo_migrations/).

The tables are every ``Table`` defined in a module of this package (``adapters.db.engine.tables``):
a new resource's module needs no registration. ``uv run piccolo migrations new blog --auto`` finds
them through piccolo_conf.py.
"""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

from adapters.db.engine import tables

APP_CONFIG = AppConfig(
    app_name="blog",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "piccolo_migrations"),
    table_classes=tables(),
    migration_dependencies=[],
    commands=[],
)
