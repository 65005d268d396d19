"""The `talewright` command: bot/cli/main.py builds the parser from one `commands_*.py` module
per group of subcommands."""
