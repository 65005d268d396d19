"""Everything that makes or checks text. Knows nothing of Discord or SQL."""
