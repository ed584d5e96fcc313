"""Dead-letter replay (`reengage dlq replay`): dead letters back to their original topic.

restore (a dead letter -> the original message), policy (replay, drop or stop: pure),
backlog and offsets (how far a replay goes), report (what it did), replay (the loop).
The semantics are written up in README.md beside this file.
"""
