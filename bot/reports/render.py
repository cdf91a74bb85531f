"""The figures in words: the table, CSV, the press-style paragraph and the chart."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.domain import Audience, CloseOutcome
from bot.reports.figures import Report, load_chi
from bot.texts import Content

if TYPE_CHECKING:
    from matplotlib.figure import Figure


# ---------------------------------------------------------------------------------------------
# Numbers and words
# ---------------------------------------------------------------------------------------------


def group_thousands(n: int) -> str:
    """2386 -> '2 386' (Azerbaijani press style; also used for ru and en)."""
    return f"{n:,}".replace(",", " ")


def last_spoken_unit(n: int) -> int:
    """The number whose word is said last: 2386 -> 6, 340 -> 40, 1500 -> 100, 2000 -> 1000.

    Units if not zero, else tens, else 100, else the scale word (1000, 10**6, ...) the number ends
    with: 2000 -> 1000 ('iki min'), 1 500 000 -> 1000 ('... beş yüz min'), 10**6 -> 10**6.
    """
    n = abs(int(n))
    if n == 0:
        return 0
    scale = 1
    while n % 1000 == 0:
        n //= 1000
        scale *= 1000
    if scale > 1:
        return scale
    if n % 10:
        return n % 10
    if n % 100:
        return n % 100
    return 100


def _suffix_table(content: Content, key: str, lang: str) -> dict[int, str]:
    raw = content.t(key, lang).strip()
    table: dict[int, str] = {}
    if raw in ("", "-"):
        return table
    for part in raw.split():
        number, _, suffix = part.partition(":")
        if number.isdigit() and suffix:
            table[int(number)] = suffix
    return table


class Words:
    """The strings of one language, and numbers written the way that language's press does."""

    def __init__(self, content: Content, lang: str) -> None:
        self.content = content
        self.lang = lang
        self._possessive = _suffix_table(content, "report.grammar.possessive", lang)
        self._ordinal = _suffix_table(content, "report.grammar.ordinal", lang)
        self._decimal = content.t("report.number.decimal", lang)

    def t(self, key: str, **kw: Any) -> str:
        return self.content.t(key, self.lang, Audience.ADULT, **kw)

    def label(self, prefix: str, code: str) -> str:
        key = f"{prefix}.{code}"
        return self.t(key) if self.content.has(key) else code

    def num(self, n: int) -> str:
        return group_thousands(n)

    def poss(self, n: int) -> str:
        """A count followed by the possessive suffix where the language has one: 793-ü, 236-sı."""
        suffix = self._possessive.get(last_spoken_unit(n))
        return f"{group_thousands(n)}-{suffix}" if suffix else group_thousands(n)

    def year(self, y: int) -> str:
        """A year as in '2026-cı ilin'; plain in languages without the suffix."""
        suffix = self._ordinal.get(last_spoken_unit(y))
        return f"{y}-{suffix}" if suffix else str(y)

    def minutes(self, value: float | None) -> str:
        if value is None:
            return self.t("report.no_value")
        text = f"{value:.1f}"
        if text.endswith(".0"):
            text = text[:-2]
        return text.replace(".", self._decimal)

    def month(self, ym: str) -> str:
        y, m = ym.split("-")
        return self.t("report.month_label", month=self.t(f"report.month.{int(m)}"), year=y)


def format_date(d: date) -> str:
    return d.strftime("%d.%m.%Y")


def _category_labels(report: Report, content: Content, lang: str, scheme: str) -> list[tuple[str, str, int]]:
    if scheme == "chi":
        chi = load_chi()
        return [(code, chi.label(code, lang), n) for code, n in report.by_chi.items()]
    return [(code, content.category_label(code, lang), n) for code, n in report.by_category.items()]


Value = int | float | None
Section = tuple[str, str, list[tuple[str, str, Value]]]


def _sections(report: Report, content: Content, lang: str, scheme: str) -> list[Section]:
    """(section code, heading, [(code, label, value)]) for the table and the CSV.

    Values are counts (int) except the two claim times (minutes, float, or None when no case
    was claimed).
    """
    w = Words(content, lang)
    chi = scheme == "chi"
    return [
        (
            "contacts",
            "",
            [
                ("contacts", w.t("report.contacts"), report.contacts),
                ("people", w.t("report.people"), report.people),
            ],
        ),
        (
            "chi_category" if chi else "category",
            w.t("report.section.chi" if chi else "report.section.category"),
            [(code, label, n) for code, label, n in _category_labels(report, content, lang, scheme)],
        ),
        ("month", w.t("report.section.month"), [(ym, w.month(ym), n) for ym, n in report.by_month.items()]),
        (
            "audience",
            w.t("report.section.audience"),
            [(code, w.label("report.audience", code), n) for code, n in report.by_audience.items()],
        ),
        (
            "gender",
            w.t("report.section.gender"),
            [(code, w.label("report.gender", code), n) for code, n in report.by_gender.items()],
        ),
        (
            "channel",
            w.t("report.section.channel"),
            [(code, w.label("report.channel", code), n) for code, n in report.by_channel.items()],
        ),
        (
            "risk",
            w.t("report.section.risk"),
            [(code, w.label("report.risk", code), n) for code, n in report.by_risk.items()],
        ),
        (
            "escalation",
            w.t("report.section.escalation"),
            [
                ("escalated", w.t("report.escalated"), report.escalated),
                ("claimed", w.t("report.claimed"), report.claimed),
                ("claim_median_minutes", w.t("report.claim_median"), report.claim_minutes_median),
                ("claim_p90_minutes", w.t("report.claim_p90"), report.claim_minutes_p90),
            ],
        ),
        (
            "closed",
            w.t("report.section.closed"),
            [
                ("total", w.t("report.closed"), report.closed),
                ("by_counsellor", w.t("report.closed_by_counsellor"), report.closed_by_counsellor),
            ],
        ),
        (
            "outcome",
            w.t("report.section.outcome"),
            [(code, content.t(f"outcome.{code}", lang), n) for code, n in report.by_outcome.items()],
        ),
        (
            "selfhelp",
            w.t("report.section.selfhelp"),
            [
                ("rated", w.t("report.articles_rated"), report.articles_rated),
                ("helpful", w.t("report.articles_helpful"), report.articles_helpful),
            ],
        ),
    ]


# ---------------------------------------------------------------------------------------------
# Renderers
# ---------------------------------------------------------------------------------------------


def render_table(report: Report, content: Content, lang: str = "az", scheme: str = "helpline") -> str:
    """A plain-text table (monospace) of every figure."""
    w = Words(content, lang)
    sections = _sections(report, content, lang, scheme)
    lines = [
        w.t("report.title"),
        w.t("report.period", date_from=format_date(report.date_from), date_to=format_date(report.date_to)),
    ]
    rows: list[tuple[str, str, str]] = []  # (indent, label, value)
    for _section, heading, items in sections:
        rows.append(("", "", ""))
        if heading:
            rows.append(("", heading, ""))
        indent = "  " if heading else ""
        for _, label, value in items:
            shown = w.num(value) if isinstance(value, int) else w.minutes(value)
            rows.append((indent, label, shown))
    width = max(len(indent + label) for indent, label, value in rows if value) + 2
    for indent, label, value in rows:
        if not value:
            lines.append(indent + label)
        else:
            lines.append(f"{indent + label:<{width}}{value:>8}")
    lines += ["", w.t("report.note")]
    return "\n".join(lines).rstrip() + "\n"


def render_csv(report: Report, content: Content, scheme: str = "helpline", lang: str = "az") -> str:
    """CSV with the columns section, code, label, value (plain integers; minutes with a dot)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "code", "label", "value"])
    writer.writerow(["period", "from", "", report.date_from.isoformat()])
    writer.writerow(["period", "to", "", report.date_to.isoformat()])
    for section, _, items in _sections(report, content, lang, scheme):
        for code, label, value in items:
            shown = "" if value is None else str(value) if isinstance(value, int) else f"{value:.1f}"
            writer.writerow([section, code, label, shown])
    return out.getvalue()


def period_phrase(date_from: date, date_to: date, w: Words) -> str:
    """'2026-cı ilin yanvar–may aylarında', or the dates when the period is not whole months."""
    whole_months = date_from.day == 1 and (date_to + timedelta(days=1)).day == 1
    if whole_months and date_from.year == date_to.year:
        year = w.year(date_from.year)
        if date_from.month == date_to.month:
            return w.t("report.period.month", year=year, month=w.t(f"report.month_in.{date_from.month}"))
        return w.t(
            "report.period.months",
            year=year,
            month_from=w.t(f"report.month_in.{date_from.month}"),
            month_to=w.t(f"report.month_in.{date_to.month}"),
        )
    if date_from == date_to:
        return w.t("report.period.day", date=format_date(date_from))
    return w.t("report.period.dates", date_from=format_date(date_from), date_to=format_date(date_to))


def _items(w: Words, pairs: list[tuple[str, int]]) -> str:
    """'793-ü təhsil, 481-i hüquqi, 399-u isə digər' from (label, count), zeros left out."""
    pairs = [(label, n) for label, n in pairs if n > 0]
    parts = []
    for i, (label, n) in enumerate(pairs):
        key = "report.text.item_last" if len(pairs) > 1 and i == len(pairs) - 1 else "report.text.item"
        parts.append(w.t(key, n=w.poss(n), label=label))
    return w.t("report.text.list_sep").join(parts)


def render_text(report: Report, content: Content, lang: str = "az") -> str:
    """A short paragraph in the helpline's press style (the helpline's six categories)."""
    w = Words(content, lang)
    period = period_phrase(report.date_from, report.date_to, w)
    sentences: list[str] = []
    if report.contacts == 0:
        sentences.append(w.t("report.text.none", period=period))
    else:
        total = w.t(
            "report.text.total", period=period, contacts=w.num(report.contacts), people=w.num(report.people)
        )
        sentences.append(total)
        cats = [(w.t(f"report.text.cat.{code}"), n) for code, n in report.by_category.items()]
        sentences.append(w.t("report.text.categories", items=_items(w, cats)))
        who = [(w.t(f"report.text.who.{c}"), report.by_audience.get(c, 0)) for c in ("adult", "child")]
        if any(n for _, n in who):
            sentences.append(w.t("report.text.audience", items=_items(w, who)))
        gender = [(w.t(f"report.text.gender.{c}"), report.by_gender.get(c, 0)) for c in ("female", "male")]
        if any(n for _, n in gender):
            sentences.append(w.t("report.text.gender", items=_items(w, gender)))
        if report.escalated:
            if report.claimed:
                sentences.append(
                    w.t(
                        "report.text.escalated_claimed",
                        escalated=w.num(report.escalated),
                        claimed=w.poss(report.claimed),
                        median=w.minutes(report.claim_minutes_median),
                        p90=w.minutes(report.claim_minutes_p90),
                    )
                )
            else:
                sentences.append(w.t("report.text.escalated", escalated=w.num(report.escalated)))
    if report.closed:
        if report.closed_by_counsellor:
            sentences.append(
                w.t(
                    "report.text.closed",
                    closed=w.num(report.closed),
                    closed_by_counsellor=w.poss(report.closed_by_counsellor),
                )
            )
        else:
            sentences.append(w.t("report.text.closed_only", closed=w.num(report.closed)))
    meetings = report.by_outcome.get(CloseOutcome.FAMILY_MEETING.value, 0)
    rehab = report.by_outcome.get(CloseOutcome.REHABILITATION.value, 0)
    if meetings or rehab:
        sentences.append(w.t("report.text.outcomes", meetings=w.num(meetings), rehabilitation=w.num(rehab)))
    return " ".join(sentences)


def chart_figure(report: Report, content: Content, lang: str = "az", scheme: str = "helpline") -> Figure:
    """The chart as a matplotlib Figure (Agg, no pyplot state): contacts by category and by month."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    w = Words(content, lang)
    categories = _category_labels(report, content, lang, scheme)
    months = list(report.by_month.items())
    fig = Figure(figsize=(12, max(4.5, 0.42 * len(categories) + 1.5)), layout="constrained")
    FigureCanvasAgg(fig)
    ax_cat, ax_month = fig.subplots(1, 2, width_ratios=(1.15, 1))
    period = f"{format_date(report.date_from)} – {format_date(report.date_to)}"
    fig.suptitle(w.t("report.chart.title", period=period), fontsize=14)

    labels = [label for _, label, _ in categories][::-1]
    counts = [n for _, _, n in categories][::-1]
    bars = ax_cat.barh(labels, counts, color="#2b7bba")
    ax_cat.bar_label(bars, labels=[w.num(n) for n in counts], padding=3)
    ax_cat.set_title(w.t("report.chart.by_category"))
    ax_cat.set_xlabel(w.t("report.contacts"))
    ax_cat.set_xlim(0, max([*counts, 1]) * 1.18)

    month_labels = [w.month(ym) for ym, _ in months]
    month_counts = [n for _, n in months]
    bars = ax_month.bar(month_labels, month_counts, color="#f28e2b")
    ax_month.bar_label(bars, labels=[w.num(n) for n in month_counts], padding=3)
    ax_month.set_title(w.t("report.chart.by_month"))
    ax_month.set_ylabel(w.t("report.contacts"))
    ax_month.set_ylim(0, max([*month_counts, 1]) * 1.18)
    if len(months) > 4:
        ax_month.tick_params(axis="x", labelrotation=45)
    for ax in (ax_cat, ax_month):
        ax.spines[["top", "right"]].set_visible(False)
    ax_cat.xaxis.get_major_locator().set_params(integer=True)
    ax_month.yaxis.get_major_locator().set_params(integer=True)
    return fig


def render_chart(
    report: Report, content: Content, path: str | Path, lang: str = "az", scheme: str = "helpline"
) -> None:
    """Write the chart as a PNG to ``path``."""
    fig = chart_figure(report, content, lang, scheme)
    fig.savefig(path, format="png", dpi=120)
