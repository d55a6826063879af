"""The Piccolo app "blog": its tables and its migrations (the top-level piccolo_migrations/).

Every ``Table`` defined in a module of this package is found here (Piccolo's ``table_finder``): a
new resource's module with its table needs no registration. Piccolo's CLI reads this through
piccolo_conf.py (``uv run piccolo migrations new blog --auto``); the app, through ``TABLES``.
"""

from __future__ import annotations

import pkgutil
from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder
from piccolo.table import Table, sort_table_classes

_PACKAGE = Path(__file__).resolve().parent

# Parents before children (by foreign key): the order to create them in, and the reverse to empty them.
TABLES: list[type[Table]] = sort_table_classes(
    table_finder(
        [f"adapters.db.{module.name}" for module in pkgutil.iter_modules([str(_PACKAGE)])], exclude_imported=True
    )
)

APP_CONFIG = AppConfig(
    app_name="blog",
    migrations_folder_path=str(_PACKAGE.parents[1] / "piccolo_migrations"),
    table_classes=TABLES,
    migration_dependencies=[],
    commands=[],
)
