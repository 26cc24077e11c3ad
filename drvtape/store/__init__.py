"""The store: SQL, the codec of stored values and the hash chain, migrations, recovery."""

from drvtape.store.database import Store, opened
from drvtape.store.engines import DEFAULT_DB, database_url, sqlite_path
from drvtape.store.opening import schema_version
from drvtape.store.queries import EventFilter, ListedSession, SessionSummary
from drvtape.store.reading import StoredSession

__all__ = ["DEFAULT_DB", "EventFilter", "ListedSession", "SessionSummary", "Store", "StoredSession", "database_url", "opened",
           "schema_version", "sqlite_path"]
