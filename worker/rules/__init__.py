"""The re-engagement rules (REENGAGEMENT.md) as pure functions: no I/O, no clock."""
