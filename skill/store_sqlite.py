"""Progress in a local SQLite file: the default on a developer machine, nothing to install.

Its own module so that the Lambda path (DynamoDB) never imports sqlite3.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from skill.store import ProgressStore, StoreError


class SqliteStore(ProgressStore):
    """The local default: one file, created on first use, nothing to install."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        # One connection per thread: the web server answers on several threads.
        connection = getattr(self._local, "connection", None)
        if connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=2)
            connection.execute(
                "CREATE TABLE IF NOT EXISTS progress "
                "(user_id TEXT PRIMARY KEY, version INTEGER NOT NULL, item TEXT NOT NULL)"
            )
            self._local.connection = connection
        return connection

    def read(self, user_id: str) -> dict[str, Any] | None:
        try:
            row = self._db().execute(
                "SELECT item FROM progress WHERE user_id = ?", (user_id,)
            ).fetchone()
        except sqlite3.Error as error:
            raise StoreError(f"sqlite read failed: {error}") from error
        return json.loads(row[0]) if row else None

    def write(self, user_id: str, item: dict[str, Any], expected_version: int) -> bool:
        db = self._db()
        text = json.dumps(item, separators=(",", ":"))
        try:
            with db:
                if expected_version == 0:
                    cursor = db.execute(
                        "INSERT OR IGNORE INTO progress VALUES (?, ?, ?)",
                        (user_id, item["version"], text),
                    )
                else:
                    cursor = db.execute(
                        "UPDATE progress SET version = ?, item = ? "
                        "WHERE user_id = ? AND version = ?",
                        (item["version"], text, user_id, expected_version),
                    )
        except sqlite3.Error as error:
            raise StoreError(f"sqlite write failed: {error}") from error
        return cursor.rowcount == 1

    def delete(self, user_id: str) -> None:
        db = self._db()
        with db:
            db.execute("DELETE FROM progress WHERE user_id = ?", (user_id,))
