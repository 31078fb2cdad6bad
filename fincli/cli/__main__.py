"""`python -m fincli.cli`: the same as the `fin` command."""

import sys

from . import main

sys.exit(main())
