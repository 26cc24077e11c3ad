"""Schema version 9: message_names gets each driver class's own names (ICM_*, ACMDM_*) and
events_view names an event by the class of the instance it went to; sessions_view and
events_view read a detail that is not JSON as NULL instead of failing
(drvtape.store.views). Nothing stored changes."""

from alembic import op

from drvtape.store import views

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    conn = op.get_bind()
    views.recreate(conn)
    conn.exec_driver_sql("UPDATE drvtape_meta SET value = '9' WHERE key = 'schema_version'")
