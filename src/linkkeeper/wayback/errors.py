"""Owns what can go wrong talking to the archives, one class per way it goes wrong, all under ArchiveError.

Two families callers must tell apart: ArchiveQueryError is our mistake (a query the server would reject,
nothing sent); ArchiveUnavailableError and RateLimitedError are the archive's state (try again later). The
others are answers about one URL (blocked, never archived, looping) or about the Save Page Now account.
"""

from __future__ import annotations


class ArchiveError(Exception):
    """Anything the Wayback Machine client could not do."""


class ArchiveQueryError(ArchiveError, ValueError):
    """A search the CDX server would reject (bad filter, collapse or match type); nothing was sent."""


class ArchiveUnavailableError(ArchiveError):
    """5xx answers or connection failures outlasted the retries: the archive is down, not the URL missing."""


class BlockedSiteError(ArchiveError):
    """The site is excluded from the Wayback Machine (by its owner, by IA, or by robots.txt)."""


class NoMementoError(ArchiveError):
    """The Wayback Machine has no capture of the URL at all."""


class RateLimitedError(ArchiveError):
    """The Wayback Machine kept answering 429 after the endpoint was paused and the request retried."""


class MementoRedirectLoopError(ArchiveError):
    """Following the Wayback Machine's own redirects came back to a memento already seen."""


class SpnQuotaError(ArchiveError):
    """Save Page Now says the account's (or the anonymous) daily capture quota is spent: stop asking today."""


class SpnAuthError(ArchiveError):
    """Save Page Now refused the keys (or, anonymous, refused to capture without them)."""


class NotSentError(ArchiveError):
    """The caller withdrew a request while it waited for its turn (the run is stopping)."""
