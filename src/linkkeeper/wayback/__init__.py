"""The Internet Archive client: CDX search, replay and TimeGate, Save Page Now and other archives' Memento
TimeGates, within the archive's published limits; small typed records and specific errors. Knows nothing of
posts or verdicts. Import from here: the modules inside are the client's own business.

Inside: errors.py (the exceptions), records.py (records and pure parsers), ratelimit.py (RateLimiter),
transport.py (one HTTP answer), client.py (WaybackClient: CDX, replay, retries and limits), spn.py (Save Page
Now), memento.py (other archives)."""

from linkkeeper.wayback.client import EXCLUDED_TEXT, WaybackClient
from linkkeeper.wayback.errors import (ArchiveError, ArchiveQueryError, ArchiveUnavailableError, BlockedSiteError,
                                       MementoRedirectLoopError, NoMementoError, NotSentError, RateLimitedError,
                                       SpnAuthError, SpnQuotaError)
from linkkeeper.wayback.ratelimit import RateLimiter
from linkkeeper.wayback.records import (SPN_RETRYABLE, SPN_URL_DAILY_LIMIT, AvailabilityHint, CdxPage, CdxRecord,
                                        Memento, OtherMemento, SaveJob, format_timestamp, is_wayback_url,
                                        memento_links, parse_archive_location, parse_availability, parse_cdx,
                                        parse_cdx_json, parse_cdx_text, parse_link_header, public_archive_url,
                                        surt_key, timestamp_to_datetime, wayback_redirect_target)
from linkkeeper.wayback.spn import SPN_ANONYMOUS_PER_DAY, SPN_PER_URL_PER_DAY, SPN_SIGNED_IN_PER_DAY

__all__ = [
    "EXCLUDED_TEXT",
    "SPN_ANONYMOUS_PER_DAY",
    "SPN_PER_URL_PER_DAY",
    "SPN_RETRYABLE",
    "SPN_SIGNED_IN_PER_DAY",
    "SPN_URL_DAILY_LIMIT",
    "ArchiveError",
    "ArchiveQueryError",
    "ArchiveUnavailableError",
    "AvailabilityHint",
    "BlockedSiteError",
    "CdxPage",
    "CdxRecord",
    "Memento",
    "MementoRedirectLoopError",
    "NoMementoError",
    "NotSentError",
    "OtherMemento",
    "RateLimitedError",
    "RateLimiter",
    "SaveJob",
    "SpnAuthError",
    "SpnQuotaError",
    "WaybackClient",
    "format_timestamp",
    "is_wayback_url",
    "memento_links",
    "parse_archive_location",
    "parse_availability",
    "parse_cdx",
    "parse_cdx_json",
    "parse_cdx_text",
    "parse_link_header",
    "public_archive_url",
    "surt_key",
    "timestamp_to_datetime",
    "wayback_redirect_target",
]
