"""Repairing links: which capture replaces a dead link and how sure we are (capture/, proposals.py), the
recovery of nullified links (recover/), and asking Save Page Now to capture live links (preserve.py). Knows
nothing of rendering."""
