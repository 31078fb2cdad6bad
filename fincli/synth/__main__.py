"""``python -m fincli.synth``: the command line (defined in ``history.main``)."""

from .history import main

if __name__ == "__main__":
    raise SystemExit(main())
