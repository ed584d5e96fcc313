"""`reengage schemas export [DIR]`: write the files of worker/contracts/export.py."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from worker.contracts.export import export
from worker.runtime.shutdown import default_actions
from worker.settings import Settings

EXIT_USAGE = 2


def run(args: argparse.Namespace, _settings: Settings) -> int:
    default_actions()  # a few files written: Ctrl-C simply stops it
    try:
        written = export(Path(args.dir))
    except OSError as exc:  # a file where a folder should be, no permission, disk full
        print(f"reengage: cannot write to {args.dir}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {len(written)} files to {args.dir}")
    return 0
