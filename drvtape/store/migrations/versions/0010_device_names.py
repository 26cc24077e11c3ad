"""Schema version 10: message_names gets the names of the device entry points' classes
(WODM_* ... AUXDM_*) and of MCI (MCI_*); events_view names a device entry point's call by its
entry point and an MCI instance's by MCI, and says each event's entry point and class; the
partial indexes ix_events_opened and ix_events_closing (one entry per instance) let the
message filters find an event's instance (drvtape.store.instance_sql). Nothing stored changes.
"""

import sqlalchemy as sa
from alembic import op

from drvtape.store import instance_sql, views

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    conn = op.get_bind()
    for name, columns, where in (("ix_events_opened", ["session_pk", "result", "seq"], instance_sql.OPENED),
                                 ("ix_events_closing", ["session_pk", "driver_id", "seq"], instance_sql.CLOSING)):
        predicate = sa.text(where.format(""))
        # if_not_exists: a database made by this version and stamped older (the tests' way to
        # make an old one) has them already
        op.create_index(name, "events", columns, sqlite_where=predicate, postgresql_where=predicate,
                        if_not_exists=True)
    views.recreate(conn)
    conn.exec_driver_sql("UPDATE drvtape_meta SET value = '10' WHERE key = 'schema_version'")
