"""Synthetic province-scale demands for benchmarks and load tests.

Builds on the areas, offices, categories, agencies, routing table and working
calendar that `seed_demo` loads, and writes demands with their referrals,
follow-ups, feedback and timeline rows as the services would have left them,
without going through the services (one row at a time would take hours).

Every generated demand carries an idempotency key starting with
"synthetic-", so `--reset` removes exactly these rows and what hangs off
them. Never run it against a production database.

    .venv/bin/python -m bench.generators demands --demands 500000 --open 100000 --seed 1

bench/demands.py runs it itself when its data is missing."""

import bisect
import datetime as dt
import itertools
import json
import math
import random
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.utils import timezone

from tashil.agencies.models import DemandCategory
from tashil.agencies.routing import route
from tashil.core.calendar import non_working_days
from tashil.core.text import normalize, search_key
from tashil.demands.escalation import ladder_level
from tashil.demands.models import (
    CLOCK_RUNNING_STATUSES,
    Channel,
    Demand,
    DemandEvent,
    DemandStatus,
    EventKind,
    Feedback,
    FollowUp,
    Referral,
    ReferralStatus,
    SubmitterKind,
)
from tashil.demands.tracking import CODE_ALPHABET, CODE_LENGTH, PUBLIC_ID_LENGTH, PUBLIC_ID_PREFIX
from tashil.geo.models import Area
from tashil.offices.models import Office

MARK = "synthetic-"
SERVING = (Office.Status.PILOT, Office.Status.ACTIVE)
# Dates (sent on, due, happened on) are local dates, as the services take them.
LOCAL = timezone.get_default_timezone()

# --- what residents ask for, and how they say it ----------------------------------------------

# Relative frequency of each leaf category (demo codes); others count 1.
CATEGORY_WEIGHTS = {
    "drinking-water": 10,
    "sewage": 12,
    "power-connection": 5,
    "street-lighting": 6,
    "paving": 12,
    "waste-collection": 8,
    "surface-water": 6,
    "public-spaces": 3,
    "schools": 4,
    "enrolment": 2,
    "out-of-school-children": 2,
    "health-services": 4,
    "vaccination": 1,
    "disability": 2,
    "elderly": 1.5,
    "women-children": 2,
    "addiction": 2,
    "livelihood-support": 6,
    "skills-training": 3,
    "employment-insurance": 4,
    "land-tenure": 7,
    "urban-upgrading": 3,
    "housing-repair": 4,
    "birth-certificate": 2,
    "national-id-card": 1.5,
    "floods": 2,
    "rivers-canals": 1.5,
    "inter-agency": 0.5,
    "escalation": 0.2,
}

PROBLEMS = {
    "drinking-water": [
        "آب لوله‌کشی قطع است",
        "فشار آب بسیار کم است",
        "آب شرب گل‌آلود و بدبو است",
        "لوله اصلی آب ترکیده است",
        "انشعاب آب نداریم",
    ],
    "sewage": [
        "فاضلاب در کوچه جاری است",
        "چاه فاضلاب پر شده و پس می‌زند",
        "شبکه فاضلاب به محله نرسیده",
        "منهول فاضلاب سرریز کرده است",
        "بوی فاضلاب همه جا را گرفته",
    ],
    "power-connection": [
        "انشعاب برق قانونی نداریم",
        "سیم‌کشی غیرمجاز خطر برق‌گرفتگی دارد",
        "کنتور برق نصب نشده است",
        "ولتاژ برق پایین است و وسایل می‌سوزد",
    ],
    "street-lighting": [
        "چراغ‌های کوچه خاموش است",
        "تیر چراغ برق افتاده است",
        "کوچه شب‌ها تاریک و ناامن است",
    ],
    "paving": [
        "کوچه خاکی است و آسفالت ندارد",
        "چاله‌های بزرگ در خیابان",
        "آسفالت کوچه تخریب شده است",
        "پیاده‌رو ندارد و بچه‌ها در خیابان راه می‌روند",
    ],
    "waste-collection": [
        "زباله‌ها چند روز جمع‌آوری نمی‌شود",
        "مخزن زباله نداریم",
        "نخاله ساختمانی کنار کوچه رها شده",
        "زمین خالی به محل دپوی زباله تبدیل شده",
    ],
    "surface-water": [
        "با هر بارندگی کوچه آبگرفته می‌شود",
        "آب باران وارد خانه‌ها می‌شود",
        "کانال آب‌های سطحی مسدود شده",
    ],
    "public-spaces": [
        "پارک و فضای بازی برای کودکان نداریم",
        "وسایل بازی پارک شکسته است",
        "فضای سبز محله خشک شده است",
    ],
    "schools": [
        "مدرسه محله دو شیفته و شلوغ است",
        "ساختمان مدرسه فرسوده و خطرناک است",
        "مدرسه دخترانه نزدیک نداریم",
        "کلاس‌ها سرمایش ندارد",
    ],
    "enrolment": ["فرزندمان را بدون شناسنامه ثبت‌نام نمی‌کنند", "مدرسه برای ثبت‌نام شهریه می‌خواهد"],
    "out-of-school-children": ["چند کودک محله به مدرسه نمی‌روند", "کودکان کار از تحصیل بازمانده‌اند"],
    "health-services": [
        "خانه بهداشت محله تعطیل شده",
        "پزشک خانواده نداریم",
        "داروخانه نزدیک نیست",
        "آمبولانس به محله نمی‌رسد",
    ],
    "vaccination": ["کودکان واکسن نزده‌اند", "واکسیناسیون در محله انجام نشده است"],
    "disability": ["ویلچر و وسایل کمک‌توانبخشی لازم داریم", "معلول بدون مستمری هستیم"],
    "elderly": ["سالمند تنها بدون مراقب", "سالمندان محله به مرکز روزانه نیاز دارند"],
    "women-children": ["زنان سرپرست خانوار بی‌پناه هستند", "کودکان در معرض آسیب هستند"],
    "addiction": ["محل تجمع معتادان در زمین خالی", "خانواده برای درمان اعتیاد کمک می‌خواهد"],
    "livelihood-support": [
        "خانوار بدون درآمد است",
        "سبد غذایی به ما نرسیده",
        "اجاره‌خانه چند ماه عقب افتاده",
    ],
    "skills-training": ["دوره آموزش خیاطی برای زنان محله", "آموزش مهارت فنی برای جوانان بیکار"],
    "employment-insurance": ["جوانان محله بیکار هستند", "بیمه نداریم", "وام اشتغال خانگی می‌خواهیم"],
    "land-tenure": ["خانه سند ندارد", "زمین در حریم است و سند نمی‌دهند", "تعیین تکلیف اراضی محله"],
    "urban-upgrading": ["خانه‌ها فرسوده و در خطر ریزش است", "طرح بهسازی محله اجرا نشده"],
    "housing-repair": [
        "سقف خانه در بارندگی چکه می‌کند",
        "دیوار خانه ترک برداشته",
        "خانه در سیل آسیب دیده",
    ],
    "birth-certificate": ["فرزندان شناسنامه ندارند", "ثبت ولادت انجام نشده است"],
    "national-id-card": ["کارت ملی صادر نشده", "کارت ملی هوشمند آماده نشده"],
    "floods": ["سیل‌بند کنار رودخانه شکسته است", "خانه‌های کنار رودخانه در خطر سیل هستند"],
    "rivers-canals": ["کانال آب پر از زباله و نیزار است", "دیواره کانال ریزش کرده است"],
}
GENERIC_PROBLEMS = ["مشکل محله حل نشده است", "درخواست رسیدگی به وضعیت محله"]
STREET_NAMES = [
    "امام",
    "شهید بهشتی",
    "ولیعصر",
    "فجر",
    "انقلاب",
    "بهار",
    "گلستان",
    "نرگس",
    "لاله",
    "پاسداران",
    "۲۲ بهمن",
    "شهید چمران",
    "آزادی",
    "سلمان فارسی",
    "کارون",
    "نخل",
    "زیتون",
]
PLACES = [
    "کوچه {n}",
    "خیابان {s}",
    "نزدیک مسجد {s}",
    "پشت مدرسه {s}",
    "بلوار {s}",
    "بن‌بست {n}",
    "کوچه {n} خیابان {s}",
    "روبه‌روی نانوایی",
    "ته کوچه {n}",
    "کنار ایستگاه اتوبوس",
]
DURATIONS = [
    "از {n} سال پیش",
    "{n} ماه است",
    "چند هفته است",
    "از زمستان گذشته",
    "سال‌هاست",
    "از عید تا حالا",
    "{n} روز است",
]
IMPACTS = [
    "اهالی به‌شدت در زحمت هستند",
    "کودکان در خطر هستند",
    "سالمندان نمی‌توانند رفت‌وآمد کنند",
    "چند خانوار آسیب دیده‌اند",
    "بیماری در محله زیاد شده",
    "همسایه‌ها همه شاکی هستند",
    "",
]
REQUESTS = [
    "لطفا پیگیری کنید",
    "درخواست رسیدگی فوری داریم",
    "چند بار به اداره مراجعه کردیم ولی نتیجه‌ای نگرفتیم",
    "تقاضای بازدید کارشناس داریم",
    "خواهشمندیم اقدام شود",
    "",
]
FIRST_NAMES = [
    "مریم",
    "فاطمه",
    "زهرا",
    "علی",
    "حسین",
    "عباس",
    "جاسم",
    "سعید",
    "لیلا",
    "نرگس",
    "محمد",
    "رضا",
    "عادل",
    "حمید",
    "سکینه",
    "زینب",
    "کریم",
    "هدی",
    "یوسف",
    "امنه",
]
LAST_NAMES = [
    "سواری",
    "عبیات",
    "حزباوی",
    "نیسی",
    "عساکره",
    "چعب",
    "باوی",
    "کعبی",
    "زرگانی",
    "شریفی",
    "موسوی",
    "احمدی",
    "کریمی",
    "بیت‌سیاح",
    "طرفی",
    "حیدری",
    "مزرعه",
    "نواصری",
]
REJECT_REASONS = [
    "درخواست خارج از محدوده دفتر است",
    "درخواست تکراری است",
    "موضوع مطالبه محلی نیست",
    "اطلاعات کافی ارائه نشد",
]
NOT_FEASIBLE_REASONS = [
    "اعتبار لازم در سال جاری وجود ندارد",
    "محل در حریم رودخانه است",
    "با طرح جامع شهر مغایرت دارد",
]
ANSWERS = [
    "در برنامه اجرایی امسال قرار گرفت",
    "کارشناس برای بازدید اعزام شد",
    "عملیات اجرایی آغاز شده است",
    "پس از تأمین اعتبار انجام می‌شود",
    "کار انجام و تحویل شد",
]
FOLLOW_UP_NOTES = [
    "با رابط اداره تماس گرفته شد",
    "نامه پیگیری ارسال شد",
    "در جلسه شورای محله مطرح شد",
    "بازدید میدانی انجام شد",
    "",
]

# Shares of each state (they need not sum to one).
OPEN_MIX = {
    DemandStatus.NEW: 0.10,
    DemandStatus.NEEDS_INFO: 0.03,
    DemandStatus.ACCEPTED: 0.15,
    DemandStatus.REFERRED: 0.72,
}
CLOSED_MIX = {
    DemandStatus.RESOLVED: 0.48,
    DemandStatus.PARTLY_RESOLVED: 0.13,
    DemandStatus.NOT_FEASIBLE: 0.10,
    DemandStatus.REJECTED: 0.22,
    DemandStatus.MERGED: 0.07,
}
CHANNEL_MIX = {
    Channel.WALK_IN: 0.40,
    Channel.PHONE: 0.15,
    Channel.MEETING: 0.10,
    Channel.PUBLIC_WEB: 0.25,
    Channel.API: 0.03,
    Channel.OPEN311: 0.07,
}
# Where no office works yet, only the public paths reach anyone.
PUBLIC_CHANNEL_MIX = {Channel.PUBLIC_WEB: 0.75, Channel.API: 0.05, Channel.OPEN311: 0.20}
OPEN_REFERRAL_MIX = {
    ReferralStatus.SENT: 0.30,
    ReferralStatus.RECEIVED: 0.20,
    ReferralStatus.IN_PROGRESS: 0.35,
    ReferralStatus.ANSWERED: 0.15,
}

_TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_TO_ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def typed(rng: random.Random, text: str) -> str:
    """The text as residents and staff type it: Arabic ي/ك from some keyboards,
    Persian, Arabic-Indic or ASCII digits, and ZWNJ, a space or nothing in
    compound words."""
    if rng.random() < 0.15:
        text = text.replace("ی", "ي").replace("ک", "ك")
    roll = rng.random()
    if roll < 0.45:
        text = text.translate(_TO_PERSIAN)
    elif roll < 0.55:
        text = text.translate(_TO_ARABIC)
    return spaced(rng, text)


def spaced(rng: random.Random, text: str) -> str:
    """ZWNJ, a space or nothing between the parts of compound words: the one
    variant that survives normalisation into stored text."""
    roll = rng.random()
    if roll < 0.25:
        return text.replace("\u200c", " ")
    if roll < 0.35:
        return text.replace("\u200c", "")
    return text


def pick(rng: random.Random, mix: dict):
    return rng.choices(list(mix), weights=list(mix.values()))[0]


# --- the province's working calendar, in memory ------------------------------------------------


class WorkingDays:
    """Working days of one province over the generated period, so due dates
    and lateness cost no queries per row (same rules as core.calendar)."""

    def __init__(self, province_id: int, start: dt.date, end: dt.date):
        off = non_working_days(start, end, province_id)
        every_day = (start + dt.timedelta(days=i) for i in range((end - start).days + 1))
        self.days = [day for day in every_day if day not in off]

    def add(self, day: dt.date, n: int) -> dt.date:
        index = bisect.bisect_right(self.days, day) + max(n, 1) - 1
        return self.days[min(index, len(self.days) - 1)]

    def between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]."""
        return bisect.bisect_right(self.days, end) - bisect.bisect_right(self.days, start)


# --- ids and rows ---------------------------------------------------------------------------------


class Ids:
    """Primary keys handed out before the rows are written, so a referral and
    the timeline can point at their demand within one batch (COPY returns no
    ids). On PostgreSQL they come from the table's own sequence."""

    def __init__(self, model, chunk: int):
        self.model, self.chunk, self.free = model, chunk, []
        self.next_local = None

    def take(self) -> int:
        if not self.free:
            self.free = self._reserve(self.chunk)
            self.free.reverse()
        return self.free.pop()

    def _reserve(self, count: int) -> list[int]:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [self.model._meta.db_table, count],
                )
                return [row[0] for row in cursor.fetchall()]
        if self.next_local is None:
            self.next_local = (self.model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1
        start, self.next_local = self.next_local, self.next_local + count
        return list(range(start, start + count))


class Table:
    """Rows of one model as plain dicts, written in bulk: COPY on PostgreSQL,
    batched multi-row INSERTs elsewhere. Columns a row leaves out get the
    field's default, so a field added to the model later does not break the
    generator."""

    def __init__(self, model, *, with_id: bool):
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if with_id or not f.primary_key]
        self.defaults = {f.attname: f.get_default() for f in self.fields}
        self.rows: list[dict] = []

    def add(self, **row) -> dict:
        self.rows.append(row)
        return row

    def flush(self, use_copy: bool, batch: int) -> int:
        rows, self.rows = self.rows, []
        if not rows:
            return 0
        names = [f.attname for f in self.fields]
        defaults = self.defaults
        quote = connection.ops.quote_name
        table, columns = (
            quote(self.model._meta.db_table),
            ", ".join(quote(f.column) for f in self.fields),
        )
        json_columns = {i for i, f in enumerate(self.fields) if isinstance(f, models.JSONField)}
        if use_copy:
            with (
                connection.cursor() as cursor,
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for row in rows:
                    values = [row[name] if name in row else defaults[name] for name in names]
                    for i in json_columns:
                        values[i] = json.dumps(values[i], ensure_ascii=False)
                    copy.write_row(values)
            return len(rows)
        db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: the proxy costs a lookup per value
        prepared = []
        for row in rows:
            values = []
            for f in self.fields:
                value = row[f.attname] if f.attname in row else defaults[f.attname]
                values.append(f.get_db_prep_save(value, db))
            prepared.append(values)
        per_statement = max(
            1, min(batch, 900 // len(self.fields))
        )  # SQLite's bound-parameter limit
        placeholders = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
        with connection.cursor() as cursor:
            for start in range(0, len(prepared), per_statement):
                chunk = prepared[start : start + per_statement]
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) VALUES {', '.join([placeholders] * len(chunk))}",
                    [v for values in chunk for v in values],
                )
        return len(rows)


# --- one generated demand ----------------------------------------------------------------------


@dataclass
class Place:
    area: Area
    province_id: int
    office_id: int | None
    points: list
    weight: float = 1.0


def random_points(boundary: dict, rng: random.Random, count: int) -> list[tuple[float, float]]:
    """(latitude, longitude) points uniformly inside the neighbourhood's polygon."""
    import numpy as np
    import shapely
    from shapely.geometry import shape

    geometry = shape(boundary)
    minx, miny, maxx, maxy = geometry.bounds
    np_rng = np.random.default_rng(rng.randrange(2**32))
    points: list[tuple[float, float]] = []
    for _ in range(50):
        xs = np_rng.uniform(minx, maxx, count * 2)
        ys = np_rng.uniform(miny, maxy, count * 2)
        inside = shapely.contains_xy(geometry, xs, ys)
        points.extend(
            (round(float(y), 6), round(float(x), 6))
            for x, y in zip(xs[inside], ys[inside], strict=True)
        )
        if len(points) >= count:
            break
    return points[:count]


# A referral's steps from "sent" to where it ended.
REFERRAL_PATHS = {
    ReferralStatus.SENT: [],
    ReferralStatus.RECEIVED: [ReferralStatus.RECEIVED],
    ReferralStatus.IN_PROGRESS: [ReferralStatus.RECEIVED, ReferralStatus.IN_PROGRESS],
    ReferralStatus.ANSWERED: [ReferralStatus.RECEIVED, ReferralStatus.ANSWERED],
    ReferralStatus.DONE: [ReferralStatus.RECEIVED, ReferralStatus.IN_PROGRESS, ReferralStatus.DONE],
    ReferralStatus.REJECTED: [ReferralStatus.REJECTED],
    ReferralStatus.NOT_RESPONSIBLE: [ReferralStatus.NOT_RESPONSIBLE],
}
CLOSING_NOTES = {
    DemandStatus.RESOLVED: "کار انجام شد و اهالی تأیید کردند",
    DemandStatus.PARTLY_RESOLVED: "بخشی از کار انجام شد",
}


class Generator:
    def __init__(
        self, *, rng, places, categories, calendars, now, events_per_demand, existing_codes, chunk
    ):
        self.rng = rng
        self.places = places
        self.place_weights = list(itertools.accumulate(p.weight for p in places))
        self.categories = categories
        self.category_weights = list(
            itertools.accumulate(CATEGORY_WEIGHTS.get(c.code, 1.0) for c in categories)
        )
        self.calendars = calendars
        self.now = now
        self.today = now.astimezone(LOCAL).date()
        self.extra_events = max(events_per_demand - 1.0, 0.0)
        self.owed = 0.0
        self.codes = existing_codes
        # Public ids share the set: a code (8) and a public id (10) never clash.
        self.routes: dict = {}
        self.ladder = settings.ESCALATION_LADDER
        self.at_risk_fraction = settings.SLA_AT_RISK_FRACTION
        # The latest open demand per (category, area): later duplicates are merged into it.
        self.merge_targets: dict = {}
        self.demand_ids = Ids(Demand, chunk)
        self.referral_ids = Ids(Referral, chunk)
        self.demands = Table(Demand, with_id=True)
        self.referrals = Table(Referral, with_id=True)
        self.events = Table(DemandEvent, with_id=False)
        self.follow_ups = Table(FollowUp, with_id=False)
        self.feedback = Table(Feedback, with_id=False)

    def tables(self):
        # Parents before children.
        return [self.demands, self.referrals, self.events, self.follow_ups, self.feedback]

    # helpers

    def code(self) -> str:
        while True:
            code = "".join(self.rng.choices(CODE_ALPHABET, k=CODE_LENGTH))
            if code not in self.codes:
                self.codes.add(code)
                return code

    def public_id(self) -> str:
        while True:
            public_id = PUBLIC_ID_PREFIX + "".join(
                self.rng.choices(CODE_ALPHABET, k=PUBLIC_ID_LENGTH - len(PUBLIC_ID_PREFIX))
            )
            if public_id not in self.codes:
                self.codes.add(public_id)
                return public_id

    def agency_for(self, category, area):
        key = (category.pk, area.pk)
        if key not in self.routes:
            self.routes[key] = route(category=category, area=area)
        return self.routes[key]

    def later(self, at: dt.datetime, min_days: float, max_days: float) -> dt.datetime:
        moment = at + dt.timedelta(days=self.rng.uniform(min_days, max_days))
        # Never in the future, never before the previous step.
        return max(at, min(moment, self.now - dt.timedelta(seconds=self.rng.randint(60, 3600))))

    def text(self, category) -> tuple[str, str]:
        rng = self.rng
        problem = rng.choice(PROBLEMS.get(category.code, GENERIC_PROBLEMS))
        place = rng.choice(PLACES).format(n=rng.randint(1, 60), s=rng.choice(STREET_NAMES))
        duration = rng.choice(DURATIONS).format(n=rng.randint(2, 9))
        parts = [f"{problem} {place} {duration}.", rng.choice(IMPACTS), rng.choice(REQUESTS)]
        # Stored as the services store it: normalised, so only the spacing of
        # compound words differs from one typist to the next.
        description = normalize(spaced(rng, " ".join(p for p in parts if p)))
        title = normalize(spaced(rng, f"{problem} {place}"))[:200]
        return title, description

    def target_level(self, referral: dict, province_id: int) -> int:
        """escalation.target_level on the in-memory calendar."""
        return ladder_level(
            status=referral["status"],
            at_risk_date=referral["at_risk_date"],
            due_date=referral["due_date"],
            today=self.today,
            working_days_between=self.calendars[province_id].between,
        )

    # the demand

    def demand(self, submitted_at: dt.datetime, is_open: bool, key: str) -> None:
        rng = self.rng
        place = rng.choices(self.places, cum_weights=self.place_weights)[0]
        category = rng.choices(self.categories, cum_weights=self.category_weights)[0]
        channel = pick(rng, CHANNEL_MIX if place.office_id else PUBLIC_CHANNEL_MIX)
        status = pick(rng, OPEN_MIX if is_open else CLOSED_MIX)
        if (
            is_open
            and status in (DemandStatus.NEW, DemandStatus.NEEDS_INFO)
            and (self.now - submitted_at).days > 45
        ):
            # Nobody leaves a demand untriaged for months.
            status = DemandStatus.REFERRED if rng.random() < 0.8 else DemandStatus.ACCEPTED
        title, description = self.text(category)
        lat, lng = (
            rng.choice(place.points) if place.points and rng.random() < 0.75 else (None, None)
        )
        has_mobile = rng.random() < (0.8 if channel == Channel.PUBLIC_WEB else 0.55)
        staff_channel = channel in (Channel.WALK_IN, Channel.PHONE, Channel.MEETING)
        name = (
            f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            if staff_channel or rng.random() < 0.3
            else ""
        )
        pk = self.demand_ids.take()
        demand = self.demands.add(
            id=pk,
            code=self.code(),
            public_id=self.public_id(),
            # Open311 lists what residents sent themselves, as demand_submit does.
            is_listed=channel in (Channel.PUBLIC_WEB, Channel.OPEN311),
            province_id=place.province_id,
            office_id=place.office_id,
            area_id=place.area.pk,
            category_id=category.pk,
            title=title,
            description=description,
            search_key=search_key(f"{title} {description}"),
            latitude=lat,
            longitude=lng,
            channel=channel,
            submitter_kind=SubmitterKind.RESIDENT
            if rng.random() < 0.85
            else rng.choice((SubmitterKind.GROUP, SubmitterKind.GROUP, SubmitterKind.MEETING)),
            submitter_name=name,
            submitter_mobile=f"+98912{rng.randint(0, 9_999_999):07d}" if has_mobile else "",
            contact_consent=rng.random() < 0.4,
            status=status,
            merged_into_id=None,
            supporters_count=1,
            status_reason="",
            submitted_at=submitted_at,
            closed_at=None,
            next_due_date=None,
            created_by_id=None,
            idempotency_key=key,
            version=1,
            created_at=submitted_at,
            updated_at=submitted_at,
        )
        events = [
            self.event(
                pk,
                EventKind.SUBMITTED,
                submitted_at,
                to_status=DemandStatus.NEW,
                data={"channel": channel},
            )
        ]
        state = {"status": DemandStatus.NEW, "at": submitted_at}

        def move(to_status, *, reason=""):
            events.append(
                self.event(
                    pk,
                    EventKind.STATUS,
                    state["at"],
                    from_status=state["status"],
                    to_status=to_status,
                    note=reason,
                    public_note=reason,
                )
            )
            state["status"] = to_status

        def step(min_days, max_days):
            state["at"] = self.later(state["at"], min_days, max_days)
            return state["at"]

        if status == DemandStatus.NEEDS_INFO:
            step(0.1, 5)
            demand["status_reason"] = "نشانی دقیق و تصویر محل را بفرستید"
            move(status, reason=demand["status_reason"])
        elif status in (DemandStatus.REJECTED, DemandStatus.MERGED):
            demand["closed_at"] = step(0.1, 10)
            target = self.merge_targets.get((category.pk, place.area.pk))
            if status == DemandStatus.MERGED and target is not None:
                demand["merged_into_id"] = target
                move(status)
            else:
                demand["status"] = status = DemandStatus.REJECTED
                demand["status_reason"] = rng.choice(REJECT_REASONS)
                move(status, reason=demand["status_reason"])
        elif status != DemandStatus.NEW:
            step(0.1, 12)
            move(DemandStatus.ACCEPTED)
            if status != DemandStatus.ACCEPTED:
                first = len(self.referrals.rows)
                referred = self.refer(pk, events, place, category, state, status, move, step)
                # What services.sync_next_due_date would have left on the demand.
                demand["next_due_date"] = min(
                    (
                        r["due_date"]
                        for r in self.referrals.rows[first:]
                        if r["status"] in CLOCK_RUNNING_STATUSES
                    ),
                    default=None,
                )
                if status == DemandStatus.REFERRED and not referred:
                    demand["status"] = status = DemandStatus.ACCEPTED  # no agency is routed for it
        if status in (
            DemandStatus.RESOLVED,
            DemandStatus.PARTLY_RESOLVED,
            DemandStatus.NOT_FEASIBLE,
        ):
            demand["closed_at"] = step(1, 60)
            demand["status_reason"] = CLOSING_NOTES.get(status) or rng.choice(NOT_FEASIBLE_REASONS)
            move(status, reason=demand["status_reason"])
            if demand["submitter_mobile"] and rng.random() < 0.35:
                satisfied = rng.random() < 0.7
                event = self.event(
                    pk, EventKind.FEEDBACK, step(0.5, 10), data={"satisfied": satisfied}
                )
                event["_feedback"] = {
                    "demand_id": pk,
                    "satisfied": satisfied,
                    "comment": "",
                    "created_at": state["at"],
                }
                events.append(event)
        demand["updated_at"] = state["at"]
        if status in (DemandStatus.NEW, DemandStatus.ACCEPTED, DemandStatus.REFERRED):
            self.merge_targets[(category.pk, place.area.pk)] = pk
        for event in self.trim(events):
            follow_up, feedback = event.pop("_follow_up", None), event.pop("_feedback", None)
            self.events.rows.append(event)
            if follow_up:
                self.follow_ups.rows.append(follow_up)
            if feedback:
                self.feedback.rows.append(feedback)

    @staticmethod
    def event(
        demand_id,
        kind,
        at,
        *,
        referral_id=None,
        from_status="",
        to_status="",
        note="",
        public_note="",
        is_public=True,
        data=None,
    ) -> dict:
        return {
            "demand_id": demand_id,
            "referral_id": referral_id,
            "kind": kind,
            "at": at,
            "actor_id": None,
            "from_status": from_status,
            "to_status": to_status,
            "note": note,
            "public_note": public_note,
            "is_public": is_public,
            "data": data or {},
        }

    def refer(self, demand_id, events, place, category, state, status, move, step) -> bool:
        rng = self.rng
        agency = self.agency_for(category, place.area)
        if agency is None:
            return False
        if status == DemandStatus.REFERRED:
            finals = [pick(rng, OPEN_REFERRAL_MIX)]
            if rng.random() < 0.12:  # a first agency said it was not theirs
                finals.insert(
                    0,
                    rng.choice(
                        (
                            ReferralStatus.NOT_RESPONSIBLE,
                            ReferralStatus.NOT_RESPONSIBLE,
                            ReferralStatus.REJECTED,
                        )
                    ),
                )
        elif rng.random() < 0.12:
            return False  # closed by the office without a referral
        else:
            finals = [
                {
                    DemandStatus.RESOLVED: ReferralStatus.DONE,
                    DemandStatus.PARTLY_RESOLVED: rng.choice(
                        (ReferralStatus.DONE, ReferralStatus.ANSWERED)
                    ),
                    DemandStatus.NOT_FEASIBLE: rng.choice(
                        (ReferralStatus.REJECTED, ReferralStatus.REJECTED, ReferralStatus.ANSWERED)
                    ),
                }[status]
            ]
        calendar = self.calendars[place.province_id]
        days = category.sla_working_days
        at_risk_days = max(1, math.floor(days * self.at_risk_fraction))
        for n, final in enumerate(finals):
            at = step(0.1, 7)
            sent_on = at.astimezone(LOCAL).date()
            pk = self.referral_ids.take()
            referral = self.referrals.add(
                id=pk,
                demand_id=demand_id,
                agency_id=agency.pk,
                status=final,
                letter_number=f"{rng.randint(100, 9999)}/{rng.randint(1, 99)}/ت",
                letter_date=sent_on,
                sent_on=sent_on,
                due_date=calendar.add(sent_on, days),
                at_risk_date=calendar.add(sent_on, at_risk_days),
                note="",
                answer="",
                expected_date=None,
                status_reason="",
                answered_at=None,
                closed_at=None,
                escalation_level=0,
                last_escalated_at=None,
                created_by_id=None,
                version=1,
                created_at=at,
                updated_at=at,
            )
            events.append(
                self.event(
                    demand_id,
                    EventKind.REFERRED,
                    at,
                    referral_id=pk,
                    to_status=ReferralStatus.SENT,
                    data={
                        "agency": agency.code,
                        "due_date": referral["due_date"].isoformat(),
                        "letter_number": referral["letter_number"],
                    },
                )
            )
            if n == 0:
                move(DemandStatus.REFERRED)
            previous = ReferralStatus.SENT
            for to_status in REFERRAL_PATHS[final]:
                at = step(0.5, 20)
                note = ""
                if to_status == ReferralStatus.ANSWERED:
                    note = referral["answer"] = rng.choice(ANSWERS)
                    referral["answered_at"] = at
                elif to_status in (ReferralStatus.REJECTED, ReferralStatus.NOT_RESPONSIBLE):
                    note = referral["status_reason"] = "این موضوع در حوزه وظایف اداره دیگری است"
                if to_status in (
                    ReferralStatus.DONE,
                    ReferralStatus.REJECTED,
                    ReferralStatus.NOT_RESPONSIBLE,
                ):
                    referral["closed_at"] = at
                events.append(
                    self.event(
                        demand_id,
                        EventKind.REFERRAL_STATUS,
                        at,
                        referral_id=pk,
                        from_status=previous,
                        to_status=to_status,
                        note=note,
                        data={"agency": agency.code, "expected_date": None},
                    )
                )
                previous = to_status
            for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
                at = step(1, 15)
                kind, outcome = (
                    rng.choice(FollowUp.Kind.values),
                    rng.choice(FollowUp.Outcome.values),
                )
                note = rng.choice(FOLLOW_UP_NOTES)
                event = self.event(
                    demand_id,
                    EventKind.FOLLOW_UP,
                    at,
                    referral_id=pk,
                    note=note,
                    data={"kind": kind, "outcome": outcome, "agency": agency.code},
                )
                # Written only if its timeline row survives the trim.
                event["_follow_up"] = {
                    "referral_id": pk,
                    "kind": kind,
                    "outcome": outcome,
                    "note": note,
                    "happened_on": at.astimezone(LOCAL).date(),
                    "actor_id": None,
                    "created_at": at,
                }
                events.append(event)
            referral["updated_at"] = at
            # As if the escalation job had run every day: the rungs reached by today are recorded.
            level = self.target_level(referral, place.province_id)
            for rung_level in range(1, level + 1):
                rung, threshold = self.ladder[rung_level - 1]
                day = (
                    referral["at_risk_date"]
                    if rung_level == 1
                    else calendar.add(referral["due_date"], max(threshold, 1))
                )
                moment = min(dt.datetime.combine(day, dt.time(6, 0), tzinfo=LOCAL), self.now)
                referral["escalation_level"], referral["last_escalated_at"] = rung_level, moment
                events.append(
                    self.event(
                        demand_id,
                        EventKind.ESCALATED,
                        moment,
                        referral_id=pk,
                        is_public=rung_level >= 3,
                        data={
                            "level": rung_level,
                            "rung": rung,
                            "agency": agency.code,
                            "due_date": referral["due_date"].isoformat(),
                            "notified": [],
                        },
                    )
                )
        return True

    def trim(self, events: list) -> list:
        """Keep the submission and, on average, `events_per_demand - 1` more
        rows per demand, always including the latest: the budget sets the
        size of the timeline table, not every step of every demand."""
        events.sort(key=lambda e: e["at"])
        self.owed += self.extra_events
        room = len(events) - 1
        # Anywhere from none to twice what is owed, so timelines vary in
        # length; what one demand does not use, a later one makes up.
        keep = min(room, self.rng.randint(0, max(0, int(2 * self.owed))))
        self.owed -= keep
        if keep >= room:
            return events
        middle = sorted(self.rng.sample(range(1, len(events) - 1), keep - 1)) if keep > 1 else []
        return [events[0], *(events[i] for i in middle), *([events[-1]] if keep else [])]


# --- removing what was generated ----------------------------------------------------------------


def reset(stdout) -> int:
    """Delete generated demands and everything that hangs off them."""
    synthetic = f"SELECT id FROM {Demand._meta.db_table} WHERE idempotency_key LIKE %s"
    like = [f"{MARK}%"]
    referral_ids = f"SELECT id FROM {Referral._meta.db_table} WHERE demand_id IN ({synthetic})"
    with transaction.atomic(), connection.cursor() as cursor:
        for parent, ids_sql in ((Referral, referral_ids), (Demand, synthetic)):
            for rel in parent._meta.related_objects:
                if parent is Demand and rel.related_model in (Demand, Referral):
                    continue  # referrals and merged_into are handled below
                table, column = rel.related_model._meta.db_table, rel.field.column
                where = f"{column} IN ({ids_sql})"
                if rel.on_delete is models.CASCADE:
                    cursor.execute(f"DELETE FROM {table} WHERE {where}", like)
                elif rel.on_delete is models.SET_NULL:
                    cursor.execute(f"UPDATE {table} SET {column} = NULL WHERE {where}", like)
                else:
                    cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", like)
                    if cursor.fetchone()[0]:
                        raise CommandError(
                            f"{table} still refers to generated rows; remove those first."
                        )
        cursor.execute(
            f"DELETE FROM {Referral._meta.db_table} WHERE demand_id IN ({synthetic})", like
        )
        cursor.execute(
            f"UPDATE {Demand._meta.db_table} SET merged_into_id = NULL WHERE merged_into_id IN ({synthetic}) "
            f"AND (idempotency_key IS NULL OR idempotency_key NOT LIKE %s)",
            like * 2,
        )
        cursor.execute(f"DELETE FROM {Demand._meta.db_table} WHERE idempotency_key LIKE %s", like)
        deleted = cursor.rowcount
    stdout.write(f"removed {deleted} generated demands and their rows")
    return deleted


# --- the command ----------------------------------------------------------------------------------


class Command(BaseCommand):
    help = (
        "Generate synthetic province-scale demands (with referrals, follow-ups, feedback and timeline rows) "
        "on top of the seed_demo data, for benchmarks. Rows are marked 'synthetic-' and --reset removes them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--demands", type=int, default=500_000, help="How many demands (default 500000)."
        )
        parser.add_argument(
            "--open",
            type=int,
            default=None,
            help="How many of them are open (default one in five).",
        )
        parser.add_argument(
            "--events-per-demand",
            type=float,
            default=2.0,
            help="Timeline rows per demand on average (default 2).",
        )
        parser.add_argument(
            "--years", type=float, default=6.0, help="Period the demands span (default 6 years)."
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed; the same seed gives the same data."
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=5000,
            help="Demands written per transaction (default 5000).",
        )
        parser.add_argument(
            "--reset", action="store_true", help="Remove previously generated rows first."
        )
        parser.add_argument(
            "--no-copy", action="store_true", help="On PostgreSQL, use INSERTs instead of COPY."
        )

    def handle(self, *args, **options):
        total, batch = options["demands"], max(1, options["batch"])
        open_count = options["open"] if options["open"] is not None else total // 5
        if total < 0 or not 0 <= open_count <= total:
            raise CommandError("--open must be between 0 and --demands.")
        if options["events_per_demand"] < 1:
            raise CommandError("--events-per-demand must be at least 1 (the submission itself).")
        started = time.monotonic()
        if options["reset"]:
            reset(self.stdout)
        existing = Demand.objects.filter(idempotency_key__startswith=MARK).count()
        if existing:
            raise CommandError(
                f"{existing} generated demands already exist; add --reset to replace them."
            )
        places = self.places()
        categories = list(
            DemandCategory.objects.filter(is_active=True, children__isnull=True).order_by("pk")
        )
        if not places or not categories:
            raise CommandError("No neighbourhoods or categories: run `manage.py seed_demo` first.")

        rng = random.Random(options["seed"])
        now = timezone.now()
        start = now - dt.timedelta(days=365.25 * options["years"])
        calendar_span = (start.date() - dt.timedelta(days=7), now.date() + dt.timedelta(days=400))
        calendars = {
            pid: WorkingDays(pid, *calendar_span) for pid in {p.province_id for p in places}
        }
        generator = Generator(
            rng=rng,
            places=places,
            categories=categories,
            calendars=calendars,
            now=now,
            events_per_demand=options["events_per_demand"],
            existing_codes={
                *Demand.objects.values_list("code", flat=True),
                *Demand.objects.values_list("public_id", flat=True),
            },
            chunk=max(batch, 1000),
        )
        moments = self.moments(rng, total, start, now)
        open_flags = self.open_flags(rng, moments, open_count, start, now)
        use_copy = connection.vendor == "postgresql" and not options["no_copy"]
        counts = dict.fromkeys(
            ("demands", "referrals", "timeline rows", "follow-ups", "feedback"), 0
        )
        for first in range(0, total, batch):
            for i in range(first, min(first + batch, total)):
                generator.demand(moments[i], open_flags[i], f"{MARK}{options['seed']}-{i}")
            with transaction.atomic():
                for label, table in zip(counts, generator.tables(), strict=True):
                    counts[label] += table.flush(use_copy, batch)
            if options["verbosity"] >= 2 or (
                options["verbosity"] >= 1 and (first // batch) % 20 == 19
            ):
                self.stdout.write(
                    f"  {counts['demands']:>8} demands  {time.monotonic() - started:6.1f} s"
                )
        # Fresh planner statistics, so the first queries after a bulk load do
        # not plan for empty tables; on PostgreSQL VACUUM also sets the
        # visibility map, without which counts cannot be answered from an index.
        vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
        command = "VACUUM ANALYZE" if vacuum else "ANALYZE"
        with connection.cursor() as cursor:
            for table in generator.tables():
                cursor.execute(f"{command} {connection.ops.quote_name(table.model._meta.db_table)}")
        open_now = Demand.objects.filter(
            idempotency_key__startswith=MARK, status__in=list(OPEN_MIX)
        ).count()
        self.stdout.write(
            self.style.SUCCESS(
                ", ".join(f"{v} {k}" for k, v in counts.items())
                + f" ({open_now} open) in {time.monotonic() - started:.1f} s"
                + (" with COPY" if use_copy else "")
            )
        )

    def places(self) -> list[Place]:
        offices = {}
        for office in (
            Office.objects.filter(status__in=SERVING)
            .order_by("opened_on", "pk")
            .prefetch_related("areas")
        ):
            for area in office.areas.all():
                offices.setdefault(area.pk, office.pk)
        provinces = dict(Area.objects.filter(level=Area.Level.PROVINCE).values_list("code", "pk"))
        rng = random.Random(0)
        result = []
        for area in Area.objects.filter(level=Area.Level.NEIGHBOURHOOD).order_by("path"):
            province_id = provinces.get(area.path.split("/", 1)[0])
            if province_id is None:
                continue
            size = area.households or (area.population or 0) / 5 or math.exp(rng.gauss(6.5, 0.6))
            office_id = offices.get(area.pk)
            result.append(
                Place(
                    area=area,
                    province_id=province_id,
                    office_id=office_id,
                    points=random_points(area.boundary, rng, 2000) if area.boundary else [],
                    # Residents come to an office that is open; elsewhere only the public form reaches them.
                    weight=size * (1.0 if office_id else 0.15),
                )
            )
        return result

    @staticmethod
    def moments(rng, total, start, now) -> list[dt.datetime]:
        """Submission times in order: more in recent years as offices opened,
        mostly in office hours."""
        span = (now - start).total_seconds()
        a = 1 / 3  # the rate six years ago, relative to today's
        hours, hour_weights = (
            (8, 9, 10, 11, 12, 13, 14, 17, 20, 22),
            list(itertools.accumulate((8, 12, 12, 11, 9, 7, 4, 3, 3, 1))),
        )
        latest = now - dt.timedelta(minutes=5)
        moments = []
        for _ in range(total):
            # Inverse of the distribution whose density grows linearly from a to 1.
            t = (-a + math.sqrt(a * a + (1 - a * a) * rng.random())) / (1 - a)
            local = (start + dt.timedelta(seconds=t * span)).astimezone(LOCAL)
            hour = rng.choices(hours, cum_weights=hour_weights)[0]
            local = local.replace(hour=hour, minute=rng.randint(0, 59), second=rng.randint(0, 59))
            moments.append(min(local.astimezone(dt.UTC), latest))
        moments.sort()
        return moments

    @staticmethod
    def open_flags(rng, moments, open_count, start, now) -> list[bool]:
        """Which demands are still open: mostly recent ones, with a tail of
        demands that have waited for years."""
        span = (now - start).total_seconds() or 1
        scores = [((m - start).total_seconds() / span) + rng.expovariate(1 / 0.12) for m in moments]
        chosen = set(sorted(range(len(moments)), key=scores.__getitem__, reverse=True)[:open_count])
        return [i in chosen for i in range(len(moments))]
