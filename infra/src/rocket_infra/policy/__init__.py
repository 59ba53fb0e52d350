"""Rules the repository's stacks keep (checked by the tests, usable by tools)."""
