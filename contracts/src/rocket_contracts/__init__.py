"""rocket_contracts."""
