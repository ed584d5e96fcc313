"""Process plumbing shared by the worker, the relay and the mailer: metrics, health, signals."""
