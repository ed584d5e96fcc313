"""The transactional outbox: rows written with the decision, published by the relay."""
