"""Use cases: one class per thing a caller can do. Each takes ports and opens its own unit of work."""
