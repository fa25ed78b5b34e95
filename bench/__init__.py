"""Benchmarks of the sniper on the sandbox stack (``make bench``; see
``docs/benchmarks.md``). Not tests: they measure, they do not assert."""
