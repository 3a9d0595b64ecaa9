"""Private helpers shared by skscor modules (not public API)."""
