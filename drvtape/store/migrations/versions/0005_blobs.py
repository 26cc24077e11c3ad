"""Schema version 5: the blobs table (captured memory bytes, once per sha256) and sessions.arch
(whose struct layouts a session's captured memory has; NULL: x64).

Existing sessions have no memory and no arch: their links stay as they are.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.add_column("sessions", sa.Column("arch", sa.String(8)))
    op.get_bind().execute(sa.text("UPDATE drvtape_meta SET value = '5' WHERE key = 'schema_version'"))
