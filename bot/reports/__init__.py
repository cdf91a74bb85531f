"""The helpline's figures for a period: ``python -m bot report`` and ``/report`` in the staff chat.

Everything is counted from the anonymous records that survive /forget (conversations and cases keep
their facts with ``person_id`` NULL; only messages and the person's profile are deleted), so a
report for a past period does not change when someone deletes their data.

Definitions (dates are inclusive days in the helpline's time zone, Asia/Baku, UTC+4: the period
runs from ``date_from`` 00:00 Baku time to the midnight after ``date_to``):

* contact: a conversation started in the period (``conversations.started_at``) with at least one
  message from the person (``conversations.message_count > 0``);
* people: distinct ``conversations.person_token`` among the contacts (the random anonymous token
  survives /forget, so a person who wrote twice counts once);
* category: ``cases.category`` of the contact's case (NULL counts as ``other``). With
  ``scheme="chi"`` the contact is counted in one Child Helpline International category by the rule
  in ``bot/content/chi_categories.yaml`` (the first listed topic the case has, else its category);
* who wrote: ``conversations.audience`` (child / adult / unknown);
* gender: ``conversations.gender`` (female / male / unknown when not given);
* channel: ``conversations.channel``; risk: ``cases.risk`` (the highest the case reached);
* month: the Baku-time month of ``started_at``;
* escalated: contacts whose case has ``waiting_since`` set (went to the counsellor queue, for risk
  or on request); claimed: of those, the ones with ``claimed_at`` not before ``waiting_since``;
  time to claim = ``claimed_at - waiting_since`` in minutes, its median and 90th percentile
  (linear interpolation between closest ranks, as numpy's default);
* closed: cases with ``closed_at`` in the period, whatever the contact's start, except those the
  bot closed itself after a day of silence (``outcome = 'idle'``); closed by counsellors: those a
  counsellor closed (``closed_by_id`` set); outcomes: how the counsellors closed them (family
  meetings planned, rehabilitation started, referrals ... as the helpline reports them);
* self-help: article ratings given in the period (``article_ratings``) and how many said it helped.

The counting runs in Python over one query of non-identifying columns (no ids, no text) plus SQL
``COUNT``/``SUM`` for people and closed cases; it runs unchanged on SQLite and PostgreSQL.

All words come from ``bot/content/strings/report.<lang>.yaml`` and the labels in
``taxonomy.yaml`` / ``chi_categories.yaml``; numbers are grouped with a space (2 386).
"""

from bot.reports.commands import parse_day, parse_staff_range, run_report_command, staff_report
from bot.reports.figures import (
    HELPLINE_TZ,
    ChiScheme,
    Report,
    build_report,
    helpline_today,
    load_chi,
    months_between,
    period_bounds,
    quantile,
)
from bot.reports.render import (
    Words,
    chart_figure,
    format_date,
    group_thousands,
    last_spoken_unit,
    period_phrase,
    render_chart,
    render_csv,
    render_table,
    render_text,
)

__all__ = [
    "HELPLINE_TZ",
    "ChiScheme",
    "Report",
    "Words",
    "build_report",
    "chart_figure",
    "format_date",
    "group_thousands",
    "helpline_today",
    "last_spoken_unit",
    "load_chi",
    "months_between",
    "parse_day",
    "parse_staff_range",
    "period_bounds",
    "period_phrase",
    "quantile",
    "render_chart",
    "render_csv",
    "render_table",
    "render_text",
    "run_report_command",
    "staff_report",
]
