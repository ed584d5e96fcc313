"""`reengage demo`: a synthetic ATS data set published as real events, a wait for the whole
loop (worker, relay, mailer) to settle, and a summary of what happened.

catalogue.py + dataset.py (the data, Faker) → publish.py (to Kafka) → settle.py (wait on the
store and the caught mail) → summary.py (numbers per job) → render.py (the rich table).
"""
