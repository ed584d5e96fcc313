"""Text from the ATS made safe to show: terminals and HTML both choke on control characters."""

from __future__ import annotations

# C0 controls, DEL and C1 controls: what a terminal may act on, and what HTML does not allow.
_CONTROLS = {code: "\ufffd" for code in [*range(0x20), *range(0x7F, 0xA0)]}


def printable(value: str) -> str:
    """`value` with every control character replaced by U+FFFD."""
    return value.translate(_CONTROLS)
