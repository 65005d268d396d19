"""The Discord front end: the client, its slash commands (cogs/), buttons and modals, and how
engine results become messages."""
