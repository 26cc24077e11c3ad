"""Schema version 4: message_names and the views for other tools, events_view and
sessions_view (drvtape.store.views). Nothing stored changes.

The table only: drvtape.store.views has today's views, which read columns later versions add
(events.entry_point, version 7), so the last migration that changes them (0010) fills the
table and makes them; an upgrade always runs to the newest version."""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "message_names",
        sa.Column("driver_class", sa.String(64), primary_key=True),
        sa.Column("code", sa.BigInteger, primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
    )
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE drvtape_meta SET value = '4' WHERE key = 'schema_version'"))
