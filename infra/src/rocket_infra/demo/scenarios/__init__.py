"""One module per service package, each with `run(platform: LocalPlatform) -> ScenarioReport`."""
