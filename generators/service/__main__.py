"""`python -m generators.service`: the generation service without the bot (see cli.py)."""

import sys

from generators.service.cli import main

sys.exit(main())
