from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

from adapters.db.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="blog",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "piccolo_migrations"),
    table_classes=TABLES,
    migration_dependencies=[],
    commands=[],
)
