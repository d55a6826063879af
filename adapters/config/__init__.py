"""Configuration sources: Consul KV (py-consul's asyncio client)."""
