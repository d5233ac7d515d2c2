"""The Jinja2 environment report.html and the review page are rendered through: the templates in templates/,
autoescaped (every value is escaped for HTML text and attributes unless it is Markup), and the one test the
templates share: which URLs may become links.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template

from linkkeeper import __version__


def is_web_url(url: str | None) -> bool:
    """Only web links become clickable: a javascript: or data: URL from an export stays inert text."""
    return bool(url) and url.lower().startswith(("http://", "https://"))


def _shown(value: Any) -> Any:
    return "" if value is None else value  # an absent value shows as nothing, not as "None"


ENVIRONMENT = Environment(
    loader=PackageLoader("linkkeeper.desk", "templates"),
    autoescape=True,  # every template, whatever its name: the CSS and JS are included as literal text
    undefined=StrictUndefined,  # a misspelt name fails the tests instead of rendering as nothing
    finalize=_shown,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    auto_reload=False,  # the templates are package data: no need to look at their files again
)
ENVIRONMENT.tests["web_url"] = is_web_url
ENVIRONMENT.filters["coord"] = lambda value: f"{value:.1f}"  # an SVG coordinate, to a tenth of a unit
ENVIRONMENT.globals["version"] = __version__


def template(name: str) -> Template:
    return ENVIRONMENT.get_template(name)
