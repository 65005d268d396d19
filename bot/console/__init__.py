"""Terminal play (`talewright play`): the story engine with the Discord commands as text lines."""
