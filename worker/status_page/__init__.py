"""The read-only status page on the worker's HTTP port: per tenant and job, the funnel from
pool to requested; outreach by status; dead letters; the outbox backlog. No personal data.

funnel.py (one SQL count per job) → collect.py (the page's data) → render.py (HTML + SVG) →
page.py (what the HTTP server calls).
"""
