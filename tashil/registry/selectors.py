"""Reads of the household registry. Each selector starts from a queryset
scoped to the user and owns its select_related/prefetch, so a page costs a
fixed number of queries however many rows it shows."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count, F, OuterRef, Prefetch, Q, Subquery

from tashil.accounts.scopes import ScopePaths, scope_of
from tashil.core.models import AuditLog
from tashil.core.text import search_terms
from tashil.core.validators import normalize_national_code
from tashil.demands.models import Referral
from tashil.geo.models import Area
from tashil.offices.models import Office

from .models import (
    Household,
    HouseholdReferral,
    HouseholdVulnerability,
    Membership,
    Person,
    VulnerabilityIndicator,
    VulnerabilityPolicy,
)
from .vulnerability import DEFAULT_CATALOGUE

SORTS = {
    "updated": ["-updated_at", "-id"],
    "score": ["-vulnerability_score", "-updated_at", "-id"],
    "name": ["head_last_name", "head_first_name", "id"],
    "household_id": ["external_id", "id"],
    "created": ["-created_at", "-id"],
}
SMALL_CELL = 5


# Neighbourhoods reached through the offices that serve them.
OFFICE_AREAS = ScopePaths(offices="offices__pk", managed_provinces="offices__province")


def _head(field_name):
    return Subquery(
        Membership.objects.current()
        .filter(household=OuterRef("pk"), relation=Membership.Relation.HEAD)
        .values(field_name)[:1]
    )


def with_list_data(queryset):
    """Head's name, number of current members and the groups, for list rows."""
    members = (
        Membership.objects.current()
        .filter(household=OuterRef("pk"))
        .order_by()
        .values("household")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        queryset.select_related("area", "hazard_zone", "office")
        .annotate(
            head_first_name=_head("person__first_name"),
            head_last_name=_head("person__last_name"),
            member_count=Subquery(members),
        )
        .prefetch_related(
            Prefetch(
                "vulnerabilities",
                queryset=HouseholdVulnerability.objects.select_related("indicator").order_by(
                    "-indicator__weight", "indicator__code"
                ),
            )
        )
    )


def registry_areas(user):
    """Neighbourhoods the user's registry covers: those served by the offices
    whose households the user sees."""
    neighbourhoods = Area.objects.filter(level=Area.Level.NEIGHBOURHOOD)
    return scope_of(user).filter(neighbourhoods, OFFICE_AREAS).distinct().order_by("path")


def group_choices() -> list[tuple[str, str]]:
    """(code, name) of every indicator rule: codes are the same in every
    province's catalogue, so filters work across provinces."""
    from django.utils.translation import get_language

    english = get_language() == "en"
    return [(spec.code, spec.name_en if english else spec.name_fa) for spec in DEFAULT_CATALOGUE]


def national_code_or_none(text: str) -> str | None:
    try:
        return normalize_national_code(text)
    except ValidationError:
        return None


def household_list(
    *,
    user,
    area=None,
    group: str = "",
    vulnerable_only: bool = False,
    hazard: str = "",
    query: str = "",
    sort: str = "updated",
):
    qs = Household.objects.visible_to(user)
    if area is not None:
        qs = qs.filter(area=area)
    if group:
        qs = qs.filter(vulnerabilities__indicator__code=group)
    if vulnerable_only:
        qs = qs.filter(is_vulnerable=True)
    if hazard == "yes":
        qs = qs.filter(hazard_zone__isnull=False)
    elif hazard == "no":
        qs = qs.filter(hazard_zone__isnull=True)
    if query:
        code = national_code_or_none(query)
        if code:
            # A national code is matched exactly, never as a substring.
            qs = qs.filter(
                pk__in=Membership.objects.filter(person__national_code=code).values("household_id")
            )
        else:
            for term in search_terms(query):
                qs = qs.filter(search_key__contains=term)
    return with_list_data(qs).order_by(*SORTS.get(sort, SORTS["updated"]))


def household_members(household) -> tuple[list, list]:
    """(current members, head first; past memberships, latest first)."""
    rows = list(
        household.memberships.select_related("person", "person__merged_into").order_by("id")
    )
    current = sorted(
        (m for m in rows if m.is_current),
        key=lambda m: (
            m.relation != Membership.Relation.HEAD,
            m.joined_on is None,
            m.joined_on,
            m.pk,
        ),
    )
    past = sorted(
        (m for m in rows if not m.is_current),
        key=lambda m: (m.left_on is None, m.left_on, m.pk),
        reverse=True,
    )
    return current, past


def household_groups(household):
    return list(
        household.vulnerabilities.select_related("indicator").order_by(
            "-indicator__weight", "indicator__code"
        )
    )


def household_consents(household):
    return list(household.consents.select_related("recorded_by").order_by("-given_on", "-id"))


def household_referrals(household):
    """Demands that referred this household, with their referrals."""

    return list(
        HouseholdReferral.objects.filter(household=household)
        .select_related("demand__category", "indicator", "created_by")
        .prefetch_related(
            Prefetch("demand__referrals", queryset=Referral.objects.select_related("agency"))
        )
    )


def household_history(household, *, limit: int = 50):
    """Audit rows for the household and for everyone who was ever a member."""
    person_ids = [str(pk) for pk in household.memberships.values_list("person_id", flat=True)]
    return list(
        AuditLog.objects.filter(
            Q(object_type="registry.household", object_id=str(household.pk))
            | Q(object_type="registry.person", object_id__in=person_ids)
        )
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )


def threshold_for(household) -> int:
    value = (
        VulnerabilityPolicy.objects.filter(province_id=household.office.province_id)
        .values_list("threshold_score", flat=True)
        .first()
    )
    return value if value is not None else VulnerabilityPolicy.DEFAULT_THRESHOLD


def person_household(person: Person) -> Household | None:
    """The household a person's record is managed through: the current one,
    or the last one they belonged to."""
    membership = (
        person.memberships.select_related("household__office")
        .order_by(F("left_on").desc(nulls_first=True), "-joined_on", "-id")
        .first()
    )
    return membership.household if membership else None


def active_consents(household: Household) -> set[str]:
    return set(
        household.consents.filter(withdrawn_on__isnull=True).values_list("purpose", flat=True)
    )


def registry_offices(user):
    """Offices whose registry the user may write to."""
    return (
        Office.objects.worked_on_by(user)
        .select_related("province")
        .order_by("province__path", "name_fa")
    )


def person_memberships(person):
    return list(person.memberships.select_related("household__area").order_by("-id"))


def current_membership(person):
    return (
        person.memberships.current().select_related("household__area", "household__office").first()
    )


# --- Vulnerable households per area -------------------------------------------------------


def vulnerable_households(*, user, area=None, group: str = ""):
    qs = household_list(user=user, area=area, group=group, vulnerable_only=not group, sort="score")
    return qs.prefetch_related(
        Prefetch("referrals", queryset=HouseholdReferral.objects.select_related("demand"))
    )


def group_counts(*, user, area=None) -> list[dict]:
    """How many households of the user's scope are in each group (by code)."""
    qs = HouseholdVulnerability.objects.filter(
        household__in=Household.objects.visible_to(user), indicator__is_active=True
    )
    if area is not None:
        qs = qs.filter(household__area=area)
    from django.utils.translation import get_language

    english = get_language() == "en"
    rows = list(
        qs.values("indicator__code", "indicator__name_fa", "indicator__name_en")
        .annotate(n=Count("household", distinct=True))
        .order_by("-n", "indicator__code")
    )
    merged = {}
    # One entry per code: a national admin's scope spans several provinces' catalogues.
    for row in rows:
        name = (
            row["indicator__name_en"]
            if english and row["indicator__name_en"]
            else row["indicator__name_fa"]
        )
        entry = merged.setdefault(
            row["indicator__code"], {"code": row["indicator__code"], "name": name, "n": 0}
        )
        entry["n"] += row["n"]
    return sorted(merged.values(), key=lambda r: (-r["n"], r["code"]))


# --- Aggregates (analysts included) --------------------------------------------------------


def countable_households(user):
    """Households the user may count (never list): their own scope, plus
    the provinces they analyse."""
    scope = scope_of(user)
    if scope.is_national:
        return Household.objects.all()
    q = Q(pk__in=Household.objects.visible_to(user).values("pk"))
    if scope.analyst_province_ids:
        q |= Q(office__province_id__in=scope.analyst_province_ids)
    return Household.objects.filter(q)


@dataclass(frozen=True)
class Suppressed:
    """A count too small to publish; it reads "<5"."""

    suppressed: bool = True

    def __str__(self):
        return f"<{SMALL_CELL}"


def suppress(count: int):
    """Small-cell suppression: counts from 1 to 4 are shown as "<5", so that
    no one can tell which few households of a neighbourhood are meant."""
    return Suppressed() if 0 < count < SMALL_CELL else count


@dataclass
class StatsRow:
    area: Area
    households: object
    vulnerable: object
    cells: list = field(default_factory=list)

    @property
    def counts(self):
        return [self.households, self.vulnerable, *self.cells]


def stats_table(user) -> tuple[list, list[StatsRow]]:
    """(groups as (code, name) columns, a row per neighbourhood), counts
    suppressed below SMALL_CELL."""
    households = countable_households(user)
    totals = {
        row["area"]: row
        for row in households.values("area")
        .annotate(n=Count("pk"), vulnerable=Count("pk", filter=Q(is_vulnerable=True)))
        .order_by()
    }
    cells = defaultdict(int)
    names = {}
    for row in (
        HouseholdVulnerability.objects.filter(household__in=households, indicator__is_active=True)
        .values("household__area", "indicator__code", "indicator__name_fa", "indicator__name_en")
        .annotate(n=Count("household", distinct=True))
        .order_by()
    ):
        cells[(row["household__area"], row["indicator__code"])] += row["n"]
        names.setdefault(
            row["indicator__code"], (row["indicator__name_fa"], row["indicator__name_en"])
        )
    from django.utils.translation import get_language

    english = get_language() == "en"
    columns = sorted(
        ((code, (en if english and en else fa)) for code, (fa, en) in names.items()),
        key=lambda c: c[0],
    )
    areas = Area.objects.in_bulk(list(totals))
    rows = []
    for area_id, total in sorted(totals.items(), key=lambda item: areas[item[0]].path):
        rows.append(
            StatsRow(
                area=areas[area_id],
                households=suppress(total["n"]),
                vulnerable=suppress(total["vulnerable"]),
                cells=[suppress(cells[(area_id, code)]) for code, _name in columns],
            )
        )
    return columns, rows


# --- Catalogue ------------------------------------------------------------------------------


def catalogue_provinces(user):
    return Area.objects.provinces_managed_by(user).order_by("path")


def catalogue_for(province):
    return list(
        VulnerabilityIndicator.objects.filter(province=province)
        .select_related("referral_category")
        .annotate(household_count=Count("households", distinct=True))
        .order_by("-weight", "code")
    )


def policy_for(province) -> VulnerabilityPolicy:
    return VulnerabilityPolicy.objects.filter(province=province).first() or VulnerabilityPolicy(
        province=province
    )
