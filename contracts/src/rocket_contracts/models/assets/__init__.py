# GENERATED from contracts/schemas by `make models` (datamodel-code-generator). Do not edit by hand.
"""Models generated from contracts/schemas/assets/."""
