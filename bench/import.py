"""Import benchmark: the same registry file imported three ways.

1. Tashil's importer (manage.py import_households: read, check every row,
   write in recorded chunks, score vulnerability).
2. django-import-export into the same models, with the same cell cleaning
   (a benchmark-only dependency: `uv sync --all-groups`).
3. PostgreSQL COPY of the rows already cleaned: the physical limit of writing
   them, with nothing checked.

Targets: Tashil ≥ 10× django-import-export and ≥ 0.25× COPY (rows per
second), and a peak memory below 500 MB for a 1M-row file.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tashil_import_bench .venv/bin/python bench/import.py
    .venv/bin/python bench/import.py                       # SQLite, small scale (no COPY)
    ... bench/import.py --rows 1000000 --only tashil       # the 1M-row memory check

The database named in DATABASE_URL is created if missing and its registry
tables are emptied between runs: never point it at real data.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support.database import ensure_database  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tashil.settings")
OFFICE = "bench-office"
TARGET_DIE, TARGET_COPY, TARGET_MB = 10.0, 0.25, 500


def _postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def _setup():
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from tashil.geo.models import Area, HazardZone
    from tashil.offices.models import Office

    def area(code, level, parent=None, **kw):
        obj = Area.objects.filter(code=code).first() or Area(
            code=code, level=level, parent=parent, name_fa=code, **kw
        )
        obj.refresh_derived_fields()
        obj.save()
        return obj

    box = {
        "type": "Polygon",
        "coordinates": [
            [[48.60, 31.29], [48.70, 31.29], [48.70, 31.34], [48.60, 31.34], [48.60, 31.29]]
        ],
    }
    province = area("bench-province", "province")
    county = area("bench-county", "county", province)
    city = area("bench-city", "city", county)
    hood = area(
        "bench-hood", "neighbourhood", city, boundary=box, centroid_lat=31.315, centroid_lng=48.65
    )
    HazardZone.objects.get_or_create(
        code="bench-flood",
        defaults=dict(
            area=hood,
            name_fa="پهنه سیل",
            hazard_type="flood",
            risk_level=3,
            boundary={
                "type": "Polygon",
                "coordinates": [
                    [
                        [48.637, 31.313],
                        [48.641, 31.313],
                        [48.641, 31.316],
                        [48.637, 31.316],
                        [48.637, 31.313],
                    ]
                ],
            },
        ),
    )
    office, _ = Office.objects.get_or_create(
        code=OFFICE,
        defaults={"name_fa": "دفتر آزمون سرعت", "province": province, "status": "active"},
    )
    office.areas.add(hood)
    return office


def _reset():
    """Empty the registry tables (only the benchmark's database is used)."""
    from django.db import connection

    tables = [
        "registry_householdvulnerability",
        "registry_membership",
        "registry_personaldataaccess",
        "registry_importchunk",
        "registry_person",
        "registry_household",
        "registry_importbatch",
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            for table in tables:
                cursor.execute(f'DELETE FROM "{table}"')


def _counts():
    from tashil.registry.models import Household, Membership, Person

    return {
        "persons": Person.objects.count(),
        "households": Household.objects.count(),
        "memberships": Membership.objects.count(),
    }


def _subprocess(args) -> tuple[str, float, int]:
    """Run a child; its output, wall seconds and peak RSS in MB."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "TASHIL_LOG_LEVEL": "ERROR"},
    )
    out_chunks = []
    while True:
        line = proc.stdout.readline()
        if not line:
            break
        out_chunks.append(line)
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    out = "".join(out_chunks)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(map(str, args))} failed:\n{out}")
    return out, seconds, usage.ru_maxrss // 1024


def run_tashil(path, rows):
    out, wall, peak = _subprocess(
        [
            sys.executable,
            "manage.py",
            "import_households",
            str(path),
            "--office",
            OFFICE,
            "--chunk-size",
            "2000",
        ]
    )
    line = next(x for x in out.splitlines() if " rows, " in x and "committed" in x)
    seconds = float(line.split(" in ")[1].split(" s")[0])
    parts = next((x for x in out.splitlines() if x.startswith("Of which:")), "")
    timings = {}
    for part in parts.removeprefix("Of which:").split(";")[0].split(","):
        if part.strip():
            name, value, _unit = part.split()
            timings[name] = float(value)
    return {"seconds": seconds, "wall": wall, "peak_mb": peak, "output": line, "timings": timings}


# --- django-import-export --------------------------------------------------------------------


def die_worker(path, limit):
    """Runs in a child process: the file into the same models with
    django-import-export, the cells cleaned by the importer's own cleaners."""
    import django

    django.setup()
    import tablib
    from import_export import fields, resources, widgets

    from tashil.core import jalali
    from tashil.offices.models import Office
    from tashil.registry import vulnerability
    from tashil.registry.dedupe import person_name_key
    from tashil.registry.importer.cleaning import CellError, FieldCleaner
    from tashil.registry.importer.fields import BY_KEY, suggest_mapping
    from tashil.registry.importer.validation import ImportContext
    from tashil.registry.models import Household, Membership, Person

    office = Office.objects.get(code=OFFICE)
    context = ImportContext(office)
    with open(path, encoding="utf-8-sig") as f:
        header = f.readline().rstrip("\r\n").split(",")
    mapping = suggest_mapping(header)
    cleaners = {
        key: FieldCleaner(BY_KEY[key], context=context, bounds=context.bounds)
        for key in mapping.values()
    }
    text = Path(path).read_text(encoding="utf-8-sig")
    if limit:
        text = "\n".join(text.splitlines()[: limit + 1])
    dataset = tablib.Dataset().load(text, format="csv")
    # django-import-export matches columns by header: the file's headers are
    # renamed to field names (as its users do by hand), the cells are cleaned
    # per row below, inside the timing.
    dataset.headers = [mapping.get(i, f"unused-{i}") for i in range(len(dataset.headers))]
    for extra in ("office", "external_id", "area", "name_key"):
        dataset.append_col([""] * len(dataset), header=extra)
    # A membership needs the person's national code to find them.
    coded = tablib.Dataset(
        *[r for r in dataset if r[dataset.headers.index("national_code")]], headers=dataset.headers
    )
    household_attr = {"neighbourhood": "area", "household_note": "note"}

    def clean(row):
        values = {}
        for key, cleaner in cleaners.items():
            try:
                value = cleaner(row.get(key) or None)
            except CellError:
                value = None
            if isinstance(value, tuple):  # a birth year written in the date column
                values["birth_year"], value = value[1], None
            values[key] = value
        if values.get("birth_date"):
            values["birth_year"] = jalali.to_jalali(values["birth_date"]).year
        return values

    class Base(resources.ModelResource):
        def before_import_row(self, row, **kwargs):
            values = clean(row)
            row.clear()
            for key, value in values.items():
                row[household_attr.get(key, key)] = (
                    "" if value is None and key not in NULLABLE else value
                )
            row["office"] = office.pk
            row["external_id"] = values["household_id"]
            row["area"] = context.single_area
            row["name_key"] = person_name_key(values["first_name"] or "", values["last_name"] or "")

    NULLABLE = {
        "national_code",
        "birth_date",
        "birth_year",
        "in_school",
        "latitude",
        "longitude",
        "joined_on",
    }

    class HouseholdResource(Base):
        class Meta:
            model = Household
            import_id_fields = ("office", "external_id")
            fields = (
                "office",
                "external_id",
                "area",
                "address",
                "latitude",
                "longitude",
                "dwelling_type",
                "tenure",
                "water",
                "electricity",
                "sewage",
                "gas",
                "main_income",
                "support_relief",
                "support_welfare",
            )
            skip_unchanged = True

    class PersonResource(Base):
        class Meta:
            model = Person
            import_id_fields = ("national_code",)
            fields = (
                "national_code",
                "first_name",
                "last_name",
                "father_name",
                "name_key",
                "sex",
                "birth_date",
                "birth_year",
                "nationality",
                "mobile",
                "marital_status",
                "education",
                "in_school",
                "employment",
                "has_disability",
                "chronic_illness",
                "health_insurance",
            )
            skip_unchanged = True

    class MembershipResource(Base):
        household = fields.Field(
            attribute="household",
            column_name="household_id",
            widget=widgets.ForeignKeyWidget(Household, "external_id"),
        )
        person = fields.Field(
            attribute="person",
            column_name="national_code",
            widget=widgets.ForeignKeyWidget(Person, "national_code"),
        )

        class Meta:
            model = Membership
            import_id_fields = ("household", "person")
            fields = ("household", "person", "relation")
            skip_unchanged = True

        def before_import_row(self, row, **kwargs):
            super().before_import_row(row, **kwargs)
            row["household_id"] = row["external_id"]

    started = time.perf_counter()
    report = {}
    del header
    for name, resource_class in (
        ("households", HouseholdResource),
        ("persons", PersonResource),
        ("memberships", MembershipResource),
    ):
        data = coded if name == "memberships" else dataset
        result = resource_class().import_data(data, raise_errors=False)
        report[name] = {
            "errors": len(result.row_errors()),
            "invalid": len(result.invalid_rows),
            "totals": {k: v for k, v in result.totals.items() if v},
        }
        if result.row_errors() and os.environ.get("BENCH_DEBUG"):
            print(result.row_errors()[0][1][0].error, file=sys.stderr)
        if result.has_errors() and os.environ.get("BENCH_DEBUG"):
            print(result.base_errors[:1], file=sys.stderr)
    vulnerability.recompute(Household.objects.values_list("pk", flat=True))
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "rows": len(dataset), "report": report}))


def run_die(path, limit):
    out, wall, peak = _subprocess(
        [sys.executable, __file__, "--die-worker", str(path), "--die-rows", str(limit)]
    )
    data = json.loads(out.strip().splitlines()[-1])
    return {
        "seconds": data["seconds"],
        "rows": data["rows"],
        "wall": wall,
        "peak_mb": peak,
        "report": data["report"],
    }


# --- COPY ----------------------------------------------------------------------------------------


def prepare_copy(path):
    """The file cleaned into full table rows, before any timing."""
    from django.utils import timezone

    from tashil.offices.models import Office
    from tashil.registry.importer.bulk import _columns, _default
    from tashil.registry.importer.fields import header_score, suggest_mapping
    from tashil.registry.importer.sources import find_header, open_source
    from tashil.registry.importer.validation import FileState, ImportContext, RowCleaner
    from tashil.registry.models import Household, Membership, Person

    office = Office.objects.get(code=OFFICE)
    context = ImportContext(office)
    source = open_source(path)
    header = find_header(source, score=header_score)
    cleaner = RowCleaner(mapping=suggest_mapping(header.columns), context=context, merged={})
    state = FileState(cleaner)
    now = timezone.now()
    households, persons, memberships = {}, [], []
    for raw in source.rows(max_columns=len(header.columns)):
        if raw.number <= header.row:
            continue
        row, problems = cleaner.clean(raw)
        if row is None or state.check(row):
            continue
        if row.ext_id not in households:
            values = dict(
                row.household,
                external_id=row.ext_id,
                office_id=office.pk,
                area_id=row.household.get("area_id") or context.single_area,
            )
            households[row.ext_id] = (len(households) + 1, values)
        persons.append(dict(row.person, national_code=row.code, name_key=row.name_key))
        memberships.append(
            {
                "household_id": households[row.ext_id][0],
                "person_id": len(persons),
                "relation": row.relation,
            }
        )

    def table(model, rows):
        cols = _columns(model)
        defaults = [(f.attname, f.name, _default(f, now)) for f in cols]
        out = []
        for pk, row in rows:
            out.append(
                [pk]
                + [row.get(attname, row.get(name, default)) for attname, name, default in defaults]
            )
        return model._meta.db_table, ["id"] + [f.column for f in cols], out

    return [
        table(Household, [(pk, values) for pk, values in households.values()]),
        table(Person, list(enumerate(persons, start=1))),
        table(Membership, list(enumerate(memberships, start=1))),
    ], len(persons)


def run_copy(prepared):
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for name, columns, rows in prepared:
            quoted = ", ".join(f'"{c}"' for c in columns)
            with cursor.cursor.copy(f'COPY "{name}" ({quoted}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
    return {"seconds": time.perf_counter() - started}


# --- main ----------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows",
        type=int,
        help="Persons in the file (default 200000 on PostgreSQL, 20000 on "
        "SQLite); households are a quarter of it.",
    )
    parser.add_argument(
        "--die-rows",
        type=int,
        default=None,
        help="Rows django-import-export imports (its rate is what is compared; default: "
        "10000 on PostgreSQL, 2000 on SQLite, or the whole file if smaller).",
    )
    parser.add_argument("--only", choices=["tashil", "die", "copy"], action="append")
    parser.add_argument(
        "--xlsx", action="store_true", help="Also import the XLSX file with Tashil's importer."
    )
    parser.add_argument("--die-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.die_worker:
        die_worker(args.die_worker, args.die_rows)
        return

    pg = _postgres()
    if pg:
        ensure_database()
    else:
        os.environ.setdefault("TASHIL_VAR_DIR", str(ROOT / "var" / "bench" / "sqlite"))
    rows = args.rows or (200_000 if pg else 20_000)
    households = max(1, rows // 4)
    die_rows = min(args.die_rows or (10_000 if pg else 2_000), rows)
    only = set(args.only or ["tashil", "die", "copy"])
    _setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.generators import registry_files

    out = ROOT / "var" / "bench"
    csv_path, xlsx_path = out / f"registry-{rows}.csv", out / f"registry-{rows}.xlsx"
    formats = ["csv"] + (["xlsx"] if args.xlsx else [])
    missing = [f for f in formats if not (out / f"registry-{rows}.{f}").exists()]
    if missing:
        print(
            f"Writing {rows:,} persons in {households:,} households ({', '.join(missing)}) …",
            flush=True,
        )
        call_command(
            registry_files.Command(),
            persons=rows,
            households=households,
            out=str(out),
            formats=",".join(missing),
            verbosity=0,
        )

    database = "PostgreSQL" if pg else "SQLite (no DATABASE_URL: small scale, and no COPY baseline)"
    print(
        f"\nImport benchmark · {database} · {rows:,} persons in {households:,} households · "
        f"{os.cpu_count()} CPUs\n"
    )
    results = {}
    if "tashil" in only:
        _reset()
        connection.close()
        results["tashil"] = run_tashil(csv_path, rows)
        counts = _counts()
        assert counts["persons"] == rows, counts
        if args.xlsx:
            _reset()
            connection.close()
            results["tashil_xlsx"] = run_tashil(xlsx_path, rows)
    if "die" in only:
        try:
            import import_export  # noqa: F401
        except ImportError:
            print(
                "django-import-export is not installed: `uv sync --all-groups` (the bench group); skipped.\n"
            )
        else:
            _reset()
            connection.close()
            results["die"] = run_die(csv_path, die_rows)
            results["die"]["counts"] = _counts()
    if "copy" in only and pg:
        _reset()
        prepared, copied = prepare_copy(csv_path)
        _reset()
        results["copy"] = run_copy(prepared) | {"rows": copied}
    _reset()

    def rate(key, n=rows):
        return n / results[key]["seconds"]

    print(f"{'method':<44}{'rows':>10}{'seconds':>10}{'rows/s':>10}{'peak MB':>9}")
    table = [
        ("Tashil importer (CSV)", "tashil", rows),
        ("Tashil importer (XLSX)", "tashil_xlsx", rows),
        ("django-import-export (CSV, same cleaning)", "die", results.get("die", {}).get("rows", 0)),
        ("PostgreSQL COPY of pre-cleaned rows", "copy", results.get("copy", {}).get("rows", 0)),
    ]
    for label, key, n in table:
        if key in results:
            r = results[key]
            peak = f"{r['peak_mb']:>9}" if "peak_mb" in r else f"{'—':>9}"
            print(f"{label:<44}{n:>10,}{r['seconds']:>10.1f}{n / r['seconds']:>10,.0f}{peak}")
    for key in ("tashil", "tashil_xlsx"):
        if key in results and results[key]["timings"]:
            t = results[key]["timings"]
            rest = results[key]["seconds"] - sum(t.values())
            print(
                f"  {key}: writing {t.get('writing', 0):.1f} s, vulnerability scoring {t.get('scoring', 0):.1f} s, "
                f"reading and checking {rest:.1f} s"
            )
    if "die" in results:
        print(
            f"  django-import-export wrote {results['die']['counts']}; row errors per resource: "
            f"{results['die']['report']}"
        )
    print()
    if "tashil" in results:
        tashil = rate("tashil")
        if "die" in results:
            ratio = tashil / rate("die", results["die"]["rows"])
            print(
                f"Tashil / django-import-export: {ratio:5.1f}×   target ≥ {TARGET_DIE:g}×   "
                f"{'met' if ratio >= TARGET_DIE else 'NOT met'}"
            )
        if "copy" in results:
            ratio = tashil / rate("copy", results["copy"]["rows"])
            print(
                f"Tashil / COPY:                 {ratio:5.2f}×   target ≥ {TARGET_COPY:g}×  "
                f"{'met' if ratio >= TARGET_COPY else 'NOT met'}"
            )
            scoring = results["tashil"]["timings"].get("scoring", 0)
            if scoring:
                without = (
                    rows
                    / (results["tashil"]["seconds"] - scoring)
                    / rate("copy", results["copy"]["rows"])
                )
                print(
                    f"  (without the vulnerability scoring, which COPY does not do: {without:.2f}×)"
                )
        peak = results["tashil"]["peak_mb"]
        note = (
            ""
            if rows >= 1_000_000
            else f" (this file: {rows:,} rows; --rows 1000000 for the target's size)"
        )
        print(
            f"Peak memory of the importer:   {peak} MB   target < {TARGET_MB} MB for 1M rows{note}"
        )
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"\n(this benchmark process itself: {maxrss} MB)")


if __name__ == "__main__":
    main()
