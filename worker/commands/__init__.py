"""One module per `reengage` command: argument handling and wiring, no business logic."""
