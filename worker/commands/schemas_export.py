"""`reengage schemas export [DIR]`: write the files of worker/contracts/export.py."""

from __future__ import annotations

import argparse
from pathlib import Path

from worker.contracts.export import export
from worker.runtime.shutdown import default_actions
from worker.settings import Settings


def run(args: argparse.Namespace, _settings: Settings) -> int:
    default_actions()  # a few files written: Ctrl-C simply stops it
    written = export(Path(args.dir))
    print(f"wrote {len(written)} files to {args.dir}")
    return 0
