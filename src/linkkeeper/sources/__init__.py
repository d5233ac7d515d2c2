"""Readers and writers for the blog export formats linkkeeper understands."""
