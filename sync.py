"""The seed project's entry point, kept as a thin shim: ``python sync.py --full`` / ``--poll``."""

import sys

from leadsync.cli import app

if __name__ == "__main__":
    args = sys.argv[1:]
    if "--poll" in args:
        args.remove("--poll")
        app(["poll", *args])
    else:
        app(["sync", *args])
