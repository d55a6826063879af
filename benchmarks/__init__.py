"""The reproducible benchmark (`uv run just bench`); see benchmarks/README.md."""
