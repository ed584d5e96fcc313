"""The reference mailer: consumes `reengage.outreach`, sends each requested outreach as one
email over SMTP (at most once, recorded in the sent ledger), publishes what happened to
`reengage.outreach.status`. See README.md in this folder for the delivery guarantee.

compose.py (the message) → ledger.py (the state machine) → smtp.py (the server) → rate.py
(the pace) → loop.py (Kafka in, status out).
"""
