"""`reengage import-candidates`: a CSV export of an ATS's pool, as `ats.candidate.updated`
events, for a first backfill.

reader.py (streaming CSV, line numbers) → columns.py (documented columns → validated data) →
events.py (the event, with a stable id) → run.py (chunks to the producer, bad rows reported).
"""
