"""`python -m bot.cli`: the `talewright` command without its installed script."""

import sys

from bot.cli.main import main

sys.exit(main())
