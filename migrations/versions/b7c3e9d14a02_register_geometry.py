"""parcel and unit geometry (宗地图 / 分户图), and the parcel's land-right facts printed on certificates

- parcel.geometry, unit.geometry: a GeoJSON Polygon in metres on the local plane (parcel: its boundary;
  unit: its outline on its floor), drawn into the certificate's 附图 pages (app/services/plans.py).
- parcel.right_nature (权利性质, e.g. 出让/市场化商品房), parcel.term_start / term_end (土地使用期限):
  the rights page of the certificate prints them.

Revision ID: b7c3e9d14a02
Revises: e5c0a7b1d2f3
"""
import sqlalchemy as sa
from alembic import op

revision = "b7c3e9d14a02"
down_revision = 'e5c0a7b1d2f3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("parcel") as batch:
        batch.add_column(sa.Column("geometry", sa.Text(), nullable=True))
        batch.add_column(sa.Column("right_nature", sa.String(length=60), nullable=True))
        batch.add_column(sa.Column("term_start", sa.Date(), nullable=True))
        batch.add_column(sa.Column("term_end", sa.Date(), nullable=True))
    with op.batch_alter_table("unit") as batch:
        batch.add_column(sa.Column("geometry", sa.Text(), nullable=True))


def downgrade():
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch rebuild would drop the unit table under
    # the foreign keys of the rows that point at it.
    op.drop_column("unit", "geometry")
    for column in ("term_end", "term_start", "right_nature", "geometry"):
        op.drop_column("parcel", column)
