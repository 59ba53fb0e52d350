"""`rocket demo`: sample workloads through the local platform (scenarios/<package>.py)."""
