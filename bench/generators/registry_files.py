"""Write a synthetic household registry as XLSX and CSV, in the import
layout (one row per person, household columns on every row), for the import
benchmark and for trying imports by hand.

    .venv/bin/python -m bench.generators registry_files --households 50000 --persons 200000 --out var/bench/
    .venv/bin/python -m bench.generators registry_files --rows 1000000 --out var/bench/    # 1M persons

Everything is made up: valid-looking national codes and mobiles that belong
to nobody, names from common Persian first and last names.
"""

import csv
import datetime as dt
import random
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tashil.core import jalali

FEMALE = [
    "مریم",
    "زهرا",
    "فاطمه",
    "سکینه",
    "معصومه",
    "زینب",
    "لیلا",
    "نرگس",
    "رقیه",
    "سمیه",
    "خدیجه",
    "الهام",
    "مینا",
    "شیرین",
    "کبری",
    "صغری",
    "طاهره",
    "نسرین",
    "پروین",
    "حمیده",
]
MALE = [
    "محمد",
    "علی",
    "حسین",
    "رضا",
    "عباس",
    "حسن",
    "مهدی",
    "جواد",
    "احمد",
    "قاسم",
    "کریم",
    "جاسم",
    "عادل",
    "فاضل",
    "سعید",
    "مجید",
    "ناصر",
    "یوسف",
    "عبدالله",
    "هادی",
]
LAST = [
    "احمدی",
    "کریمی",
    "موسوی",
    "حسینی",
    "سواری",
    "عساکره",
    "چنانی",
    "بهبهانی",
    "نیسی",
    "حیدری",
    "کعبی",
    "عبیاوی",
    "شریفی",
    "رضایی",
    "جعفری",
    "باوی",
    "سلامات",
    "زرگانی",
    "منصوری",
    "طرفی",
    "مکوندی",
    "نصاری",
    "خلفی",
    "ساکی",
    "عامری",
    "بختیاری",
    "لرکی",
    "دشتی",
    "قنواتی",
    "زهیری",
]
HEADER = [
    "شناسه خانوار",
    "محله",
    "نشانی",
    "عرض جغرافیایی",
    "طول جغرافیایی",
    "نوع مسکن",
    "وضعیت تصرف",
    "آب",
    "برق",
    "فاضلاب",
    "گاز",
    "منبع اصلی درآمد",
    "کمیته امداد",
    "بهزیستی",
    "کد ملی",
    "نام",
    "نام خانوادگی",
    "نام پدر",
    "نسبت با سرپرست",
    "جنسیت",
    "تاریخ تولد",
    "تابعیت",
    "موبایل",
    "وضعیت تاهل",
    "تحصیلات",
    "در حال تحصیل",
    "وضعیت اشتغال",
    "معلولیت",
    "بیماری مزمن",
    "بیمه درمانی",
]


def _code(n: int) -> str:
    """A national code with a valid check digit from a nine-digit number."""
    body = f"{n:09d}"
    remainder = sum(int(d) * (10 - i) for i, d in enumerate(body)) % 11
    return body + str(remainder if remainder < 2 else 11 - remainder)


def _pick(rnd, weighted):
    return rnd.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


class Generator:
    def __init__(
        self, *, households: int, persons: int, seed: int, neighbourhood: str, bbox, year: int
    ):
        self.households = households
        self.persons = persons
        self.rnd = random.Random(seed)
        self.neighbourhood = neighbourhood
        self.bbox = bbox
        self.year = year
        self.today = jalali.today()
        # National codes: a shuffled-looking but collision-free sequence.
        self.next_code = 100_000_000 + self.rnd.randrange(1_000_000)
        self.mobile_base = 1_000_000 + self.rnd.randrange(1_000_000)

    def _birth(self, age):
        rnd = self.rnd
        born = self.today - dt.timedelta(days=int(age * 365.25) + rnd.randrange(365))
        j = jalali.to_jalali(born)
        if rnd.random() < 0.15:
            return str(j.year)
        return f"{j.year}/{j.month:02d}/{j.day:02d}"

    def rows(self):
        rnd = self.rnd
        sizes = self._sizes()
        lat0, lng0, lat1, lng1 = self.bbox
        for h, size in enumerate(sizes):
            hh_id = f"HH-{h + 1:07d}"
            last = rnd.choice(LAST)
            informal = rnd.random() < 0.3
            household = [
                hh_id,
                self.neighbourhood,
                f"کوچه {rnd.randint(1, 60)}، پلاک {rnd.randint(1, 200)}",
                f"{rnd.uniform(lat0, lat1):.6f}",
                f"{rnd.uniform(lng0, lng1):.6f}",
                "غیررسمی" if informal else _pick(rnd, [("خانه", 6), ("آپارتمان", 1), ("کپر", 0.3)]),
                _pick(rnd, [("مالک", 4), ("مستاجر", 4), ("متصرف", 2 if informal else 0.2)]),
                _pick(rnd, [("رسمی", 7), ("غیررسمی", 2), ("ندارد", 1)]),
                _pick(rnd, [("رسمی", 8), ("غیررسمی", 2)]),
                _pick(rnd, [("رسمی", 4), ("ندارد", 6)]),
                _pick(rnd, [("رسمی", 6), ("ندارد", 4)]),
                _pick(
                    rnd, [("روزمزدی", 5), ("حقوق", 2), ("آزاد", 2), ("یارانه", 1), ("ندارد", 0.5)]
                ),
                "بله" if rnd.random() < 0.2 else "خیر",
                "بله" if rnd.random() < 0.1 else "خیر",
            ]
            female_head = rnd.random() < 0.15
            father = rnd.choice(MALE)
            # People without a national code are told apart by name and birth
            # year; the importer refuses two alike in one household.
            seen = set()
            for m in range(size):
                if m == 0:
                    relation, sex, age = (
                        "سرپرست",
                        "زن" if female_head else "مرد",
                        rnd.randint(24, 75),
                    )
                elif m == 1 and not female_head and size > 1:
                    relation, sex, age = "همسر", "زن", rnd.randint(20, 65)
                elif m == size - 1 and size > 4 and rnd.random() < 0.3:
                    relation, sex, age = (
                        _pick(rnd, [("پدر", 1), ("مادر", 1)]),
                        "",
                        rnd.randint(60, 90),
                    )
                    sex = "مرد" if relation == "پدر" else "زن"
                else:
                    relation, sex, age = "فرزند", rnd.choice(["زن", "مرد"]), rnd.randint(0, 25)
                first = rnd.choice(FEMALE if sex == "زن" else MALE)
                birth = self._birth(age)
                family_name = last if relation in ("سرپرست", "فرزند") else rnd.choice(LAST)
                while (first, family_name, birth[:4]) in seen:
                    first = rnd.choice(FEMALE if sex == "زن" else MALE)
                seen.add((first, family_name, birth[:4]))
                documented = rnd.random() > 0.08
                nationality = (
                    "ایرانی" if documented else _pick(rnd, [("فاقد مدرک", 2), ("افغان", 3)])
                )
                code = ""
                if documented and nationality == "ایرانی":
                    code = _code(self.next_code)
                    self.next_code += 1
                mobile = ""
                if age >= 18 and rnd.random() < 0.6:
                    mobile = f"091{rnd.randint(0, 9)}{self.mobile_base:07d}"
                    self.mobile_base = (self.mobile_base + 7919) % 10_000_000
                child = age < 18
                yield household + [
                    code,
                    first,
                    family_name,
                    father if relation == "فرزند" else rnd.choice(MALE),
                    relation,
                    sex,
                    birth,
                    nationality,
                    mobile,
                    ""
                    if child
                    else _pick(rnd, [("متاهل", 7), ("مجرد", 2), ("بیوه", 0.5), ("مطلقه", 0.5)]),
                    ""
                    if age < 7
                    else _pick(
                        rnd,
                        [
                            ("ابتدایی", 3),
                            ("راهنمایی", 3),
                            ("دیپلم", 2),
                            ("بی سواد", 1),
                            ("لیسانس", 0.5),
                        ],
                    ),
                    ("بله" if rnd.random() < 0.85 else "خیر") if 6 <= age <= 17 else "",
                    "کودک"
                    if age < 6
                    else "محصل"
                    if child
                    else _pick(
                        rnd,
                        [
                            ("شاغل", 3),
                            ("کارگر روزمزد", 3),
                            ("بیکار", 2),
                            ("خانه دار", 3),
                            ("بازنشسته", 1),
                        ],
                    ),
                    "بله" if rnd.random() < 0.03 else "خیر",
                    "بله" if rnd.random() < 0.08 else "خیر",
                    _pick(rnd, [("سلامت", 5), ("تامین اجتماعی", 3), ("ندارد", 2)]),
                ]

    def _sizes(self):
        """Household sizes that add up to exactly `persons`."""
        rnd = self.rnd
        base, extra = divmod(self.persons, self.households)
        sizes = [base] * self.households
        for i in range(extra):
            sizes[i] += 1
        # Shuffle members between households, keeping each at one or more.
        for _ in range(self.households):
            a, b = rnd.randrange(self.households), rnd.randrange(self.households)
            if a != b and sizes[a] > 1:
                sizes[a] -= 1
                sizes[b] += 1
        return sizes


class Command(BaseCommand):
    help = "Write synthetic registry files (XLSX and CSV) in the import layout, for benchmarks and trials."

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, default=None)
        parser.add_argument("--persons", type=int, default=None)
        parser.add_argument(
            "--rows",
            type=int,
            default=None,
            help="Persons (rows) to write; households default to a quarter of it.",
        )
        parser.add_argument("--out", default="var/bench/")
        parser.add_argument("--name", default="registry")
        parser.add_argument("--formats", default="xlsx,csv")
        parser.add_argument("--seed", type=int, default=1403)
        parser.add_argument(
            "--neighbourhood", default="", help="Written in the neighbourhood column."
        )
        parser.add_argument(
            "--bbox",
            default="31.3130,48.6370,31.3160,48.6440",
            help="lat0,lng0,lat1,lng1 of the points written.",
        )

    def handle(self, *args, **options):
        persons = options["persons"] or options["rows"] or 200_000
        households = options["households"] or max(1, persons // 4)
        if households > persons:
            raise CommandError("There cannot be more households than persons.")
        formats = [f.strip() for f in options["formats"].split(",") if f.strip()]
        if not set(formats) <= {"xlsx", "csv"}:
            raise CommandError("Formats are xlsx and csv.")
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        bbox = [float(x) for x in options["bbox"].split(",")]
        this_year = jalali.to_jalali(jalali.today()).year

        def generator():
            return Generator(
                households=households,
                persons=persons,
                seed=options["seed"],
                neighbourhood=options["neighbourhood"],
                bbox=bbox,
                year=this_year,
            ).rows()

        name = f"{options['name']}-{persons}"
        if "csv" in formats:
            path = out / f"{name}.csv"
            partial = path.with_name(path.name + ".part")
            with open(partial, "w", encoding="utf-8-sig", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(HEADER)
                writer.writerows(generator())
            # Renamed only when whole: the benchmark reuses a file that exists.
            partial.replace(path)
            self.stdout.write(f"{path}: {persons} persons in {households} households")
        if "xlsx" in formats:
            from openpyxl import Workbook

            path = out / f"{name}.xlsx"
            book = Workbook(write_only=True)
            sheet = book.create_sheet("خانوارها")
            sheet.sheet_view.rightToLeft = True
            sheet.append(HEADER)
            for row in generator():
                sheet.append(row)
            partial = path.with_name(path.name + ".part")
            book.save(partial)
            partial.replace(path)
            self.stdout.write(f"{path}: {persons} persons in {households} households")
