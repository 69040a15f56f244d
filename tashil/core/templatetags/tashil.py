"""Template filters available in every template (registered as a builtin)."""

import re

from django import template
from django.forms.utils import flatatt
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeData, mark_safe
from django.utils.translation import get_language, gettext

from tashil.core import jalali
from tashil.core.text import to_persian_digits

register = template.Library()


@register.filter
def jdate(value, style="long"):
    """A date or datetime as a Jalali date: {{ office.opened_on|jdate }}."""
    return jalali.format_date(value, style)


@register.filter
def jdatetime(value):
    return jalali.format_datetime(value)


# In markup only text is changed, never tags, attributes or character references.
_MARKUP = re.compile(r"(<[^>]*>|&#?\w+;)")
# A word with Latin letters is a code (ACDE-3479, H0001, .xlsx): its digits stay.
_WORD = re.compile(r"\S+")
_LATIN = re.compile(r"[A-Za-z]")


def _persian_words(text: str) -> str:
    return _WORD.sub(
        lambda m: m.group(0) if _LATIN.search(m.group(0)) else to_persian_digits(m.group(0)), text
    )


@register.filter
def fa_digits(value):
    """Persian digits when the page is in Persian; unchanged otherwise. Safe
    markup (Django's password rules, for one) stays markup."""
    if value is None:
        return ""
    # str() first: a lazy text (Django's password rules) only shows whether
    # it is safe markup once evaluated.
    text = str(value)
    if not (get_language() or "fa").startswith("fa"):
        return text
    if isinstance(text, SafeData):
        parts = _MARKUP.split(text)
        # split() with a group puts the markup at the odd positions.
        return mark_safe(
            "".join(part if i % 2 else _persian_words(part) for i, part in enumerate(parts))
        )
    return _persian_words(text)


@register.filter
def num(value):
    """A number with thousands separators, in the page's digits."""
    if value in (None, ""):
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    # Grouping by hand: Django's fa locale defines no thousands separator.
    text = f"{int(number):,}" if number == int(number) else f"{number:,.2f}"
    if (get_language() or "fa").startswith("fa"):
        return to_persian_digits(text.replace(",", "٬").replace(".", "٫"))
    return text


@register.simple_tag
def crumb(label, url_name="", *args, **kwargs):
    """One step of the breadcrumbs: a link to the URL named `url_name` (with its
    arguments) or, without a name, the page itself."""
    if not url_name:
        return format_html('<li class="breadcrumb-item active" aria-current="page">{}</li>', label)
    url = reverse(url_name, args=args, kwargs=kwargs)
    return format_html('<li class="breadcrumb-item"><a href="{}">{}</a></li>', url, label)


class BreadcrumbsNode(template.Node):
    def __init__(self, nodelist, css):
        self.nodelist, self.css = nodelist, css

    def render(self, context):
        css = self.css.resolve(context) if self.css else ""
        return format_html(
            '<nav aria-label="{}">\n  <ol class="breadcrumb small{}">\n{}\n  </ol>\n</nav>',
            gettext("Breadcrumb"),
            f" {css}" if css else "",
            self.nodelist.render(context),
        )


@register.tag
def breadcrumbs(parser, token):
    """The trail above a page, around its steps:
    {% breadcrumbs %}{% crumb _("Agencies") "agencies:list" %}…{% endbreadcrumbs %};
    an argument adds classes to the list."""
    bits = token.split_contents()
    css = parser.compile_filter(bits[1]) if len(bits) > 1 else None
    nodelist = parser.parse(("endbreadcrumbs",))
    parser.delete_first_token()
    return BreadcrumbsNode(nodelist, css)


class CardNode(template.Node):
    def __init__(self, nodelist, title, attrs):
        self.nodelist, self.title, self.attrs = nodelist, title, attrs

    def render(self, context):
        attrs = {name: value.resolve(context) for name, value in self.attrs.items()}
        css = " ".join(filter(None, ("card mb-3", attrs.pop("class", ""))))
        return format_html(
            '<section class="{}"{}>\n  <div class="card-body">\n    <h2 class="h6">{}</h2>'
            "{}\n  </div>\n</section>",
            css,
            flatatt(attrs),
            self.title.resolve(context),
            self.nodelist.render(context),
        )


@register.tag
def card(parser, token):
    """A section of a detail page: {% card _("Where") id="place" %}…{% endcard %};
    `class` adds classes to the card, other arguments are its attributes."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("card takes a title")
    title = parser.compile_filter(bits[1])
    attrs = template.base.token_kwargs(bits[2:], parser)
    nodelist = parser.parse(("endcard",))
    parser.delete_first_token()
    return CardNode(nodelist, title, attrs)
