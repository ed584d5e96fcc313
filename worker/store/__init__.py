"""The database: schema and migrations, candidate and job storage, the SQL matcher.

Functions take a SQLAlchemy `Connection` inside a transaction the caller owns, so one batch of
events, its outreach rows, its dedupe markers and its outbox rows commit together.
"""
