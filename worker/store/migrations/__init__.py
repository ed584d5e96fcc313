"""Alembic migrations for the store (see worker/store/versioning.py)."""
