"""Piccolo's configuration, for its CLI (migrations). The app builds its engine in app/container.py."""

import os

from piccolo.conf.apps import AppRegistry

from adapters.db.engine import make_engine

DB = make_engine(os.environ.get("DATABASE_URL", "sqlite:///./var/app.sqlite3"))

APP_REGISTRY = AppRegistry(apps=["adapters.db.piccolo_app"])
