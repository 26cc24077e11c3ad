"""The store: SQL, the codec of stored values and the hash chain, migrations, recovery."""

from drvtape.store.database import (
    DEFAULT_DB,
    EventFilter,
    SessionSummary,
    Store,
    StoredSession,
    database_url,
    schema_version,
    sqlite_path,
)

__all__ = ["DEFAULT_DB", "EventFilter", "SessionSummary", "Store", "StoredSession", "database_url",
           "schema_version", "sqlite_path"]
