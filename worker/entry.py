"""The console script `reengage`: signals are caught before the command's modules load."""

from __future__ import annotations

from worker.runtime.shutdown import catch_early_signals  # light: signal and threading only


def main() -> int:
    catch_early_signals()
    # Imported only now, with the handlers in place: loading it takes about half a second.
    from worker.cli import main as run_command

    return run_command()
