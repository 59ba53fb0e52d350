"""Rocket's message contracts: JSON Schemas, the models generated from them, the CloudEvents
envelope, and the bus helpers every service uses to publish and consume (see contracts/README.md).
"""
