"""Settings: defaults in one place, then `linkkeeper.toml` (or --config), then LINKKEEPER_* environment
variables, then command-line flags, each overriding the one before."""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_CONFIG_FILE = "linkkeeper.toml"
ENV_PREFIX = "LINKKEEPER_"
# LINKKEEPER_* variables that are not settings: the settings file's path, the test suite's switch that turns a
# missing browser from a skip into a failure (CI sets it), and the tests' fault injection (faults.py). Any other
# unknown name is an error.
NOT_SETTINGS = frozenset({"CONFIG", "REQUIRE_BROWSER", "FAULT"})


class SettingsError(ValueError):
    """A settings file, variable or flag that cannot be used; the message names where it came from."""


@dataclass(frozen=True)
class ConnectTo:
    """One curl-style --connect-to rule: requests for host:port go to address:to_port instead.

    `host` or `port` may be "*" (or empty) for any. The request keeps its own Host header and URL, so a
    realistic hostname can be served from loopback.
    """

    host: str
    port: str
    address: str
    to_port: int | None

    @classmethod
    def parse(cls, text: str) -> "ConnectTo":
        parts = text.rsplit(":", 3) if text.count(":") >= 3 else None
        if not parts or len(parts) != 4:
            raise SettingsError(f"connect_to entry {text!r} is not HOST:PORT:ADDRESS:PORT")
        host, port, address, to_port = parts
        if not address:
            raise SettingsError(f"connect_to entry {text!r} has no address")
        try:
            to_port_number = int(to_port) if to_port not in ("", "*") else None
        except ValueError:
            raise SettingsError(f"connect_to entry {text!r}: port {to_port!r} is not a number") from None
        return cls(host.lower() or "*", port or "*", address.strip("[]"), to_port_number)

    def matches(self, host: str, port: int) -> bool:
        return self.host in ("*", host.lower()) and self.port in ("*", str(port))

    def __str__(self) -> str:
        return f"{self.host}:{self.port}:{self.address}:{self.to_port or '*'}"


@dataclass(frozen=True)
class Settings:
    db: str = "linkkeeper.db"
    reports_dir: str = "reports"
    # Checking: politeness and patience.
    concurrency: int = 32
    per_host: int = 2
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 30.0
    max_redirects: int = 10
    max_bytes: int = 1_000_000
    # Response headers: the longest status line or header field (bytes), and how many header fields.
    max_header_size: int = 8190
    max_headers: int = 128
    retries: int = 2
    retry_wait_max: float = 30.0
    user_agent: str = "linkkeeper/0.1 (+https://github.com/linkkeeper/linkkeeper; link checker for blog archives)"
    contact: str = ""
    # Sent instead of the bot user agent when a site refuses the bot (403, 406, 999, challenge pages).
    browser_user_agent: str = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                               "Chrome/124.0 Safari/537.36")
    # Seconds between two requests to one host; a 429 raises it for that host (adaptive), then it decays.
    per_host_interval: float = 0.0
    max_host_interval: float = 60.0
    # Verdict policy: dead only after this many failing checks spanning this many hours (InternetArchiveBot's rule).
    dead_after_checks: int = 3
    dead_after_hours: float = 72.0
    # A server error (5xx) on an article whose host answers is dead only after failing this many days.
    server_error_dead_after_days: float = 30.0
    # `check --confirm-now`: re-probe a failure this many more times, this many seconds apart, in the same run.
    confirm_probes: int = 2
    confirm_spacing: float = 30.0
    # Soft-404 and drift tests.
    sibling_probe: bool = True
    drift_threshold: float = 0.35
    # Per-domain overrides (a domain covers its subdomains).
    paywall_domains: tuple[str, ...] = ()
    always_alive: tuple[str, ...] = ()
    always_dead: tuple[str, ...] = ()
    # The blog's own hosts (links back to it count as nullified). Learnt from the export when empty.
    blog_hosts: tuple[str, ...] = ()
    # The window in which the blogging software nullified Original Article links (informational; reports).
    nullified_from: str = "2012-09-11"
    nullified_to: str = "2012-12-11"
    # Archive endpoints: overridable so a local archive can stand in for the Wayback Machine.
    wayback_cdx_url: str = "https://web.archive.org/cdx/search/cdx"
    wayback_availability_url: str = "https://archive.org/wayback/available"
    wayback_replay_url: str = "https://web.archive.org/web/"
    # Requests per second per archive endpoint, shared by every task (Internet Archive's published limits).
    cdx_rate: float = 0.4
    replay_rate: float = 8.0
    availability_rate: float = 0.2
    # Repairs: proposals at or above this confidence are approved without a curator.
    auto_approve_confidence: float = 0.9
    # Export: also write the Robust Links attributes (data-originalurl, data-versionurl, data-versiondate) on
    # each repaired anchor. Off by default: it changes more than the href.
    robust_links: bool = False
    # --- archive lookups, verification and preservation (repair/capture, repair/proposals.py, repair/preserve.py) ---
    # Captures fetched to verify one link before giving up (each is a replay request).
    verify_budget: int = 3
    # A capture whose text holds less than this share of what the post reproduces yields to the next one.
    min_text_similarity: float = 0.5
    # Days an "archive has nothing" answer stays cached (found captures are kept for good).
    archive_negative_ttl_days: float = 7.0
    # Memento TimeGates or aggregators asked when the Wayback Machine has nothing, e.g.
    # "http://timetravel.mementoweb.org/api/json/" (TS/URL is appended) or a TimeGate prefix (URL appended).
    memento_timegates: tuple[str, ...] = ()
    wayback_save_url: str = "https://web.archive.org/save"
    # Save Page Now keys (environment: LINKKEEPER_SPN_ACCESS_KEY, LINKKEEPER_SPN_SECRET); empty = anonymous.
    spn_access_key: str = field(default="", repr=False)
    spn_secret: str = field(default="", repr=False)
    # --- end archive lookups ---
    # --- recovery of nullified links (repair/recover/) ---
    # Outlet name -> domains and URL shapes, merged over the shipped data/outlets.toml ("" = shipped only).
    outlets_file: str = ""
    # How many days before a post its article may have been published (the blog sometimes posts late).
    recover_lookback_days: int = 30
    # --- end recovery ---
    # --- the nightly run (nightly.py) ---
    # A link with a settled verdict (alive, dead, blocked...) is checked again after this many days; suspect
    # and unknown links follow the confirmation schedule, dead_after_hours / (dead_after_checks - 1).
    recheck_alive_days: float = 7.0
    # Checks per run at most (0: no cap), oldest due first, so a run fits its window.
    max_checks: int = 0
    # A feed run reads the whole feed (and notes deleted posts) when the last full read is this old.
    full_every_days: float = 7.0
    # Posts per feed request (Blogger's default is 25, its maximum 500).
    feed_page_size: int = 25
    # --- end nightly run ---
    # Network: curl-style HOST:PORT:ADDRESS:PORT rules, and addresses the address guard lets through.
    connect_to: tuple[ConnectTo, ...] = ()
    allow_addresses: tuple[str, ...] = ()

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **_coerce_all(changes, "flags"))

    @property
    def full_user_agent(self) -> str:
        return f"{self.user_agent} contact:{self.contact}" if self.contact else self.user_agent


FIELDS = {f.name: f for f in dataclasses.fields(Settings)}

# What each numeric setting may hold, checked wherever a value is read (file, environment, flags,
# Settings.replace): a value outside it would hang a run (concurrency -5), check nothing (per_host 0) or
# make every link unknown (a timeout of -1). (low, high, low is open): None is no bound.
AT_LEAST_ONE, NOT_NEGATIVE, POSITIVE, SHARE = (1, None, False), (0, None, False), (0, None, True), (0, 1, False)
RANGES: dict[str, tuple[float | None, float | None, bool]] = {
    "concurrency": AT_LEAST_ONE, "per_host": AT_LEAST_ONE, "max_bytes": AT_LEAST_ONE,
    "max_header_size": AT_LEAST_ONE, "max_headers": AT_LEAST_ONE, "dead_after_checks": AT_LEAST_ONE,
    "verify_budget": AT_LEAST_ONE, "feed_page_size": (1, 500, False),
    "connect_timeout": POSITIVE, "read_timeout": POSITIVE, "total_timeout": POSITIVE,
    "max_redirects": NOT_NEGATIVE, "retries": NOT_NEGATIVE, "retry_wait_max": NOT_NEGATIVE,
    "per_host_interval": NOT_NEGATIVE, "max_host_interval": NOT_NEGATIVE, "dead_after_hours": NOT_NEGATIVE,
    "server_error_dead_after_days": NOT_NEGATIVE,
    "confirm_probes": NOT_NEGATIVE, "confirm_spacing": NOT_NEGATIVE, "archive_negative_ttl_days": NOT_NEGATIVE,
    "recover_lookback_days": NOT_NEGATIVE, "recheck_alive_days": NOT_NEGATIVE, "max_checks": NOT_NEGATIVE,
    "full_every_days": NOT_NEGATIVE,
    # Requests per second; 0 is no limit at all, for a local stand-in (never for the Wayback Machine).
    "cdx_rate": NOT_NEGATIVE, "replay_rate": NOT_NEGATIVE, "availability_rate": NOT_NEGATIVE,
    "drift_threshold": SHARE, "min_text_similarity": SHARE,
    # A confidence is at most 1, so a threshold above 1 approves nothing automatically (demo --leave-for-review).
    "auto_approve_confidence": NOT_NEGATIVE,
}
URL_SETTINGS = ("wayback_cdx_url", "wayback_availability_url", "wayback_replay_url", "wayback_save_url")


def _out_of_range(name: str, value: Any) -> str | None:
    """Why `value` cannot be setting `name`, or None when it can."""
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    if name in RANGES:
        low, high, open_low = RANGES[name]
        if low is not None and (value <= low if open_low else value < low):
            return f"must be more than {low}" if open_low else f"must be at least {low}"
        if high is not None and value > high:
            return f"must be between {low} and {high}"
    if name in URL_SETTINGS or name == "memento_timegates":
        for url in (value if isinstance(value, tuple) else (value,)):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                return f"holds {url!r}, not an http(s) URL" if isinstance(value, tuple) else "is not an http(s) URL"
    if name in ("nullified_from", "nullified_to"):
        try:
            date.fromisoformat(value)
        except ValueError:
            return "must be a date, YYYY-MM-DD"
    if name == "allow_addresses":
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                return f"holds {entry!r}, not an address or network (10.0.0.0/8, ::1)"
    if name in ("db", "reports_dir") and not value:
        return "must not be empty"
    return None


def _coerce(name: str, value: Any, origin: str) -> Any:
    if name not in FIELDS:
        raise SettingsError(f"{origin}: unknown setting {name!r}")
    default = getattr(Settings(), name)
    value = _convert(name, value, default, origin)
    reason = _out_of_range(name, value)
    if reason:
        raise SettingsError(f"{origin}: setting {name!r} = {_shown(value)} {reason}")
    return value


def _shown(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, tuple) else repr(value)


def _convert(name: str, value: Any, default: Any, origin: str) -> Any:
    try:
        if name == "connect_to":
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(i if isinstance(i, ConnectTo) else ConnectTo.parse(str(i).strip()) for i in items if str(i).strip())
        if isinstance(default, tuple):
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(i).strip() for i in items if str(i).strip())
        if isinstance(default, bool):
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        return str(value)
    except SettingsError as exc:
        raise SettingsError(f"{origin}: {exc}") from None
    except (TypeError, ValueError):
        raise SettingsError(f"{origin}: setting {name!r} = {value!r} is not a valid {type(default).__name__}") from None


def _coerce_all(values: dict[str, Any], origin: str) -> dict[str, Any]:
    return {k: _coerce(k, v, origin) for k, v in values.items() if v is not None}


def load(config: str | os.PathLike | None = None, env: dict[str, str] | None = None, **flags: Any) -> Settings:
    """Build the settings: defaults < TOML file < environment < flags (None flags are ignored)."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    path = Path(config) if config else Path(env.get(ENV_PREFIX + "CONFIG", DEFAULT_CONFIG_FILE))
    if config and not path.exists():
        raise SettingsError(f"{path}: settings file not found")
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: {exc}") from None
        # Accept both a flat file and one with a [linkkeeper] table.
        data = data.get("linkkeeper", data)
        values.update(_coerce_all(data, str(path)))
    for key, raw in env.items():
        if key.startswith(ENV_PREFIX) and key[len(ENV_PREFIX):] not in NOT_SETTINGS:
            name = key[len(ENV_PREFIX):].lower()
            values[name] = _coerce(name, raw, f"environment variable {key}")
    values.update(_coerce_all(flags, "command line"))
    settings = Settings(**values)
    if settings.nullified_from > settings.nullified_to:  # ISO dates: their text sorts as the dates do
        raise SettingsError(f"nullified_from ({settings.nullified_from}) is after nullified_to "
                            f"({settings.nullified_to})")
    return settings
