"""Text as linkkeeper reads and compares it: HTML (html.py), URLs (urls.py), a post's trailer (trailer.py),
headline words (words.py), the one normalisation (normalize.py), similarity (similarity.py) and times (dates.py).
Pure functions; no I/O; the lowest layer: imports nothing else of linkkeeper."""
