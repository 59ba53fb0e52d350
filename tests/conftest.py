"""Cross-service test configuration."""
