"""The seed project's entry point, kept as a thin shim: ``python sync.py --full`` / ``--poll``."""

import sys

try:
    from leadsync.cli import app
except ModuleNotFoundError as missing:  # run with a Python that has not got leadsync installed
    print(
        f"leadsync is not installed for this Python ({sys.executable}): module {missing.name!r} is missing.\n"
        "Install it from this directory with:  pip install .\n"
        "or run scripts/install, then:  .venv/bin/python sync.py (or .venv/bin/leadsync sync)",
        file=sys.stderr,
    )
    raise SystemExit(2) from None

if __name__ == "__main__":
    args = sys.argv[1:]
    if "--poll" in args:
        args.remove("--poll")
        app(["poll", *args])
    else:
        app(["sync", *args])
