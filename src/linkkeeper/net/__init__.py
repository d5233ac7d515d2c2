"""How a request leaves the machine: the one aiohttp session (session.py), the address guard that keeps links
written by strangers off private networks (guard.py), and whether the network can be reached at all (reach.py).
Knows nothing of what a response means."""
