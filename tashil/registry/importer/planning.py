"""A block of checked rows against the registry: who exists, in which
household, who is head, and so the writes to make.

`Planner.plan` runs its steps in order; each is a method with one job that
can be called on its own:

1. `load` reads what the registry knows about the block (`Known`);
2. `match_persons` finds the registered person each row is about;
3. `drop_uncreatable` drops the rows of new households that cannot be created;
4. `keep_one_head` refuses rows that would give a household a second head;
5. `plan_households` decides which households to create or fill in;
6. `plan_persons` decides the persons and memberships to create or change.
"""

from dataclasses import dataclass, field

from django.db import connection
from django.utils.translation import gettext as _

from ..dedupe import person_name_key, years_compatible
from ..models import Household, Membership, Person
from ..services.common import PERSON_FIELDS
from .validation import DIED, HEAD, HOUSEHOLD_UPDATABLE, ImportContext, Row, RowCleaner


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


@dataclass
class Known:
    """What the registry knows about a block's households and persons."""

    households: dict  # external id -> household values
    persons: dict  # person id -> person values
    by_code: dict  # national code -> person id
    members: dict  # household id -> its current memberships
    current: dict  # person id -> their current membership
    deceased: set  # ids of persons without a current membership who died


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

    def load(self, rows: list[Row]) -> Known:
        """What the registry knows about the block's households and persons."""
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
        return Known(households, persons, by_code, members, current, deceased)

    # -- the plan --

    def plan(self, rows: list[Row]) -> Plan:
        plan = Plan()
        if not rows:
            return plan
        known = self.load(rows)
        resolved = self.match_persons(rows, known, plan)
        resolved, new_households = self.drop_uncreatable(resolved, known, plan)
        ok = self.keep_one_head(resolved, known, plan)
        refs = self.plan_households(ok, known, new_households, plan)
        self.plan_persons(ok, refs, known, plan)
        plan.touched = {pk for pk in plan.touched if pk is not None}
        return plan

    def match_persons(self, rows: list[Row], known: Known, plan: Plan) -> list:
        """Each row with the registered person it is about, or None for a new
        person. A row that cannot be matched safely gets an error and is left
        out."""
        resolved: list[tuple[Row, dict | None]] = []
        claimed: set[int] = set()
        for row in rows:
            person, problem = self._match(row, known)
            if problem is None and person is not None:
                problem = self._refusal(person, known, claimed)
            if problem is not None:
                plan.error(row, self.col(problem[0]), problem[1])
                continue
            if person is not None:
                claimed.add(person["pk"])
            resolved.append((row, person))
        return resolved

    def _match(self, row: Row, known: Known) -> tuple[dict | None, tuple | None]:
        """(the registered person, or None; a problem as (column key, message), or None)."""
        pk = known.by_code.get(row.code) if row.code else None
        if pk is not None:
            person = known.persons[pk]
            while person["merged_into_id"] and person["merged_into_id"] in known.persons:
                person = known.persons[person["merged_into_id"]]
            return person, None
        hh = known.households.get(row.ext_id)
        if hh is None:
            return None, None
        # Someone with no code (or a code the registry does not have yet),
        # matched by name and birth year among the household's members.
        candidates = [
            m
            for m in known.members.get(hh["pk"], ())
            if m["person__name_key"] == row.name_key
            and years_compatible(m["person__birth_year"], row.birth_year)
            and (not row.code or not m["person__national_code"])
        ]
        if len(candidates) > 1:
            return None, (
                "first_name",
                _(
                    "Household %(household)s has more than one member called %(name)s; add their national "
                    "codes to tell them apart."
                )
                % {"household": row.ext_id, "name": row.name},
            )
        if candidates:
            return known.persons.get(candidates[0]["person_id"]), None
        return None, None

    def _refusal(self, person: dict, known: Known, claimed: set) -> tuple | None:
        """Why a matched person cannot be taken by this row, if they cannot."""
        if person["pk"] in claimed:
            return "first_name", _("This row and an earlier one are the same person.")
        membership = known.current.get(person["pk"])
        if membership is not None and membership["household__office_id"] != self.office.pk:
            return (
                "national_code",
                _(
                    "A person with this national code is already registered by another office. Ask that "
                    "office or the province manager to move them to this household."
                ),
            )
        if membership is None and person["pk"] in known.deceased:
            return "national_code", _("This person is recorded as deceased.")
        return None

    def drop_uncreatable(self, resolved: list, known: Known, plan: Plan) -> tuple[list, dict]:
        """A new household needs a neighbourhood; one that cannot be created
        takes all its rows with it, before anything else is decided. Returns
        the rows left and {external id: (values, from the head's row)}."""
        new_households: dict[str, tuple[dict, bool]] = {}
        dropped: set[str] = set()
        for ext_id, group in _by_household([row for row, _p in resolved]).items():
            if ext_id in known.households or self._pending(ext_id):
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
                            self.col("household_id"),
                            _("Household %(household)s could not be created; see row %(row)s.")
                            % {"household": ext_id, "row": source.number},
                        )
            else:
                new_households[ext_id] = (values, head is not None)
        kept = [(row, person) for row, person in resolved if row.ext_id not in dropped]
        return kept, new_households

    def keep_one_head(self, resolved: list, known: Known, plan: Plan) -> list:
        """One head per household: the file's head wins only where the current
        head is given another relation, or moves away, in the same block.
        Refusing a row can keep a head in place elsewhere, so repeat until
        nothing changes."""
        heads = {
            hh_id: m for hh_id, ms in known.members.items() for m in ms if m["relation"] == HEAD
        }
        ok = resolved
        while True:
            leaving_head: set[int] = set()
            for row, person in ok:
                m = known.current.get(person["pk"]) if person is not None else None
                if (
                    m is not None
                    and m["relation"] == HEAD
                    and (m["household__external_id"] != row.ext_id or not row.is_head)
                ):
                    leaving_head.add(m["household_id"])
            kept = []
            for row, person in ok:
                hh = known.households.get(row.ext_id)
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
                            self.col("relation"),
                            _(
                                "This household already has a head: %(name)s. Give them their new relation in this "
                                "file, or change the head on the household page."
                            )
                            % {"name": f"{head['person__first_name']} {head['person__last_name']}"},
                        )
                        continue
                kept.append((row, person))
            if len(kept) == len(ok):
                return ok
            ok = kept

    def plan_households(self, ok: list, known: Known, new_households: dict, plan: Plan) -> dict:
        """Households: create, or fill in from the head's row, else the first
        row. Returns {external id: household id, ("new", index) or ("pending", id)}."""
        refs: dict[str, object] = {}
        for ext_id, group in _by_household([row for row, _p in ok]).items():
            head = next((r for r in group if r.is_head), None)
            entry = self.households.get(ext_id)
            hh = known.households.get(ext_id)
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
        return refs

    def plan_persons(self, ok: list, refs: dict, known: Known, plan: Plan) -> None:
        """Persons and memberships: create new persons, update known ones, and
        move or re-relate their memberships."""
        for row, person in ok:
            target = refs[row.ext_id]
            plan.rows += 1
            if person is None:
                self._plan_new_person(row, target, plan)
            else:
                self._plan_known_person(row, person, target, known, plan)

    def _plan_new_person(self, row: Row, target, plan: Plan) -> None:
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

    def _plan_known_person(self, row: Row, person: dict, target, known: Known, plan: Plan) -> None:
        changes = self._person_changes(person, row)
        if changes:
            old = {name: person[name] for name in changes}
            plan.person_updates.append((person["pk"], person["version"], changes, old))
            plan.count("persons_updated")
        else:
            plan.count("persons_unchanged")
        m = known.current.get(person["pk"])
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
            return
        if m is not None:
            plan.membership_ends.append(
                (m["pk"], m["household_id"], row.joined_on or self.context.today)
            )
            plan.touched.add(m["household_id"])
            plan.count("persons_moved")
        plan.membership_creates.append((target, person["pk"], row.relation, row.joined_on))
        if isinstance(target, int):
            plan.touched.add(target)

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
