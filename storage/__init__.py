"""Persistence only: stores what ``sla`` computes and answers queries about it.

SQLModel tables (``models``), the engine and unit of work (``db``), the repositories that are
the only code writing SQL (``repositories``), row -> domain mappers (``mappers``) and Alembic
migrations (``migrate``, ``migrations/``).

SQLite (one file, default) and PostgreSQL (several replicas) are both first-class: the same
test suite runs on each.
"""
