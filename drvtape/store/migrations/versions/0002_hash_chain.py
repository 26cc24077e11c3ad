"""Schema version 2: events.chain, each event's link in its session's hash chain.

Existing events get their links here, computed from what is stored now: the chain then
guards the database from this upgrade on.
"""

import uuid

import sqlalchemy as sa
from alembic import op

from drvtape.schema.rows import ROW_COLUMNS
from drvtape.store import chain, codec

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("events", sa.Column("chain", sa.LargeBinary(16)))
    conn = op.get_bind()
    columns = ", ".join(c for c in ROW_COLUMNS if c != "entry_point")  # schema 7 added it (NULL then)
    update = sa.text("UPDATE events SET chain = :chain WHERE session_pk = :pk AND seq = :seq")
    for pk, session_id in conn.execute(sa.text("SELECT pk, uuid FROM sessions ORDER BY pk")).all():
        rows = conn.execute(sa.text(f"SELECT {columns} FROM events WHERE session_pk = :pk ORDER BY seq"),
                            {"pk": pk}).all()
        rows = [codec.from_db_row((*row, None)) for row in rows]
        links = chain.links(chain.genesis(uuid.UUID(session_id)), rows)
        params = [{"chain": link, "pk": pk, "seq": row.seq} for row, link in zip(rows, links)]
        if params:
            conn.execute(update, params)
    conn.execute(sa.text("UPDATE drvtape_meta SET value = '2' WHERE key = 'schema_version'"))
