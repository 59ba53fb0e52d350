"""etl_layers."""
