"""The Kafka seam: client construction, batched consumption, producing, dead letters."""
