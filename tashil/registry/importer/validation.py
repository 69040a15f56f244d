"""Checking rows: first each row on its own and against the rows before it
in the file, then a block of rows against the registry (who exists, in which
household, who is head), which gives the writes to make.

The same code serves the preview (nothing written) and the commit (the block
is written in the transaction it was checked in), so the preview's verdicts
are the commit's.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.utils.translation import gettext as _

from tashil.core import jalali
from tashil.core.text import join_words
from tashil.geo.models import Area, HazardZone

from ..dedupe import person_name_key, years_compatible
from ..models import Household, Membership, Person
from ..services.common import HOUSEHOLD_FIELDS, PERSON_FIELDS
from .cleaning import Bounds, CellError, FieldCleaner
from .fields import BY_KEY, HOUSEHOLD, PERSON, REQUIRED, header_key
from .sources import column_index, column_letter

_MISSING = object()

# Household columns by field key → model attribute.
HOUSEHOLD_ATTR = {
    "neighbourhood": "area_id",
    "address": "address",
    "latitude": "latitude",
    "longitude": "longitude",
    "dwelling_type": "dwelling_type",
    "tenure": "tenure",
    "water": "water",
    "electricity": "electricity",
    "sewage": "sewage",
    "gas": "gas",
    "main_income": "main_income",
    "support_relief": "support_relief",
    "support_welfare": "support_welfare",
    "support_other": "support_other",
    "household_note": "note",
}
HOUSEHOLD_UPDATABLE = [HOUSEHOLD_ATTR[k] for k in HOUSEHOLD_ATTR] + ["hazard_zone_id"]
assert {a.removesuffix("_id") for a in HOUSEHOLD_ATTR.values()} <= set(HOUSEHOLD_FIELDS)
PERSON_KEYS = [key for key in PERSON_FIELDS if key in BY_KEY]
DIED = Membership.EndReason.DIED
HEAD = Membership.Relation.HEAD


# --- The office the import is for -----------------------------------------------------


class ImportContext:
    """What rows are checked against that does not change during an import:
    the office's neighbourhoods and the map."""

    def __init__(self, office, *, today: dt.date | None = None):
        self.office = office
        self.bounds = Bounds(today)
        self.today = self.bounds.today
        areas = list(
            office.areas.filter(level=Area.Level.NEIGHBOURHOOD).values(
                "pk", "code", "name_fa", "name_en"
            )
        )
        self.area_ids = {a["pk"] for a in areas}
        self.area_names = {a["pk"]: a["name_fa"] for a in areas}
        keys: dict[str, int | None] = {}
        for a in areas:
            for text in (a["name_fa"], a["name_en"], a["code"]):
                key = header_key(text)
                if not key:
                    continue
                if key in keys and keys[key] != a["pk"]:
                    keys[key] = None  # two neighbourhoods share the name: the code is needed
                else:
                    keys[key] = a["pk"]
        self.area_keys = keys
        self.single_area = areas[0]["pk"] if len(areas) == 1 else None
        self._index = None
        self._hazard_order = None

    def area_for_text(self, text: str) -> int:
        key = header_key(text)
        if key not in self.area_keys:
            names = join_words(sorted(self.area_names.values()))
            raise CellError(
                _("“%(value)s” is not a neighbourhood this office serves (%(names)s).")
                % {"value": text[:60], "names": names or "—"}
            )
        area = self.area_keys[key]
        if area is None:
            raise CellError(
                _(
                    "Two neighbourhoods are called “%(value)s”; write the neighbourhood's code instead."
                )
                % {"value": text[:60]}
            )
        return area

    def _geo(self):
        if self._index is None:
            from tashil.geo.lookup import get_index

            self._index = get_index()
            self._hazard_order = {
                pk: i
                for i, pk in enumerate(
                    HazardZone.objects.order_by("-risk_level", "code").values_list("pk", flat=True)
                )
            }
        return self._index

    def area_for_point(self, lat, lng) -> int | None:
        return self._geo().area_id_for_point(lat, lng)

    def hazard_for_point(self, lat, lng) -> int | None:
        """The most dangerous zone the point is in, as the services choose it."""
        if lat is None or lng is None:
            return None
        ids = self._geo().hazard_ids_for_point(lat, lng)
        if not ids:
            return None
        return min(ids, key=lambda pk: self._hazard_order.get(pk, len(self._hazard_order)))


# --- One row on its own ---------------------------------------------------------------


@dataclass(slots=True)
class Row:
    number: int
    ext_id: str
    relation: str
    household: dict
    person: dict
    joined_on: dt.date | None = None
    code: str | None = None
    name_key: str = ""
    birth_year: int | None = None

    @property
    def is_head(self) -> bool:
        return self.relation == HEAD

    @property
    def name(self) -> str:
        return f"{self.person.get('first_name', '')} {self.person.get('last_name', '')}".strip()


Problem = tuple[int | None, str]  # (column index or None for the whole row, message)


def merged_problems(
    merged: list[str], header_row: int, mapped: set[int]
) -> dict[int, list[Problem]]:
    """Rows covered by merged cells in a mapped column: {row: problems}."""
    found: dict[int, list[Problem]] = {}
    for ref in merged:
        first, _sep, last = ref.partition(":")
        last = last or first
        c1, r1 = _split_ref(first)
        c2, r2 = _split_ref(last)
        columns = [c for c in range(c1, c2 + 1) if c in mapped]
        if not columns or r2 <= header_row:
            continue
        message = _(
            "This cell is part of the merged cells %(range)s. Unmerge them and fill in every row."
        ) % {"range": ref}
        for row in range(max(r1, header_row + 1), r2 + 1):
            found.setdefault(row, []).append((columns[0], message))
    return found


def _split_ref(ref: str) -> tuple[int, int]:
    letters = ref.rstrip("0123456789")
    return column_index(letters), int(ref[len(letters) :])


class RowCleaner:
    """Cleans a raw row with the batch's mapping into a Row, or lists its problems."""

    def __init__(
        self, *, mapping: dict[int, str], context: ImportContext, merged: dict[int, list[Problem]]
    ):
        self.context = context
        self.columns = sorted(mapping.items())
        self.cleaners = [
            (index, key, FieldCleaner(BY_KEY[key], context=context, bounds=context.bounds))
            for index, key in self.columns
        ]
        self.name_keys: dict[tuple[str, str], str] = {}
        self.years: dict[dt.date, int] = {}
        # Per column: where its value goes (0 household, 1 person, 2 the row
        # itself) under which name, and the cleaner's memory of past values.
        self.plan = []
        for index, key, cleaner in self.cleaners:
            level = cleaner.spec.level
            if key == "household_id":
                target, name = 2, "ext_id"
            elif level == HOUSEHOLD:
                target, name = 0, HOUSEHOLD_ATTR[key]
            elif level == PERSON:
                target, name = 1, key
            else:
                target, name = 2, key
            memo = cleaner.memo if cleaner.uses_memo else None
            self.plan.append((index, key, cleaner, target, name, memo))
        self.index_of = {key: index for index, key in mapping.items()}
        self.mapped = set(mapping)
        self.merged = merged

    def column_of(self, key: str) -> int | None:
        return self.index_of.get(key)

    def clean(self, raw) -> tuple[Row | None, list[Problem]]:
        problems: list[Problem] = []
        values = raw.values
        width = len(values)
        for cell in raw.bad_cells:
            if cell.column in self.mapped:
                if cell.kind == "formula":
                    problems.append(
                        (
                            cell.column,
                            _(
                                "The cell holds a formula (%(formula)s). Copy the column and "
                                "paste it back as values only."
                            )
                            % {"formula": cell.text[:60]},
                        )
                    )
                else:
                    problems.append(
                        (
                            cell.column,
                            _("The cell shows the Excel error %(error)s.") % {"error": cell.text},
                        )
                    )
        if raw.number in self.merged:
            problems.extend(self.merged[raw.number])
        bad_columns = {c for c, _m in problems}
        household: dict = {}
        person: dict = {}
        extra: dict = {}
        required = REQUIRED
        for index, key, cleaner, target, name, memo in self.plan:
            if index in bad_columns:
                continue
            raw_value = values[index] if index < width else None
            if raw_value is None:
                if key in required:
                    problems.append((index, _("This column is required, but the cell is empty.")))
                continue
            # The remembered answer for a value seen before, without a call.
            value = memo.get(raw_value, _MISSING) if memo is not None else _MISSING
            if value is _MISSING:
                try:
                    value = cleaner(raw_value)
                except CellError as exc:
                    problems.append((index, exc.message))
                    continue
            elif value.__class__ is CellError:
                problems.append((index, value.message))
                continue
            if value is None:
                if key in required:
                    problems.append((index, _("This column is required, but the cell is empty.")))
                continue
            if target == 0:
                household[name] = value
            elif target == 1:
                person[name] = value
            else:
                extra[name] = value
        # A birth date column holding only a year gives the birth year.
        birth = person.get("birth_date")
        if isinstance(birth, tuple):
            del person["birth_date"]
            given = person.get("birth_year")
            if given is not None and given != birth[1]:
                problems.append(
                    (
                        self.column_of("birth_year"),
                        _("The birth year does not match the birth date."),
                    )
                )
            person["birth_year"] = birth[1]
        elif birth is not None:
            year_of_date = self.years.get(birth)
            if year_of_date is None:
                year_of_date = self.years[birth] = jalali.to_jalali(birth).year
            given = person.get("birth_year")
            if given is not None and given != year_of_date:
                problems.append(
                    (
                        self.column_of("birth_year"),
                        _("The birth year does not match the birth date."),
                    )
                )
            # The year is what dedupe and ages use; keep it in step with the date.
            person["birth_year"] = year_of_date
        lat, lng = household.get("latitude"), household.get("longitude")
        if (lat is None) != (lng is None) and not (
            {self.column_of("latitude"), self.column_of("longitude")} & {c for c, _m in problems}
        ):
            missing = "longitude" if lng is None else "latitude"
            problems.append(
                (self.column_of(missing), _("Give both latitude and longitude, or neither."))
            )
        if problems:
            return None, problems
        joined = extra.get("joined_on")
        if isinstance(joined, tuple):
            return None, [
                (self.column_of("joined_on"), _("Write the whole date, for example 1402/07/15."))
            ]
        names = (person["first_name"], person["last_name"])
        name_key = self.name_keys.get(names)
        if name_key is None:
            name_key = person_name_key(*names)
            if len(self.name_keys) < 50_000:
                self.name_keys[names] = name_key
        row = Row(
            number=raw.number,
            ext_id=extra["ext_id"],
            relation=extra["relation"],
            household=household,
            person=person,
            joined_on=joined,
            code=person.get("national_code"),
            name_key=name_key,
            birth_year=person.get("birth_year"),
        )
        return row, []


# --- A row against the rows before it in the file --------------------------------------


class FileState:
    """What the file has said so far, for the checks across rows. Kept small:
    a 1M-row file fits in memory."""

    def __init__(self, cleaner: RowCleaner):
        self.cleaner = cleaner
        self.codes: dict[int, int] = {}  # national code (as int) → first row
        self.heads: dict[str, int] = {}  # household id → row of its head
        self.names: dict[tuple, int] = {}  # (household id, name, birth year) of people with no code
        self.ext_ids: dict[str, str] = {}  # one string object per household id, shared by every map

    def intern(self, ext_id: str) -> str:
        return self.ext_ids.setdefault(ext_id, ext_id)

    def check(self, row: Row) -> list[Problem]:
        row.ext_id = self.intern(row.ext_id)
        problems: list[Problem] = []
        col = self.cleaner.column_of
        if row.code:
            first = self.codes.setdefault(int(row.code), row.number)
            if first != row.number:
                problems.append(
                    (
                        col("national_code"),
                        _(
                            "This national code is also in row %(row)s. Each person "
                            "may appear only once in a file."
                        )
                        % {"row": first},
                    )
                )
        else:
            key = (row.ext_id, row.name_key, row.birth_year)
            first = self.names.setdefault(key, row.number)
            if first != row.number:
                problems.append(
                    (
                        col("first_name"),
                        _(
                            "%(name)s appears twice in household %(household)s (also in "
                            "row %(row)s). Add their national codes or remove one row."
                        )
                        % {"name": row.name, "household": row.ext_id, "row": first},
                    )
                )
        if row.is_head:
            first = self.heads.setdefault(row.ext_id, row.number)
            if first != row.number:
                problems.append(
                    (
                        col("relation"),
                        _("Household %(household)s already has a head in row %(row)s.")
                        % {"household": row.ext_id, "row": first},
                    )
                )
        return problems


# --- A block of rows against the registry ----------------------------------------------


@dataclass
class Plan:
    """The writes one block of rows needs. References to rows created in the
    same block are ("new", index) into the create lists."""

    household_creates: list = field(default_factory=list)  # [(ext_id, values)]
    household_updates: list = field(default_factory=list)  # [(id, version, changes, old)]
    person_creates: list = field(default_factory=list)  # [values]
    person_updates: list = field(default_factory=list)  # [(id, version, changes, old)]
    membership_ends: list = field(default_factory=list)  # [(id, household_id, left_on)]
    relation_changes: list = field(default_factory=list)  # [(id, household_id, new, old)]
    membership_creates: list = field(
        default_factory=list
    )  # [(household ref, person ref, relation, joined_on)]
    touched: set = field(default_factory=set)  # existing household ids to rescore
    errors: dict = field(default_factory=dict)  # row → [problems]
    rows: int = 0
    stats: dict = field(default_factory=dict)

    def error(self, row: Row, column, message):
        self.errors.setdefault(row.number, []).append((column, message))

    def count(self, name: str, n: int = 1):
        self.stats[name] = self.stats.get(name, 0) + n

    @property
    def is_empty(self) -> bool:
        return not (
            self.household_creates
            or self.household_updates
            or self.person_creates
            or self.person_updates
            or self.membership_ends
            or self.relation_changes
            or self.membership_creates
        )


_PERSON_VALUES = ["pk", "version", "merged_into_id", "name_key", *PERSON_FIELDS]
_HOUSEHOLD_VALUES = ["pk", "version", "external_id", "import_batch_id", *HOUSEHOLD_UPDATABLE]


class Planner:
    """Decides, for a block of checked rows, what to create and what to update.

    `households` remembers, for the whole run, the households this import has
    created or filled in and whether their fields came from the head's row:
    a household's fields are taken from its head's row, or from its first row
    when the file has no head for it."""

    def __init__(self, *, batch, context: ImportContext, cleaner: RowCleaner, lock: bool):
        self.batch = batch
        self.office = batch.office
        self.context = context
        self.col = cleaner.column_of
        self.lock = lock
        # household id → [db id or None, state]: "head" (columns taken from the
        # head's row), "first" (created from its first row; a head row may
        # still come) or "waiting" (registered before; no head row seen yet).
        self.households: dict[str, list] = {}
        # household id → its first row's household columns, for "waiting" ones.
        self.deferred: dict[str, dict] = {}

    def remember(self, rows: list[Row]) -> None:
        """Replay rows a previous run already committed (resuming)."""
        for ext_id, group in _by_household(rows).items():
            head = next((r for r in group if r.is_head), None)
            entry = self.households.get(ext_id)
            if head is not None:
                if entry is None:
                    self.households[ext_id] = [None, "head"]
                else:
                    entry[1] = "head"
                self.deferred.pop(ext_id, None)
            elif entry is None:
                self.households[ext_id] = [None, "waiting"]
                self.deferred[ext_id] = group[0].household

    def finish(self) -> Plan:
        """After the last row: households already registered whose file had no
        head row take their columns from their first row."""
        plan = Plan()
        pending = list(self.deferred.items())
        self.deferred = {}
        for start in range(0, len(pending), 1000):
            part = dict(pending[start : start + 1000])
            rows = self._qs(
                Household.objects.filter(office=self.office, external_id__in=list(part))
            ).values(*_HOUSEHOLD_VALUES)
            for hh in rows:
                values = part[hh["external_id"]]
                changes = self._household_changes(hh, Row(0, hh["external_id"], "", values, {}))
                if changes:
                    plan.household_updates.append(
                        (hh["pk"], hh["version"], changes, {name: hh[name] for name in changes})
                    )
                    plan.touched.add(hh["pk"])
                    plan.count("households_updated")
        return plan

    # -- lookups --

    def _qs(self, qs):
        return qs.select_for_update(of=("self",)) if self.lock else qs

    def _load(self, rows: list[Row]):
        ext_ids = {r.ext_id for r in rows}
        households = {
            h["external_id"]: h
            for h in self._qs(
                Household.objects.filter(office=self.office, external_id__in=ext_ids)
            ).values(*_HOUSEHOLD_VALUES)
        }
        codes = {r.code for r in rows if r.code}
        persons: dict[int, dict] = {}
        by_code: dict[str, int] = {}
        if codes:
            for p in self._qs(_among(Person.objects.all(), "national_code", codes)).values(
                *_PERSON_VALUES
            ):
                persons[p["pk"]] = p
                by_code[p["national_code"]] = p["pk"]
        # A merged record stands for the one it was merged into.
        merged_into = {p["merged_into_id"] for p in persons.values() if p["merged_into_id"]}
        household_ids = [h["pk"] for h in households.values()]
        members: dict[int, list[dict]] = {}
        if household_ids:
            for m in (
                Membership.objects.current()
                .filter(household_id__in=household_ids)
                .values(
                    "pk",
                    "person_id",
                    "household_id",
                    "relation",
                    "person__name_key",
                    "person__birth_year",
                    "person__national_code",
                    "person__first_name",
                    "person__last_name",
                )
            ):
                members.setdefault(m["household_id"], []).append(m)
        wanted = (
            merged_into | {m["person_id"] for ms in members.values() for m in ms}
        ) - persons.keys()
        if wanted:
            for p in self._qs(Person.objects.filter(pk__in=wanted)).values(*_PERSON_VALUES):
                persons[p["pk"]] = p
        current: dict[int, dict] = {}
        if persons:
            for m in (
                Membership.objects.current()
                .filter(person_id__in=list(persons))
                .values(
                    "pk",
                    "person_id",
                    "household_id",
                    "relation",
                    "household__office_id",
                    "household__external_id",
                )
            ):
                current[m["person_id"]] = m
        without = [pk for pk in persons if pk not in current]
        deceased = set()
        if without:
            deceased = set(
                Membership.objects.filter(person_id__in=without, end_reason=DIED).values_list(
                    "person_id", flat=True
                )
            )
        return households, persons, by_code, members, current, deceased

    # -- the plan --

    def plan(self, rows: list[Row]) -> Plan:
        plan = Plan()
        if not rows:
            return plan
        households, persons, by_code, members, current, deceased = self._load(rows)
        col = self.col
        resolved: list[tuple[Row, dict | None]] = []  # (row, person record or None for new)
        claimed: set[int] = set()
        for row in rows:
            hh = households.get(row.ext_id)
            person = None
            pk = by_code.get(row.code) if row.code else None
            if pk is not None:
                person = persons[pk]
                while person["merged_into_id"] and person["merged_into_id"] in persons:
                    person = persons[person["merged_into_id"]]
            elif hh is not None:
                # Someone with no code (or a code the registry does not have yet),
                # matched by name and birth year among the household's members.
                candidates = [
                    m
                    for m in members.get(hh["pk"], ())
                    if m["person__name_key"] == row.name_key
                    and years_compatible(m["person__birth_year"], row.birth_year)
                    and (not row.code or not m["person__national_code"])
                ]
                if len(candidates) > 1:
                    plan.error(
                        row,
                        col("first_name"),
                        _(
                            "Household %(household)s has more than one member called %(name)s; add their national "
                            "codes to tell them apart."
                        )
                        % {"household": row.ext_id, "name": row.name},
                    )
                    continue
                if candidates:
                    person = persons.get(candidates[0]["person_id"])
            if person is not None:
                if person["pk"] in claimed:
                    plan.error(
                        row,
                        col("first_name"),
                        _("This row and an earlier one are the same person."),
                    )
                    continue
                membership = current.get(person["pk"])
                if membership is not None and membership["household__office_id"] != self.office.pk:
                    plan.error(
                        row,
                        col("national_code"),
                        _(
                            "A person with this national code is already registered by another office. Ask that "
                            "office or the province manager to move them to this household."
                        ),
                    )
                    continue
                if membership is None and person["pk"] in deceased:
                    plan.error(row, col("national_code"), _("This person is recorded as deceased."))
                    continue
                claimed.add(person["pk"])
            resolved.append((row, person))

        # A new household needs a neighbourhood; one that cannot be created
        # takes all its rows with it, before anything else is decided.
        new_households: dict[str, tuple[dict, bool]] = {}
        dropped: set[str] = set()
        for ext_id, group in _by_household([row for row, _p in resolved]).items():
            if ext_id in households or self._pending(ext_id):
                continue
            head = next((r for r in group if r.is_head), None)
            source = head or group[0]
            values = self._new_household(source, plan)
            if values is None:
                dropped.add(ext_id)
                for r in group:
                    if r is not source:
                        plan.error(
                            r,
                            col("household_id"),
                            _("Household %(household)s could not be created; see row %(row)s.")
                            % {"household": ext_id, "row": source.number},
                        )
            else:
                new_households[ext_id] = (values, head is not None)
        resolved = [(row, person) for row, person in resolved if row.ext_id not in dropped]

        # One head per household: the file's head wins only where the current
        # head is given another relation, or moves away, in the same block.
        # Refusing a row can keep a head in place elsewhere, so repeat until
        # nothing changes.
        heads = {hh_id: m for hh_id, ms in members.items() for m in ms if m["relation"] == HEAD}
        ok = resolved
        while True:
            leaving_head: set[int] = set()
            for row, person in ok:
                m = current.get(person["pk"]) if person is not None else None
                if (
                    m is not None
                    and m["relation"] == HEAD
                    and (m["household__external_id"] != row.ext_id or not row.is_head)
                ):
                    leaving_head.add(m["household_id"])
            kept = []
            for row, person in ok:
                hh = households.get(row.ext_id)
                if (
                    row.is_head
                    and hh is not None
                    and hh["pk"] in heads
                    and hh["pk"] not in leaving_head
                ):
                    head = heads[hh["pk"]]
                    if person is None or head["person_id"] != person["pk"]:
                        plan.error(
                            row,
                            col("relation"),
                            _(
                                "This household already has a head: %(name)s. Give them their new relation in this "
                                "file, or change the head on the household page."
                            )
                            % {"name": f"{head['person__first_name']} {head['person__last_name']}"},
                        )
                        continue
                kept.append((row, person))
            if len(kept) == len(ok):
                break
            ok = kept

        # Households: create, or fill in from the head's row, else the first row.
        refs: dict[str, object] = {}
        for ext_id, group in _by_household([row for row, _p in ok]).items():
            head = next((r for r in group if r.is_head), None)
            entry = self.households.get(ext_id)
            hh = households.get(ext_id)
            if hh is None and self._pending(ext_id):
                # Created earlier in this preview; it does not exist yet.
                refs[ext_id] = ("pending", ext_id)
                if head is not None:
                    entry[1] = "head"
                continue
            if hh is None:
                values, from_head = new_households[ext_id]
                refs[ext_id] = ("new", len(plan.household_creates))
                plan.household_creates.append((ext_id, values))
                self.households[ext_id] = [None, "head" if from_head else "first"]
                plan.count("households_created")
                continue
            refs[ext_id] = hh["pk"]
            if entry is None:
                entry = self.households[ext_id] = [hh["pk"], "waiting"]
                if head is None:
                    # A registered household takes its first row's columns only if
                    # the file turns out to have no head row for it: decided at the end.
                    self.deferred[ext_id] = group[0].household
            if head is not None and entry[1] != "head":
                entry[1] = "head"
                self.deferred.pop(ext_id, None)
                changes = self._household_changes(hh, head)
                if changes:
                    old = {name: hh[name] for name in changes}
                    plan.household_updates.append((hh["pk"], hh["version"], changes, old))
                    plan.touched.add(hh["pk"])
                    plan.count("households_updated")

        # Persons and memberships.
        for row, person in ok:
            target = refs[row.ext_id]
            plan.rows += 1
            if person is None:
                values = dict(row.person)
                values["national_code"] = row.code
                values["name_key"] = row.name_key
                values["import_batch_id"] = self.batch.pk
                ref = ("new", len(plan.person_creates))
                plan.person_creates.append(values)
                plan.membership_creates.append((target, ref, row.relation, row.joined_on))
                if isinstance(target, int):
                    plan.touched.add(target)
                plan.count("persons_created")
                continue
            changes = self._person_changes(person, row)
            if changes:
                old = {name: person[name] for name in changes}
                plan.person_updates.append((person["pk"], person["version"], changes, old))
                plan.count("persons_updated")
            else:
                plan.count("persons_unchanged")
            m = current.get(person["pk"])
            same_household = (
                m is not None and not isinstance(target, tuple) and m["household_id"] == target
            )
            if same_household:
                if m["relation"] != row.relation:
                    plan.relation_changes.append(
                        (m["pk"], m["household_id"], row.relation, m["relation"])
                    )
                    plan.count("relations_changed")
                    plan.touched.add(m["household_id"])
                if changes:
                    plan.touched.add(m["household_id"])
                continue
            if m is not None:
                plan.membership_ends.append(
                    (m["pk"], m["household_id"], row.joined_on or self.context.today)
                )
                plan.touched.add(m["household_id"])
                plan.count("persons_moved")
            plan.membership_creates.append((target, person["pk"], row.relation, row.joined_on))
            if isinstance(target, int):
                plan.touched.add(target)
        plan.touched = {pk for pk in plan.touched if pk is not None}
        return plan

    def _pending(self, ext_id: str) -> bool:
        """Planned for creation earlier in a run that writes nothing (the preview)."""
        entry = self.households.get(ext_id)
        return not self.lock and entry is not None and entry[0] is None

    def _new_household(self, row: Row, plan: Plan) -> dict | None:
        values = dict(row.household)
        lat, lng = values.get("latitude"), values.get("longitude")
        if "area_id" not in values:
            area = self.context.area_for_point(lat, lng) if lat is not None else None
            if area is not None and area not in self.context.area_ids:
                plan.error(
                    row,
                    self.col("latitude"),
                    _(
                        "The point is outside the neighbourhoods this office serves; write the neighbourhood."
                    ),
                )
                return None
            # An office serving one neighbourhood needs no column for it, and a
            # point just outside its drawn boundary still belongs to it.
            area = area or self.context.single_area
            if area is None and lat is not None:
                plan.error(
                    row,
                    self.col("latitude"),
                    _("The point is outside every mapped neighbourhood; write the neighbourhood."),
                )
                return None
            if area is None:
                plan.error(
                    row,
                    self.col("neighbourhood"),
                    _("Write the household's neighbourhood, or its latitude and longitude."),
                )
                return None
            values["area_id"] = area
        values["hazard_zone_id"] = self.context.hazard_for_point(lat, lng)
        values["external_id"] = row.ext_id
        values["office_id"] = self.office.pk
        values["import_batch_id"] = self.batch.pk
        values["created_by_id"] = self.batch.uploaded_by_id
        return values

    def _household_changes(self, hh: dict, row: Row) -> dict:
        changes = {name: value for name, value in row.household.items() if hh.get(name) != value}
        if {"latitude", "longitude"} & changes.keys():
            zone = self.context.hazard_for_point(
                row.household.get("latitude"), row.household.get("longitude")
            )
            if zone != hh["hazard_zone_id"]:
                changes["hazard_zone_id"] = zone
        if changes and hh.get("import_batch_id") != self.batch.pk:
            changes["import_batch_id"] = self.batch.pk
        return changes

    def _person_changes(self, person: dict, row: Row) -> dict:
        values = row.person
        changes = {}
        for name, value in values.items():
            if name == "birth_year" and "birth_date" not in values and person["birth_date"]:
                # With a birth date on record, the year follows the date.
                continue
            if person[name] != value:
                changes[name] = value
        if row.code and person["national_code"] != row.code:
            changes["national_code"] = row.code
        if {"first_name", "last_name"} & changes.keys():
            key = person_name_key(
                values.get("first_name", person["first_name"]),
                values.get("last_name", person["last_name"]),
            )
            if key != person["name_key"]:
                changes["name_key"] = key
        return changes


def _among(queryset, column: str, values):
    """`column__in=values`; on PostgreSQL as one array parameter, since a
    block's thousands of codes as separate parameters cost more to send than
    the query costs to run."""
    if connection.vendor != "postgresql":
        return queryset.filter(**{f"{column}__in": values})
    table = queryset.model._meta.db_table
    field = queryset.model._meta.get_field(column).column
    return queryset.extra(where=[f'"{table}"."{field}" = ANY(%s)'], params=[list(values)])  # noqa: S610


def _by_household(rows: list[Row]) -> dict[str, list[Row]]:
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(row.ext_id, []).append(row)
    return groups


def describe(columns: list[str], column: int | None) -> str:
    """How a column is named in messages: its header and its letter."""
    if column is None:
        return ""
    header = (
        columns[column]
        if column < len(columns) and columns[column]
        else _("column %(letter)s") % {"letter": column_letter(column)}
    )
    return f"{header} ({column_letter(column)})"
