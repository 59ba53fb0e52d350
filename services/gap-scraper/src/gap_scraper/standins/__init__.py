"""Local stand-ins for the outside APIs this service calls (see standins.yaml)."""
