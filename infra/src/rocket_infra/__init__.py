"""The rocket CLI: build, deploy and run the platform locally."""
