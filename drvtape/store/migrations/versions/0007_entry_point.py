"""Schema version 7: events.entry_point, which of a driver's entry points got the call
(drvtape.schema.entry_points; issue 13: wodMessage, modMessage ... beside DriverProc).

Every stored event was a DriverProc's: the column stays NULL for them, and the hash chain
leaves a NULL entry point out of a row's text, so their links stay as they are.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.add_column("events", sa.Column("entry_point", sa.SmallInteger))
    op.get_bind().execute(sa.text("UPDATE drvtape_meta SET value = '7' WHERE key = 'schema_version'"))
