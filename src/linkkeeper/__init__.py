"""linkkeeper: check a blog's original-article links, repair dead ones from web archives, write back a patched export."""

__version__ = "0.1.0"
