"""`python -m camrec` is the `camrec` command."""

import sys

from camrec.cli import main

sys.exit(main())
