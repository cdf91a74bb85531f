"""Reports (issue 6): every figure of the table, the CSV and the press paragraph is checked against
numbers computed by hand from a known set of conversations, on SQLite and PostgreSQL.

The data set (Baku time, UTC+4; the period is 2026-01-01 .. 2026-05-31; "q" = minutes from queue
to claim; all rows are contacts of the period):

  #   token  started         who      gender  channel    category       risk      topics            q
  1   T1     01-01 00:00:00  child    female  telegram   education      none      school            -
  2   T1     01-15 10:00     child    female  telegram   psychological  elevated  low_mood          -
  3   T2     02-01 01:00     adult    male    telegram   legal          none      parents_divorce   -
  4   T3     02-10 12:00     adult    female  messenger  social         urgent    domestic_violence 2
  5   T4     03-05 09:00     child    male    telegram   psychological  imminent  suicide           1
  6   T5     03-20 18:00     unknown  -       whatsapp   (none)         none      -                 -
  7   T6     04-02 08:00     child    -       telegram   health         none      substance_use     -
  8   T6     04-03 08:00     child    -       telegram   health         none      illness           -
  9   T7     04-10 14:00     adult    female  telegram   education      none      inclusive_educ.   10.5
  10  T8     05-31 23:59:59  child    female  telegram   social         elevated  sextortion        queued
  11  T9     05-12 11:00     child    male    telegram   psychological  urgent    self_harm, school 5
  12  T10    05-20 09:00     adult    -       telegram   other          none      retired_topic     -
  13  eng-1  03-10 10:00     child    female  telegram   education      none      exam_stress       3
  14  eng-2  05-05 16:00     unknown  -       telegram   psychological  none      loneliness        -

  Closed: 4 and 5 by Aysel, 9 by Rəşad, 11 by /forget, 12 'idle' (not counted); 11 and 12 are stored
  as forgotten; 13 and 14 go through the real engine and end with /forget (13 while claimed).
  Not contacts: 2025-12-31 23:59:59 (T1), 2026-06-01 00:00 (T2, closed by Aysel at 00:30), a
  conversation with no message (02-15), 2025-12-20 (T12, closed by Aysel on 2026-01-02: counts as
  closed in the period), 2025-12-30 (T13, closed on 2025-12-31 23:30).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
import yaml
from sqlalchemy import func, select

from bot.app import App, build_app
from bot.config import Settings
from bot.content_schema import scan_safe_messaging, validate_content
from bot.domain import Category, Inbound, Risk, TriageResult
from bot.reports import (
    HELPLINE_TZ,
    Report,
    build_report,
    chart_figure,
    group_thousands,
    last_spoken_unit,
    load_chi,
    parse_staff_range,
    period_bounds,
    render_chart,
    render_csv,
    render_table,
    render_text,
    run_report_command,
    staff_report,
)
from bot.staff import StaffMember
from bot.storage.models import Case, Conversation, Message, Person
from bot.texts import CONTENT_DIR, Content, load_content

ROOT = Path(__file__).resolve().parents[1]
FROM, TO = date(2026, 1, 1), date(2026, 5, 31)


def baku(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=HELPLINE_TZ)


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


class FakeTriager:
    """Triage is not under test here: fixed answers for the two texts the engine-driven people send."""

    RESULTS = {
        "imtahandan çox qorxuram": TriageResult(Category.EDUCATION, Risk.NONE, "az", topics=("exam_stress",)),
        "özümü çox tənha hiss edirəm": TriageResult(
            Category.PSYCHOLOGICAL, Risk.NONE, "az", topics=("loneliness",)
        ),
    }

    def analyze(self, text: str, prior=(), history=()) -> TriageResult:
        return self.RESULTS.get(text, TriageResult(Category.OTHER, Risk.NONE, "az"))


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def report_content() -> Content:
    return load_content(validate=False)


@pytest_asyncio.fixture
async def report_app(database_url: str, tmp_path: Path, report_content: Content) -> AsyncIterator[App]:
    """A migrated, empty database (SQLite or PostgreSQL, from conftest) with the real engine."""
    clock = Clock()
    settings = Settings(
        database_url=database_url, data_dir=tmp_path, pseudonym_secret="reports-secret-0123456789"
    )
    app = await build_app(settings, content=report_content, triager=FakeTriager(), clock=clock)
    app.clock = clock  # type: ignore[attr-defined]
    yield app
    await app.close()


@dataclass
class Spec:
    token: str
    started: datetime
    audience: str = "unknown"
    gender: str | None = None
    channel: str = "telegram"
    category: str | None = None
    risk: str = "none"
    topics: list[str] = field(default_factory=list)
    claim_after: float | None = None  # minutes from queueing to claim; None: not claimed
    queued: bool = False
    closed_at: datetime | None = None
    closed_by: str | None = None  # a counsellor's name, or "forget" / "idle" (closed by the bot)
    outcome: str = "advice"  # what the counsellor recorded
    forgotten: bool = False
    message_count: int = 3


SPECS = [
    Spec("T1", baku(2026, 1, 1, 0, 0, 0), "child", "female", category="education", topics=["school"]),
    Spec(
        "T1",
        baku(2026, 1, 15, 10),
        "child",
        "female",
        category="psychological",
        risk="elevated",
        topics=["low_mood"],
    ),
    Spec("T2", baku(2026, 2, 1, 1), "adult", "male", category="legal", topics=["parents_divorce"]),
    Spec(
        "T3",
        baku(2026, 2, 10, 12),
        "adult",
        "female",
        "messenger",
        "social",
        "urgent",
        ["domestic_violence"],
        claim_after=2,
        queued=True,
        closed_at=baku(2026, 2, 10, 13),
        closed_by="Aysel",
        outcome="family_meeting",
    ),
    Spec(
        "T4",
        baku(2026, 3, 5, 9),
        "child",
        "male",
        category="psychological",
        risk="imminent",
        topics=["suicide"],
        claim_after=1,
        queued=True,
        closed_at=baku(2026, 3, 5, 10),
        closed_by="Aysel",
        outcome="safe_now",
    ),
    Spec("T5", baku(2026, 3, 20, 18), "unknown", None, "whatsapp"),
    Spec("T6", baku(2026, 4, 2, 8), "child", None, category="health", topics=["substance_use"]),
    Spec("T6", baku(2026, 4, 3, 8), "child", None, category="health", topics=["illness"]),
    Spec(
        "T7",
        baku(2026, 4, 10, 14),
        "adult",
        "female",
        category="education",
        topics=["inclusive_education"],
        claim_after=10.5,
        queued=True,
        closed_at=baku(2026, 4, 10, 15),
        closed_by="Rəşad",
    ),
    Spec(
        "T8",
        baku(2026, 5, 31, 23, 59, 59),
        "child",
        "female",
        category="social",
        risk="elevated",
        topics=["sextortion"],
        queued=True,
    ),
    Spec(
        "T9",
        baku(2026, 5, 12, 11),
        "child",
        "male",
        category="psychological",
        risk="urgent",
        topics=["self_harm", "school"],
        claim_after=5,
        queued=True,
        closed_at=baku(2026, 5, 12, 11, 30),
        closed_by="forget",
        forgotten=True,
    ),
    Spec(
        "T10",
        baku(2026, 5, 20, 9),
        "adult",
        None,
        category="other",
        topics=["retired_topic"],
        closed_at=baku(2026, 5, 21, 9),
        closed_by="idle",
        forgotten=True,
    ),
    # not contacts of the period
    Spec("T1", baku(2025, 12, 31, 23, 59, 59), "child", "female", category="education"),
    Spec(
        "T2",
        baku(2026, 6, 1, 0, 0, 0),
        "adult",
        "male",
        category="legal",
        claim_after=1,
        queued=True,
        closed_at=baku(2026, 6, 1, 0, 30),
        closed_by="Aysel",
    ),
    Spec("T11", baku(2026, 2, 15, 12), category="education", message_count=0),
    Spec(
        "T12",
        baku(2025, 12, 20, 12),
        "adult",
        "female",
        category="legal",
        claim_after=4,
        queued=True,
        closed_at=baku(2026, 1, 2, 12),
        closed_by="Aysel",
        outcome="rehabilitation",
    ),
    Spec(
        "T13",
        baku(2025, 12, 30, 10),
        "adult",
        "male",
        category="social",
        claim_after=4,
        queued=True,
        closed_at=baku(2025, 12, 31, 23, 30),
        closed_by="Aysel",
    ),
]


async def _seed_orm(app: App) -> None:
    async with app.sessions() as session, session.begin():
        people: dict[str, Person] = {}
        for i, spec in enumerate(SPECS):
            person = None
            if not spec.forgotten:
                person = people.get(spec.token)
                if person is None:
                    person = Person(
                        channel=spec.channel,
                        pseudonym=f"p-{spec.token}",
                        anon_token=spec.token,
                        audience=spec.audience,
                        gender=spec.gender,
                    )
                    session.add(person)
                    await session.flush()
                    people[spec.token] = person
            conversation = Conversation(
                person_id=person.id if person else None,
                person_token=spec.token,
                channel=spec.channel,
                language="az",
                audience=spec.audience,
                gender=spec.gender,
                started_at=spec.started,
                last_activity_at=spec.started + timedelta(minutes=30),
                ended_at=spec.closed_at,
                forgotten_at=spec.started + timedelta(hours=1) if spec.forgotten else None,
                message_count=spec.message_count,
                state={},
            )
            session.add(conversation)
            await session.flush()
            waiting = spec.started + timedelta(minutes=1) if spec.queued else None
            claimed = waiting + timedelta(minutes=spec.claim_after) if waiting and spec.claim_after else None
            status = "closed" if spec.closed_at else "claimed" if claimed else "queued" if waiting else "bot"
            by_bot = {"forget": "forgotten", "idle": "idle"}
            counsellor = spec.closed_by if spec.closed_by not in by_bot else None
            outcome = by_bot.get(spec.closed_by or "", spec.outcome) if spec.closed_at else None
            session.add(
                Case(
                    conversation_id=conversation.id,
                    person_id=person.id if person else None,
                    channel=spec.channel,
                    status=status,
                    category=spec.category,
                    risk=spec.risk,
                    topics=spec.topics,
                    signals=[],
                    created_at=spec.started,
                    waiting_since=waiting,
                    claimed_at=claimed,
                    closed_at=spec.closed_at,
                    closed_by=counsellor,
                    closed_by_id=f"staff:{counsellor}" if counsellor else None,
                    outcome=outcome,
                    assignee_name=counsellor if claimed else None,
                )
            )
            if not spec.forgotten and spec.message_count:
                session.add(
                    Message(
                        conversation_id=conversation.id,
                        sender="person",
                        text=f"message {i}",
                        created_at=spec.started,
                    )
                )


async def _say(app: App, user: str, at: datetime, text: str | None = None, button: str | None = None):
    app.clock.now = at.astimezone(UTC)  # type: ignore[attr-defined]
    return await app.engine.handle(Inbound(channel="telegram", user_id=user, text=text, button=button))


async def _seed_engine(app: App) -> None:
    """Two people through the real engine, both ending with /forget."""
    t0 = baku(2026, 3, 10, 10)
    first = await _say(app, "eng-1", t0, "imtahandan çox qorxuram")
    await _say(app, "eng-1", t0 + timedelta(seconds=10), "gecələr yata bilmirəm")  # then "who is writing?"
    await _say(app, "eng-1", t0 + timedelta(seconds=20), button="who:child")
    await _say(app, "eng-1", t0 + timedelta(seconds=40), button="gender:female")
    await _say(app, "eng-1", t0 + timedelta(minutes=1), "/human")
    async with app.sessions() as session:
        case_id = await session.scalar(select(Case.id).where(Case.conversation_id == first.conversation_id))
    app.clock.now = (t0 + timedelta(minutes=4)).astimezone(UTC)  # type: ignore[attr-defined]
    claim = await app.desk.claim(case_id, StaffMember("staff-1", "Aysel"))
    assert claim.ok
    await _say(app, "eng-1", t0 + timedelta(minutes=10), button="forget")
    done = await _say(app, "eng-1", t0 + timedelta(minutes=10, seconds=5), button="forget:yes")
    assert done.person_id is None

    t1 = baku(2026, 5, 5, 16)
    second = await _say(app, "eng-2", t1, "özümü çox tənha hiss edirəm")
    await _say(app, "eng-2", t1 + timedelta(minutes=1), "/forget")
    await _say(app, "eng-2", t1 + timedelta(minutes=1, seconds=10), button="forget:yes")

    # The real /forget path ran: no messages, no person, anonymous facts kept.
    async with app.sessions() as session:
        ids = (first.conversation_id, second.conversation_id)
        assert (
            await session.scalar(
                select(func.count()).select_from(Message).where(Message.conversation_id.in_(ids))
            )
            == 0
        )
        assert (
            await session.scalar(
                select(func.count()).select_from(Person).where(Person.pseudonym.not_like("p-%"))
            )
            == 0
        )
        rows = (
            await session.execute(
                select(
                    Conversation.person_id,
                    Conversation.forgotten_at,
                    Conversation.audience,
                    Conversation.gender,
                )
                .where(Conversation.id.in_(ids))
                .order_by(Conversation.id)
            )
        ).all()
        assert [(r[0], r[1] is not None, r[2], r[3]) for r in rows] == [
            (None, True, "child", "female"),
            (None, True, "unknown", None),
        ]
        case = await session.scalar(select(Case).where(Case.conversation_id == first.conversation_id))
        assert (case.outcome, case.closed_by, case.person_id, case.category) == (
            "forgotten",
            None,
            None,
            "education",
        )


@pytest_asyncio.fixture
async def seeded(report_app: App) -> App:
    await _seed_orm(report_app)
    await _seed_engine(report_app)
    return report_app


# ---------------------------------------------------------------------------------------------
# Hand-computed figures for 2026-01-01 .. 2026-05-31
# ---------------------------------------------------------------------------------------------

EXPECTED = dict(
    contacts=14,  # rows 1-14
    people=12,  # T1..T10, eng-1, eng-2
    by_category={"education": 3, "legal": 1, "psychological": 4, "social": 2, "health": 2, "other": 2},
    by_chi={
        "abuse_violence": 2,  # 4 domestic_violence, 10 sextortion
        "mental_health": 4,  # 2 low_mood, 5 suicide, 11 self_harm (before school), 14 loneliness
        "peer_relationships": 0,
        "family_relationships": 1,  # 3 parents_divorce
        "sexuality": 0,
        "physical_health": 1,  # 8 illness
        "education_occupation": 3,  # 1 school, 9 inclusive_education, 13 exam_stress
        "commercial_exploitation": 0,
        "legal_matters": 0,
        "basic_needs": 0,
        "discrimination": 0,
        "substance_use": 1,  # 7
        "info_other": 2,  # 6 no category, 12 other with an unmapped topic
    },
    by_month={"2026-01": 2, "2026-02": 2, "2026-03": 3, "2026-04": 3, "2026-05": 4},
    by_audience={"child": 8, "adult": 4, "unknown": 2},
    by_gender={"female": 6, "male": 3, "unknown": 5},
    by_channel={"telegram": 12, "messenger": 1, "whatsapp": 1},
    by_risk={"none": 9, "elevated": 2, "urgent": 2, "imminent": 1},
    escalated=6,  # 4, 5, 9, 10, 11, 13
    claimed=5,  # minutes 2, 1, 10.5, 5, 3
    claim_minutes_median=3.0,  # sorted 1, 2, 3, 5, 10.5
    claim_minutes_p90=8.3,  # rank 0.9 * 4 = 3.6: 5 + 0.6 * (10.5 - 5)
    closed=6,  # 4, 5, 9, 11 (forget), 13 (forget), T12 (closed 2026-01-02); not 12 (idle)
    closed_by_counsellor=4,  # 4, 5, 9, T12
    by_outcome={  # of those four
        "safe_now": 1,
        "advice": 1,
        "emergency": 0,
        "police": 0,
        "social_services": 0,
        "ombudsman": 0,
        "family_meeting": 1,
        "rehabilitation": 1,
        "unreachable": 0,
        "false_alarm": 0,
    },
    articles_rated=0,
    articles_helpful=0,
)

EXPECTED_TEXT_AZ = (
    "2026-cı ilin yanvar–may aylarında xidmətə 12 nəfərdən 14 müraciət daxil olub. "
    "Müraciətlərin 3-ü təhsil, 1-i hüquqi, 4-ü psixoloji, 2-si sosial, 2-si sağlamlıq, 2-si isə digər "
    "mövzularla bağlı olub. "
    "Müraciətlərin 4-ü 18 yaşdan yuxarı şəxslərdən, 8-i isə uşaq və yeniyetmələrdən daxil olub. "
    "Müraciət edənlərin 6-sı qadın və qız, 3-ü isə kişi və oğlan olub. "
    "6 müraciət məsləhətçilərə yönləndirilib, onlardan 5-i qəbul edilib: yarısı 3 dəqiqə, 90 faizi isə "
    "8,3 dəqiqə ərzində. "
    "Hesabat dövründə 6 müraciət üzrə iş başa çatdırılıb; onlardan 4-ü məsləhətçilər tərəfindən bağlanıb. "
    "Bu müddətdə 1 ailə ilə görüş planlaşdırılıb, 1 sosial-psixoloji reabilitasiya işinə başlanılıb."
)

EXPECTED_TEXT_EN = (
    "In January–May 2026 the helpline received contacts: 14, from people: 12. "
    "By topic: education — 3, legal — 1, psychological — 4, social — 2, health — 2, other — 2. "
    "By age: adults (over 18) — 4, children and teenagers — 8. "
    "By gender: women and girls — 6, men and boys — 3. "
    "Passed to counsellors: 6, of which taken up: 5; half within 3 min, 90% within 8.3 min. "
    "Cases closed in the period: 6, of which by counsellors: 4. "
    "In this period 1 family meetings were planned and 1 social-psychological rehabilitation cases started."
)


_CAT, _MONTH, _WHO = "Kateqoriyalar üzrə", "Aylar üzrə", "Kim yazıb"
_ESC, _CLOSED = "Məsləhətçilərə yönləndirmə", "Bağlanmış müraciətlər"
_OUT = "Məsləhətçilərin bağladığı müraciətlərin nəticəsi"
TABLE_AZ = {
    ("", "Müraciətlər"): "14",
    ("", "Müraciət edən şəxslər"): "12",
    (_CAT, "Təhsil"): "3",
    (_CAT, "Hüquqi məsələlər"): "1",
    (_CAT, "Psixoloji"): "4",
    (_CAT, "Sosial"): "2",
    (_CAT, "Sağlamlıq"): "2",
    (_CAT, "Digər"): "2",
    (_MONTH, "Yanvar 2026"): "2",
    (_MONTH, "Fevral 2026"): "2",
    (_MONTH, "Mart 2026"): "3",
    (_MONTH, "Aprel 2026"): "3",
    (_MONTH, "May 2026"): "4",
    (_WHO, "Uşaq və yeniyetmələr"): "8",
    (_WHO, "Böyüklər (18 yaşdan yuxarı)"): "4",
    (_WHO, "Məlum deyil"): "2",
    ("Cins", "Qadın / qız"): "6",
    ("Cins", "Kişi / oğlan"): "3",
    ("Cins", "Göstərilməyib"): "5",
    ("Kanallar üzrə", "Telegram"): "12",
    ("Kanallar üzrə", "Messenger"): "1",
    ("Kanallar üzrə", "WhatsApp"): "1",
    ("Risk səviyyəsi", "Risk yoxdur"): "9",
    ("Risk səviyyəsi", "Yüksəlmiş risk"): "2",
    ("Risk səviyyəsi", "Təcili"): "2",
    ("Risk səviyyəsi", "Həyati təhlükə"): "1",
    (_ESC, "Məsləhətçiyə yönləndirilib"): "6",
    (_ESC, "Məsləhətçi qəbul edib"): "5",
    (_ESC, "Qəbula qədər vaxt, mediana (dəq)"): "3",
    (_ESC, "Qəbula qədər vaxt, 90-cı persentil (dəq)"): "8,3",
    (_CLOSED, "Bağlanıb (cəmi)"): "6",
    (_CLOSED, "o cümlədən məsləhətçilər tərəfindən"): "4",
    (_OUT, "Danışdıq, indi təhlükəsizdir"): "1",
    (_OUT, "Məsləhət / məlumat verildi"): "1",
    (_OUT, "Təcili xidmətlərə (112) yönləndirildi"): "0",
    (_OUT, "Polisə yönləndirildi"): "0",
    (_OUT, "Sosial xidmətlərə / qəyyumluğa yönləndirildi"): "0",
    (_OUT, "Ombudsmana yönləndirildi"): "0",
    (_OUT, "Ailə ilə görüş planlaşdırıldı"): "1",
    (_OUT, "Sosial-psixoloji reabilitasiya başladı"): "1",
    (_OUT, "Əlaqə saxlamaq mümkün olmadı"): "0",
    (_OUT, "Risk yox idi (yanlış həyəcan)"): "0",
    ("Özünəkömək məqalələri", "Qiymətləndirilib"): "0",
    ("Özünəkömək məqalələri", 'o cümlədən "kömək etdi"'): "0",
}


def _table_values(table: str) -> dict[tuple[str, str], str]:
    """{(section heading, label): value} from the printed table."""
    values: dict[tuple[str, str], str] = {}
    section = ""
    for line in table.splitlines():
        if not line.strip():
            continue
        parts = line.strip().rsplit("  ", 1)
        if len(parts) == 2 and parts[1].strip():
            values[(section if line.startswith("  ") else "", parts[0].strip())] = parts[1].strip()
        elif not line.startswith(" "):
            section = line.strip()
    return values


# ---------------------------------------------------------------------------------------------
# The figures
# ---------------------------------------------------------------------------------------------


async def test_every_figure_against_hand_computed_numbers(seeded: App) -> None:
    report = await build_report(seeded.sessions, FROM, TO)
    got = {name: getattr(report, name) for name in EXPECTED}
    assert got["claim_minutes_p90"] == pytest.approx(8.3)
    got["claim_minutes_p90"] = round(got["claim_minutes_p90"], 6)
    assert got == EXPECTED
    assert list(report.by_channel) == ["telegram", "messenger", "whatsapp"]  # most first
    assert sum(report.by_category.values()) == sum(report.by_chi.values()) == report.contacts


async def test_table_shows_every_figure(seeded: App, report_content: Content) -> None:
    report = await build_report(seeded.sessions, FROM, TO)
    table = render_table(report, report_content, "az")
    assert table.splitlines()[:2] == [
        "Uşaq Qaynar Xətti (116111) — çat-bot hesabatı",
        "Dövr: 01.01.2026 – 31.05.2026 (Bakı vaxtı)",
    ]
    assert _table_values(table) == TABLE_AZ


async def test_csv_has_every_figure(seeded: App, report_content: Content) -> None:
    report = await build_report(seeded.sessions, FROM, TO)
    text = render_csv(report, report_content, "helpline")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["section", "code", "label", "value"]
    got = {(r[0], r[1]): r[3] for r in rows[1:]}
    assert len(got) == len(rows) - 1  # no duplicate rows
    expected = {
        ("period", "from"): "2026-01-01",
        ("period", "to"): "2026-05-31",
        ("contacts", "contacts"): "14",
        ("contacts", "people"): "12",
    }
    for section, name in (
        ("category", "by_category"),
        ("month", "by_month"),
        ("audience", "by_audience"),
        ("gender", "by_gender"),
        ("channel", "by_channel"),
        ("risk", "by_risk"),
    ):
        expected.update({(section, code): str(n) for code, n in EXPECTED[name].items()})
    expected.update(
        {
            ("escalation", "escalated"): "6",
            ("escalation", "claimed"): "5",
            ("escalation", "claim_median_minutes"): "3.0",
            ("escalation", "claim_p90_minutes"): "8.3",
            ("closed", "total"): "6",
            ("closed", "by_counsellor"): "4",
            ("selfhelp", "rated"): "0",
            ("selfhelp", "helpful"): "0",
        }
    )
    expected.update({("outcome", code): str(n) for code, n in EXPECTED["by_outcome"].items()})
    assert got == expected
    labels = {(r[0], r[1]): r[2] for r in rows[1:]}
    assert labels[("category", "education")] == "Təhsil"
    assert labels[("month", "2026-05")] == "May 2026"


async def test_chi_scheme(seeded: App, report_content: Content) -> None:
    report = await build_report(seeded.sessions, FROM, TO)
    rows = list(csv.reader(io.StringIO(render_csv(report, report_content, "chi", lang="en"))))
    chi_rows = {r[1]: (r[2], r[3]) for r in rows if r[0] == "chi_category"}
    assert {code: int(v) for code, (_, v) in chi_rows.items()} == EXPECTED["by_chi"]
    assert chi_rows["abuse_violence"][0] == "Abuse and violence"
    assert not [r for r in rows if r[0] == "category"]  # the scheme replaces the helpline's categories

    values = _table_values(render_table(report, report_content, "en", scheme="chi"))
    section = "By category (Child Helpline International)"
    assert values[(section, "Abuse and violence")] == "2"
    assert values[(section, "Mental health")] == "4"
    assert values[(section, "Family relationships")] == "1"
    assert values[(section, "Substance use")] == "1"
    assert values[(section, "Education and occupation")] == "3"
    assert values[(section, "Information about helplines / other")] == "2"
    assert values[(section, "Commercial exploitation")] == "0"


async def test_press_paragraph(seeded: App, report_content: Content) -> None:
    report = await build_report(seeded.sessions, FROM, TO)
    assert render_text(report, report_content, "az") == EXPECTED_TEXT_AZ
    assert render_text(report, report_content, "en") == EXPECTED_TEXT_EN
    ru = render_text(report, report_content, "ru")
    assert ru.startswith("В январе–мае 2026 года в службу поступило обращений: 14, обратившихся: 12.")
    assert "половина — в течение 3 мин., 90% — в течение 8,3 мин." in ru


async def test_period_boundaries_are_baku_midnight(seeded: App) -> None:
    assert period_bounds(date(2026, 1, 1), date(2026, 1, 1)) == (
        datetime(2025, 12, 31, 20, tzinfo=UTC),
        datetime(2026, 1, 1, 20, tzinfo=UTC),
    )

    async def figures(d1: date, d2: date) -> tuple[int, dict[str, int], int]:
        r = await build_report(seeded.sessions, d1, d2)
        return r.contacts, {k: v for k, v in r.by_month.items() if v}, r.closed

    # 2026-01-01 00:00:00 Baku is in, 2025-12-31 23:59:59 is out
    assert await figures(date(2026, 1, 1), date(2026, 1, 1)) == (1, {"2026-01": 1}, 0)
    assert await figures(date(2025, 12, 31), date(2025, 12, 31)) == (1, {"2025-12": 1}, 1)  # T13 closed 23:30
    # 2026-02-01 01:00 Baku is 2026-01-31 21:00 UTC: February in Baku
    assert await figures(date(2026, 1, 31), date(2026, 1, 31)) == (0, {}, 0)
    assert await figures(date(2026, 2, 1), date(2026, 2, 1)) == (1, {"2026-02": 1}, 0)
    # 2026-05-31 23:59:59 is in May, 2026-06-01 00:00 is in June (and its case closed at 00:30)
    assert await figures(date(2026, 5, 31), date(2026, 5, 31)) == (1, {"2026-05": 1}, 0)
    assert await figures(date(2026, 6, 1), date(2026, 6, 1)) == (1, {"2026-06": 1}, 1)
    # 2026-01-02: T12's case (a contact of December) closed by a counsellor
    r = await build_report(seeded.sessions, date(2026, 1, 2), date(2026, 1, 2))
    assert (r.contacts, r.closed, r.closed_by_counsellor) == (0, 1, 1)
    with pytest.raises(ValueError):
        await build_report(seeded.sessions, date(2026, 2, 1), date(2026, 1, 1))


async def test_empty_period(report_app: App, report_content: Content) -> None:
    report = await build_report(report_app.sessions, date(2026, 5, 1), date(2026, 5, 31))
    assert (report.contacts, report.people, report.escalated, report.closed) == (0, 0, 0, 0)
    assert report.claim_minutes_median is None and report.claim_minutes_p90 is None
    assert report.by_month == {"2026-05": 0}
    assert render_text(report, report_content, "az") == (
        "2026-cı ilin may ayında xidmətə müraciət daxil olmayıb."
    )
    values = _table_values(render_table(report, report_content, "az"))
    assert values[("Məsləhətçilərə yönləndirmə", "Qəbula qədər vaxt, mediana (dəq)")] == "—"
    rows = list(csv.reader(io.StringIO(render_csv(report, report_content, "helpline"))))
    assert ["escalation", "claim_median_minutes", "Qəbula qədər vaxt, mediana (dəq)", ""] in rows


# ---------------------------------------------------------------------------------------------
# Azerbaijani press style
# ---------------------------------------------------------------------------------------------


def test_paragraph_in_the_helplines_press_style(report_content: Content) -> None:
    """The figures of the helpline's own January–May release."""
    report = Report(
        date_from=FROM,
        date_to=TO,
        contacts=2386,
        people=2201,
        by_category={
            "education": 793,
            "legal": 481,
            "psychological": 340,
            "social": 236,
            "health": 137,
            "other": 399,
        },
        by_audience={"child": 506, "adult": 1772, "unknown": 108},
        by_gender={"female": 1203, "male": 1075, "unknown": 108},
        escalated=94,
        claimed=90,
        claim_minutes_median=2.5,
        claim_minutes_p90=12.4,
        closed=80,
        closed_by_counsellor=61,
    )
    assert render_text(report, report_content, "az") == (
        "2026-cı ilin yanvar–may aylarında xidmətə 2 201 nəfərdən 2 386 müraciət daxil olub. "
        "Müraciətlərin 793-ü təhsil, 481-i hüquqi, 340-ı psixoloji, 236-sı sosial, 137-si sağlamlıq, "
        "399-u isə digər mövzularla bağlı olub. "
        "Müraciətlərin 1 772-si 18 yaşdan yuxarı şəxslərdən, 506-sı isə uşaq və yeniyetmələrdən daxil olub. "
        "Müraciət edənlərin 1 203-ü qadın və qız, 1 075-i isə kişi və oğlan olub. "
        "94 müraciət məsləhətçilərə yönləndirilib, onlardan 90-ı qəbul edilib: yarısı 2,5 dəqiqə, "
        "90 faizi isə 12,4 dəqiqə ərzində. "
        "Hesabat dövründə 80 müraciət üzrə iş başa çatdırılıb; onlardan 61-i məsləhətçilər tərəfindən "
        "bağlanıb."
    )


@pytest.mark.parametrize(
    ("d1", "d2", "expected"),
    [
        (date(2026, 5, 1), date(2026, 5, 31), "2026-cı ilin may ayında"),
        (date(2025, 1, 1), date(2025, 12, 31), "2025-ci ilin yanvar–dekabr aylarında"),
        (date(2024, 2, 1), date(2024, 2, 29), "2024-cü ilin fevral ayında"),
        (date(2026, 5, 1), date(2026, 5, 17), "01.05.2026–17.05.2026 tarixlərində"),
        (date(2025, 12, 1), date(2026, 1, 31), "01.12.2025–31.01.2026 tarixlərində"),
        (date(2026, 3, 8), date(2026, 3, 8), "08.03.2026 tarixində"),
    ],
)
def test_period_phrase(report_content: Content, d1: date, d2: date, expected: str) -> None:
    text = render_text(Report(date_from=d1, date_to=d2), report_content, "az")
    assert text == f"{expected} xidmətə müraciət daxil olmayıb."


@pytest.mark.parametrize(
    ("n", "possessive"),
    [
        (0, "0-ı"),
        (1, "1-i"),
        (2, "2-si"),
        (3, "3-ü"),
        (4, "4-ü"),
        (5, "5-i"),
        (6, "6-sı"),
        (7, "7-si"),
        (8, "8-i"),
        (9, "9-u"),
        (10, "10-u"),
        (20, "20-si"),
        (30, "30-u"),
        (40, "40-ı"),
        (50, "50-si"),
        (60, "60-ı"),
        (70, "70-i"),
        (80, "80-i"),
        (90, "90-ı"),
        (100, "100-ü"),
        (340, "340-ı"),
        (1000, "1 000-i"),
        (2386, "2 386-sı"),
        (1500, "1 500-ü"),
        (12000, "12 000-i"),
        (1_000_000, "1 000 000-u"),
        (1_500_000, "1 500 000-i"),
    ],
)
def test_azerbaijani_number_suffixes(report_content: Content, n: int, possessive: str) -> None:
    from bot.reports import Words

    assert Words(report_content, "az").poss(n) == possessive
    assert Words(report_content, "en").poss(n) == group_thousands(n)


def test_year_suffixes_and_grouping(report_content: Content) -> None:
    from bot.reports import Words

    w = Words(report_content, "az")
    years = {
        2019: "2019-cu",
        2020: "2020-ci",
        2021: "2021-ci",
        2023: "2023-cü",
        2024: "2024-cü",
        2025: "2025-ci",
        2026: "2026-cı",
        2030: "2030-cu",
        2040: "2040-cı",
        2100: "2100-cü",
    }
    assert {y: w.year(y) for y in years} == years
    assert Words(report_content, "ru").year(2026) == "2026"
    assert [group_thousands(n) for n in (0, 999, 1000, 2386, 1234567)] == [
        "0",
        "999",
        "1 000",
        "2 386",
        "1 234 567",
    ]
    assert last_spoken_unit(2_000_000_000) == 1_000_000_000
    assert w.minutes(3.0) == "3" and w.minutes(8.25) == "8,2" and w.minutes(None) == "—"


# ---------------------------------------------------------------------------------------------
# The chart
# ---------------------------------------------------------------------------------------------


async def test_chart_is_a_png_with_labelled_bars(
    seeded: App, report_content: Content, tmp_path: Path
) -> None:
    from matplotlib.container import BarContainer
    from matplotlib.image import imread

    report = await build_report(seeded.sessions, FROM, TO)
    fig = chart_figure(report, report_content, "az")
    ax_cat, ax_month = fig.axes
    assert ax_cat.get_title() == "Kateqoriyalar üzrə" and ax_month.get_title() == "Aylar üzrə"
    assert fig.get_suptitle() == "Müraciətlər: 01.01.2026 – 31.05.2026"

    (cat_bars,) = [c for c in ax_cat.containers if isinstance(c, BarContainer)]
    assert [round(b.get_width()) for b in cat_bars] == [2, 2, 2, 4, 1, 3]  # bottom-up: other .. education
    assert [t.get_text() for t in ax_cat.get_yticklabels()] == [
        "Digər",
        "Sağlamlıq",
        "Sosial",
        "Psixoloji",
        "Hüquqi məsələlər",
        "Təhsil",
    ]
    assert [t.get_text() for t in ax_cat.texts] == ["2", "2", "2", "4", "1", "3"]  # bar labels

    (month_bars,) = [c for c in ax_month.containers if isinstance(c, BarContainer)]
    assert [round(b.get_height()) for b in month_bars] == [2, 2, 3, 3, 4]
    assert [t.get_text() for t in ax_month.get_xticklabels()] == [
        "Yanvar 2026",
        "Fevral 2026",
        "Mart 2026",
        "Aprel 2026",
        "May 2026",
    ]
    assert [t.get_text() for t in ax_month.texts] == ["2", "2", "3", "3", "4"]

    chi = chart_figure(report, report_content, "en", scheme="chi")
    assert len(chi.axes[0].texts) == len(load_chi().labels)

    path = tmp_path / "report.png"
    render_chart(report, report_content, path, "az")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = imread(path)
    assert image.shape[0] > 400 and image.shape[1] > 1000


# ---------------------------------------------------------------------------------------------
# Staff chat and command line
# ---------------------------------------------------------------------------------------------

TODAY = date(2026, 5, 17)


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("", (date(2026, 5, 1), TODAY)),
        ("   ", (date(2026, 5, 1), TODAY)),
        ("2026-01 2026-05", (date(2026, 1, 1), date(2026, 5, 31))),
        ("2026-02", (date(2026, 2, 1), date(2026, 2, 28))),
        ("2024-02", (date(2024, 2, 1), date(2024, 2, 29))),
        ("2025-12 2026-01", (date(2025, 12, 1), date(2026, 1, 31))),
        ("2026-01-05 2026-02-10", (date(2026, 1, 5), date(2026, 2, 10))),
        ("2026-01-05", (date(2026, 1, 5), date(2026, 1, 5))),
        ("2026-01 2026-02-10", (date(2026, 1, 1), date(2026, 2, 10))),
        ("/report@helpline_bot 2026-03", (date(2026, 3, 1), date(2026, 3, 31))),
        ("2024-06 2026-05", (date(2024, 6, 1), date(2026, 5, 31))),  # 24 months
    ],
)
def test_staff_range_parsing(arg: str, expected: tuple[date, date]) -> None:
    assert parse_staff_range(arg, TODAY) == expected


@pytest.mark.parametrize(
    "arg",
    [
        "2026-13",
        "2026-1",
        "may",
        "2026-05 2026-01",
        "2026-01 2026-02 2026-03",
        "2026-02-30",
        "2024-05 2026-05",
        "20260101",
        "2026/01",
    ],
)
def test_staff_range_rejects(arg: str) -> None:
    with pytest.raises(ValueError):
        parse_staff_range(arg, TODAY)


async def test_staff_report(seeded: App, report_content: Content) -> None:
    answer = await staff_report(seeded, "2026-01 2026-05", "az", today=TODAY)
    table, _, text = answer.rpartition("\n")
    assert text == EXPECTED_TEXT_AZ
    assert table.splitlines()[1] == "Dövr: 01.01.2026 – 31.05.2026 (Bakı vaxtı)"
    assert _table_values(table) == TABLE_AZ

    this_month = await staff_report(seeded, "", "az", today=TODAY)
    assert "Dövr: 01.05.2026 – 17.05.2026 (Bakı vaxtı)" in this_month
    # 1 May .. 17 May: rows 11 and 14 (12 is 20 May)
    may = _table_values(this_month.rpartition("\n")[0])
    assert (may[("", "Müraciətlər")], may[("", "Müraciət edən şəxslər")]) == ("2", "2")
    assert this_month.rpartition("\n")[2].startswith(
        "01.05.2026–17.05.2026 tarixlərində xidmətə 2 nəfərdən 2 müraciət daxil olub."
    )

    usage = report_content.t("report.usage", "az")
    assert await staff_report(seeded, "2026-05 2026-01", "az", today=TODAY) == usage
    assert await staff_report(seeded, "yanvar", "az", today=TODAY) == usage
    assert await staff_report(seeded, "bad", "ru", today=TODAY) == report_content.t("report.usage", "ru")
    assert (await staff_report(seeded, "2026-01 2026-05", "en", today=TODAY)).startswith(
        "Azerbaijan Child Helpline (116111) — chatbot report\nPeriod: 01.01.2026 – 31.05.2026 (Baku time)"
    )


def _args(**kw) -> argparse.Namespace:
    values = dict(date_from=None, date_to=None, csv=False, text=False, chart=None, scheme="helpline")
    values.update(kw)
    return argparse.Namespace(**values)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (dict(date_from="2026-13-01"), "report: --from '2026-13-01' is not a date; use YYYY-MM-DD\n"),
        (dict(date_from="2026-02-30"), "report: --from '2026-02-30' is not a date; use YYYY-MM-DD\n"),
        (dict(date_to="31.05.2026"), "report: --to '31.05.2026' is not a date; use YYYY-MM-DD\n"),
        (
            dict(date_from="2026-06-01", date_to="2026-05-31"),
            "report: --from 2026-06-01 is after --to 2026-05-31\n",
        ),
    ],
)
async def test_cli_bad_dates_exit_2(report_app: App, capsys: pytest.CaptureFixture[str], kw, message) -> None:
    assert await run_report_command(report_app, _args(**kw)) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == message


async def test_cli_outputs(seeded: App, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    capsys.readouterr()
    assert await run_report_command(seeded, _args(date_from="2026-01-01", date_to="2026-05-31")) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0] == "Uşaq Qaynar Xətti (116111) — çat-bot hesabatı"
    assert _table_values(table) == TABLE_AZ

    assert (
        await run_report_command(
            seeded, _args(date_from="2026-01-01", date_to="2026-05-31", csv=True, scheme="chi")
        )
        == 0
    )
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["section", "code", "label", "value"]
    assert {r[1]: int(r[3]) for r in rows if r[0] == "chi_category"} == EXPECTED["by_chi"]
    assert {(r[0], r[1]): r[3] for r in rows}[("contacts", "contacts")] == "14"

    period = dict(date_from="2026-01-01", date_to="2026-05-31")
    assert await run_report_command(seeded, _args(**period, text=True)) == 0
    assert capsys.readouterr().out == EXPECTED_TEXT_AZ + "\n"

    chart = tmp_path / "chart.png"
    assert (
        await run_report_command(
            seeded, _args(date_from="2026-01-01", date_to="2026-05-31", text=True, chart=str(chart))
        )
        == 0
    )
    out, err = capsys.readouterr()
    assert out == EXPECTED_TEXT_AZ + "\n" and err == f"report: chart written to {chart}\n"
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    assert (
        await run_report_command(
            seeded,
            _args(
                date_from="2026-01-01", date_to="2026-05-31", chart=str(tmp_path / "no" / "such" / "dir.png")
            ),
        )
        == 2
    )
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("report: cannot write the chart to ")


def _run_cli(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_", "DATA_DIR"))}
    env.update(
        DATA_DIR=str(tmp_path / "data"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'data' / 'cli.db'}",
        PYTHONPATH=str(ROOT),
        LOG_LEVEL="WARNING",
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", "report", *argv],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_end_to_end(tmp_path: Path) -> None:
    bad = _run_cli(tmp_path, "--from", "2026-1-1", "--to", "2026-05-31")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == ["report: --from '2026-1-1' is not a date; use YYYY-MM-DD"]
    assert bad.stdout == ""

    ok = _run_cli(tmp_path, "--from", "2026-01-01", "--to", "2026-12-31", "--csv")
    assert ok.returncode == 0, ok.stderr
    rows = list(csv.reader(io.StringIO(ok.stdout)))
    assert rows[0] == ["section", "code", "label", "value"]
    counts = [
        r[3] for r in rows[1:] if r[0] not in ("period", "escalation") or r[1] in ("escalated", "claimed")
    ]
    assert counts and set(counts) == {"0"}
    assert len([r for r in rows if r[0] == "month"]) == 12


# ---------------------------------------------------------------------------------------------
# Content
# ---------------------------------------------------------------------------------------------


def test_report_strings_are_valid_and_complete() -> None:
    mine = ("report.az.yaml", "report.ru.yaml", "report.en.yaml", "chi_categories.yaml")
    problems = [
        e
        for e in validate_content(CONTENT_DIR) + scan_safe_messaging(CONTENT_DIR)
        if Path(e.file).name in mine
    ]
    assert problems == []
    keys = {}
    for lang in ("az", "ru", "en"):
        data = yaml.safe_load((CONTENT_DIR / "strings" / f"report.{lang}.yaml").read_text(encoding="utf-8"))
        assert all(k.startswith("report.") for k in data)
        assert all(isinstance(v, str) and v.strip() for v in data.values())
        keys[lang] = set(data)
    assert keys["az"] == keys["ru"] == keys["en"]


def test_chi_mapping_covers_the_taxonomy() -> None:
    chi = load_chi()
    taxonomy = yaml.safe_load((CONTENT_DIR / "taxonomy.yaml").read_text(encoding="utf-8"))
    assert set(chi.topics) == set(taxonomy["topics"])
    assert set(chi.categories) == {c.value for c in Category}
    names = {info["chi"] for info in chi.labels.values()}
    assert {
        "Abuse and violence",
        "Mental health",
        "Peer relationships",
        "Family relationships",
        "Sexuality and sexual awareness",
        "Physical health",
        "Education and occupation",
        "Commercial exploitation",
        "Legal matters",
        "Basic needs",
        "Discrimination and marginalisation",
        "Substance use",
        "Information about helplines/other",
    } <= names
    assert chi.classify("social", ["domestic_violence"]) == "abuse_violence"
    assert chi.classify("psychological", ["school", "suicide"]) == "mental_health"  # priority, not order
    assert chi.classify("health", ["substance_use"]) == "substance_use"
    assert chi.classify("health", ["sexual_health"]) == "sexuality"
    assert chi.classify("legal", ["child_labour"]) == "commercial_exploitation"
    assert chi.classify(None, []) == "info_other"
    assert chi.classify("legal", ["no_such_topic"]) == "legal_matters"
