"""The worker's data path: decoded events in, store effects and outbox rows out."""
