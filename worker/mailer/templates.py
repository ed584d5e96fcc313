"""The two message bodies, plain text and HTML, from the templates in `templates/`.

Why the standard library (`string.Template` + `html.escape`) and not Jinja2: the templates are
two short, fixed layouts whose only logic is "this line or not", which is decided in Python
below. `string.Template` evaluates nothing (a `$` or `{{` inside a name is printed, never
run), so candidate-supplied text cannot become template code; and the one escaping rule (every
value through `html.escape` for the HTML part, URLs as quoted attributes) is applied in one
place, `_html_values`, where a reviewer sees all of it. Jinja2's autoescape would buy the same
safety for the price of a runtime dependency.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Template


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class MailText:
    """What the message says, as plain (already cleaned) text; rendered twice below."""

    title: str
    greeting: str
    summary: str
    details: tuple[str, ...]
    # The call to action: text, optionally ending in a link.
    call_to_action: str
    action_link: Link | None
    unsubscribe: str
    unsubscribe_link: Link | None


@cache
def _template(name: str) -> Template:
    source = resources.files("worker.mailer").joinpath("templates", name).read_text("utf-8")
    return Template(source)


def render_text(mail: MailText) -> str:
    return _template("outreach.txt").substitute(
        greeting=mail.greeting,
        summary=mail.summary,
        details="\n".join(mail.details),
        call_to_action=_with_url(mail.call_to_action, mail.action_link),
        unsubscribe=_with_url(mail.unsubscribe, mail.unsubscribe_link),
    )


def render_html(mail: MailText) -> str:
    return _template("outreach.html").substitute(_html_values(mail))


def _with_url(text: str, link: Link | None) -> str:
    return text if link is None else f"{text} {link.url}"


def _html_values(mail: MailText) -> dict[str, str]:
    escape = html.escape
    return {
        "title": escape(mail.title),
        "greeting": escape(mail.greeting),
        "summary": escape(mail.summary),
        "details": "\n".join(f"<li>{escape(line)}</li>" for line in mail.details),
        "call_to_action": escape(mail.call_to_action) + _anchor(mail.action_link),
        "unsubscribe": escape(mail.unsubscribe) + _anchor(mail.unsubscribe_link),
    }


def _anchor(link: Link | None) -> str:
    if link is None:
        return ""
    return f' <a href="{html.escape(link.url, quote=True)}">{html.escape(link.label)}</a>'
