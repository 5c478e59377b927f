"""UTCDateTime on SQLite: the fast text writer matches SQLAlchemy's and keeps time order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateTable

from storage.columns import SQLiteInstantText, UTCDateTime

instants = st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31))


@given(instants)
def test_the_text_is_the_one_sqlalchemys_sqlite_datetime_writes(value):
    dialect = sqlite.dialect()
    theirs = sqlite.DATETIME().bind_processor(dialect)
    ours = SQLiteInstantText().bind_processor(dialect)
    assert ours(value) == theirs(value)


def test_round_trip_order_and_ddl_on_a_real_sqlite_database(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'columns.db'}")
    table = sa.Table("t", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("at", UTCDateTime()))
    assert "at DATETIME" in str(CreateTable(table).compile(engine))
    berlin = timezone(timedelta(hours=1))
    written = [datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
               datetime(2026, 11, 23, 10, 29, 59, 999999, tzinfo=berlin),  # 09:29:59.999999Z
               datetime(2026, 11, 23, 9, 30, 0, 1, tzinfo=UTC), None]
    table.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(table.insert(), [{"at": at} for at in written])
        raw = connection.exec_driver_sql("SELECT at FROM t ORDER BY id").scalars().all()
        read = connection.execute(sa.select(table.c.at).order_by(table.c.at)).scalars().all()
        later = connection.execute(sa.select(sa.func.count()).where(
            table.c.at > datetime(2026, 11, 23, 9, 30, tzinfo=UTC))).scalar()
    engine.dispose()
    assert raw == ["2026-11-23 09:30:00.000000", "2026-11-23 09:29:59.999999",
                   "2026-11-23 09:30:00.000001", None]
    assert read == [None, written[1], written[0], written[2]]
    assert all(at.tzinfo is UTC for at in read if at is not None)
    assert later == 1
