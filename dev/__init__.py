"""Developer tooling: local Kafka and PostgreSQL servers for `make run`, tests and benches."""
