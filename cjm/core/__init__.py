"""The core layer: config, data contracts, the warehouse, the landing zone, paths, and
what every capability shares (the HTTP client, brand matching). Imports nothing from
the layers above it (enforced by import-linter, see pyproject.toml)."""
