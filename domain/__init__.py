"""The domain: entities, rules, ports and use cases. Imports only the standard library and msgspec."""
