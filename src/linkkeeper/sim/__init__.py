"""Stand-ins for the outside world that the demo needs (and the tests use): a simulated web (web.py), a
simulated Wayback Machine (archive.py) and loopback servers (servers.py). Knows nothing of the product's
decisions; test-only worlds live in tests/worlds/."""
