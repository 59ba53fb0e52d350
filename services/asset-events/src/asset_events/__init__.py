"""asset_events."""
