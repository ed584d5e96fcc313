"""The console script `reengage`: signals are caught before the command's modules load."""

from __future__ import annotations

from worker.runtime.shutdown import catch_early_signals, early_signal_arrived  # light

EXIT_OK = 0


def main() -> int:
    catch_early_signals()
    # Imported only now, with the handlers in place: loading it takes about half a second.
    from worker.cli import main as run_command

    if early_signal_arrived():
        return EXIT_OK  # asked to stop before anything started: nothing to finish
    return run_command()


if __name__ == "__main__":
    import sys

    sys.exit(main())
