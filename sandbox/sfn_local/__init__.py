"""Step Functions Local (Docker) as a second local engine: docs/local-stack.md."""
