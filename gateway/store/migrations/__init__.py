"""Alembic migrations of the gateway's database, shipped inside the package (no ``alembic.ini``)."""
