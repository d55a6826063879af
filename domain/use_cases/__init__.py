"""Use cases: one class per thing a caller can do. Each takes its ports in its constructor (lagom
wires them by type) and opens a unit of work for what must happen together."""
