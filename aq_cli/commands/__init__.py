"""The aq command's groups, one module per area, so each area grows on its own."""
