"""Languages, time zones and formats: who is viewing, in which language, with which number and date
conventions and in which time zone; text through the Babel catalogs in portal/locales/.

The viewer of the request being served is a context variable set by ViewerMiddleware (portal/web.py), so
`gettext` here and `_()` in templates need no request. Mark text outside a call with N_() so that
scripts/portal_catalogs.py finds it.

Choice of language: the language the person picked (the `lang` cookie), else the account's, else the
browser's (Accept-Language); English when none of those is one we have. Numbers, money and dates follow the
picked language, or else the browser's first locale Babel knows (a German browser sees English text with
`1.234,50 €`). Times are shown in the account's time zone, else the browser's (the `tz` cookie that
static/portal.js sets), else UTC.
"""

from __future__ import annotations

import contextvars
import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime
from babel.dates import format_time as babel_time
from babel.dates import get_datetime_format
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations
from google.protobuf.timestamp_pb2 import Timestamp

from billing.errors import UnknownCurrency
from billing.money import exponent

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "en"
# The languages of the portal's text, each named in itself (for the language switch).
LANGUAGES = {"en": "English", "zh_CN": "简体中文"}


class MoneyLike(Protocol):
    """protos' Money: integer minor units of a currency."""

    minor_units: int
    currency: str


@dataclass(frozen=True)
class Viewer:
    language: str  # one of LANGUAGES
    formats: Locale  # numbers, money, dates
    time_zone: tzinfo

    @property
    def html_lang(self) -> str:
        """The BCP 47 tag for <html lang>: en, zh-CN."""
        return self.language.replace("_", "-")


DEFAULT_VIEWER = Viewer(DEFAULT_LANGUAGE, Locale.parse(DEFAULT_LANGUAGE), UTC)
_viewer: contextvars.ContextVar[Viewer] = contextvars.ContextVar("viewer", default=DEFAULT_VIEWER)


def use(viewer: Viewer) -> contextvars.Token[Viewer]:
    """Make `viewer` the current one (ViewerMiddleware does, per request); reset with the token."""
    return _viewer.set(viewer)


def reset(token: contextvars.Token[Viewer]) -> None:
    _viewer.reset(token)


def current() -> Viewer:
    return _viewer.get()


@functools.cache
def translations(language: str) -> NullTranslations:
    """The compiled catalog of `language` (English is the msgids themselves)."""
    return Translations.load(str(LOCALES_DIR), [language], DOMAIN)


def gettext(message: str) -> str:
    return translations(current().language).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current().language).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark `message` for the catalogs where it is defined; translate it with gettext where it is shown."""
    return message


def language_tag(text: str) -> str | None:
    """One of LANGUAGES for a BCP 47 tag or POSIX name (zh-Hans-CN, zh_TW, en-GB), or None."""
    lowered = text.strip().lower().replace("_", "-")
    if lowered.startswith("zh"):
        return "zh_CN"  # Simplified Chinese is the only Chinese we have
    if lowered.startswith("en"):
        return "en"
    return None


def accepted_tags(header: str) -> list[str]:
    """Accept-Language's tags, most preferred first (q=0 dropped, malformed weights read as 0)."""
    weighted = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        if tag and tag != "*" and weight > 0:
            weighted.append((-weight, position, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


def _babel_locale(tag: str) -> Locale | None:
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def zone(name: str) -> tzinfo | None:
    """The IANA zone `name`, or None when it is not one (a cookie can say anything)."""
    if not name or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def viewer_for(
    *, chosen: str = "", account_locale: str = "", accept_language: str = "", time_zones: tuple[str, ...] = ()
) -> Viewer:
    """The viewer from what the person chose (cookie), the account's locale, the browser's languages and
    the candidate time zones (account's first, then the browser's); see the module's docstring."""
    picked = language_tag(chosen) or language_tag(account_locale)
    browser = accepted_tags(accept_language)
    language = picked or next(filter(None, map(language_tag, browser)), DEFAULT_LANGUAGE)
    formats = None if picked else next(filter(None, map(_babel_locale, browser)), None)
    if formats is None or language_tag(str(formats)) not in (None, language):
        formats = Locale.parse(language)  # a Chinese browser with English text: English formats too
    time_zone = next(filter(None, map(zone, time_zones)), UTC)
    return Viewer(language, formats, time_zone)


def format_money(money: MoneyLike) -> str:
    """`€1,234.50` (en), `1.234,50 €` (de), `¥1,234.50` (zh_CN, CNY): exact, with the currency's digits."""
    try:
        digits = exponent(money.currency)
    except UnknownCurrency:
        digits = 2
    amount = Decimal(money.minor_units).scaleb(-digits)
    return format_currency(amount, money.currency, locale=current().formats, decimal_quantization=False)


def format_rate(money: MoneyLike) -> str:
    """A price per hour: `€36.00/h`, `¥36.00/小时`."""
    return gettext("%(amount)s/h") % {"amount": format_money(money)}


def as_datetime(moment: Timestamp | datetime) -> datetime:
    if isinstance(moment, Timestamp):
        return moment.ToDatetime(tzinfo=UTC)
    return moment


def format_datetime(moment: Timestamp | datetime, form: str = "when") -> str:
    """A moment in the viewer's time zone and conventions. `form`: "when" (the default: the date spelled
    out, the time to the minute: `Nov 30, 2026, 9:54 PM`, `2026年11月30日 21:54`), or Babel's short,
    medium, long, full, or a pattern."""
    viewer = current()
    at = as_datetime(moment)
    if form != "when":
        return babel_datetime(at, form, tzinfo=viewer.time_zone, locale=viewer.formats)
    date = babel_date(at.astimezone(viewer.time_zone), "medium", locale=viewer.formats)
    time = babel_time(at, "short", tzinfo=viewer.time_zone, locale=viewer.formats)
    return str(get_datetime_format("medium", locale=viewer.formats)).replace("{1}", date).replace("{0}", time)


def format_time(moment: Timestamp | datetime) -> str:
    """Time of day with seconds, in the viewer's zone: `14:03:07`."""
    viewer = current()
    return babel_datetime(as_datetime(moment), "HH:mm:ss", tzinfo=viewer.time_zone, locale=viewer.formats)


def microseconds(count: int) -> timedelta:
    """A count of microseconds (covered_us) as a timedelta, for format_duration."""
    return timedelta(microseconds=count)


def format_duration(span: timedelta) -> str:
    """`3 h 05 min`, `4 min 09 s`: exact to the second, for time left and time rented."""
    total = max(int(span.total_seconds()), 0)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return gettext("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
    return gettext("%(minutes)d min %(seconds)02d s") % {"minutes": minutes, "seconds": seconds}


def format_unit_price(rate: str, currency: str, unit: str) -> str:
    """A price line's rate in the viewer's conventions: `€1.20/h` (hours as |rate does), `€0.0125/GB`,
    `19 %`; "" for fixed amounts (no unit). At least the currency's minor digits, never rounded (a rate
    may be finer than a cent); a rate that is not a number is shown as it came."""
    if not unit:
        return ""
    if unit == "%":
        return f"{rate} %"
    try:
        value, digits = Decimal(rate), exponent(currency)
    except (ArithmeticError, UnknownCurrency):
        return f"{rate} {currency}/{unit}"
    places = value.as_tuple().exponent
    if isinstance(places, int) and -places < digits:
        value = value.quantize(Decimal(1).scaleb(-digits))
    amount = format_currency(value, currency, locale=current().formats, decimal_quantization=False)
    if unit == "h":
        return gettext("%(amount)s/h") % {"amount": amount}
    return f"{amount}/{unit}"


BYTE_UNITS = ("B", "kB", "MB", "GB", "TB", "PB")


def format_bytes(count: int) -> str:
    """An amount of data in decimal units, as traffic is billed: `1.2 MB`, `3,400 GB` stays `3.4 TB`."""
    scaled, unit = float(count), BYTE_UNITS[0]
    for unit in BYTE_UNITS:
        if abs(scaled) < 1000 or unit == BYTE_UNITS[-1]:
            break
        scaled /= 1000
    return f"{format_decimal(scaled, '#,##0.#', locale=current().formats)} {unit}"
