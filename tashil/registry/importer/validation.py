"""Checking rows: each row on its own and against the rows before it in the
file. A block of checked rows is then planned against the registry in
`planning`.

The same code serves the preview (nothing written) and the commit (the block
is written in the transaction it was checked in), so the preview's verdicts
are the commit's.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from tashil.core import jalali
from tashil.core.text import join_words
from tashil.geo.lookup import get_index
from tashil.geo.models import Area, HazardZone

from ..dedupe import person_name_key
from ..models import Membership
from ..services.common import HOUSEHOLD_FIELDS, PERSON_FIELDS
from .cells import column_index, column_letter
from .cleaning import Bounds, CellError, FieldCleaner
from .fields import BY_KEY, REQUIRED, header_key
from .fieldspec import HOUSEHOLD, PERSON

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
