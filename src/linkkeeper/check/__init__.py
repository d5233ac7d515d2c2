"""Checking links: one probe of one URL and what its evidence means (evidence.py, probe.py), the tests that read a
page beside others (pagetests.py: the soft-404 sibling probe and drift), the run over many URLs (runner.py), and the
policy over time that turns a URL's history into a verdict (verdict.py). Knows nothing of archives."""
