"""The application: the story engine and its front ends (terminal and Discord)."""
