"""``python -m leadsync``: the same command line as the ``leadsync`` script."""

from leadsync.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    main()
