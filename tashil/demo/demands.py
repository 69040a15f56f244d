"""Demo demands: a few residents' demands of Zoviyeh and Malashieh at every
stage of their life, so that the demand pages, the agency portal and the
public board have something to show on a fresh install.

They go through the same services as real demands (routing, referrals,
timeline, messages), keyed by an idempotency key: a second `seed_demo` finds
them and leaves them as they are. Their dates are the day they were loaded.
The residents and their words are invented."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from tashil.agencies.models import DemandCategory
from tashil.demands import services
from tashil.demands.models import Channel, Demand, DemandStatus, ReferralStatus, SubmitterKind
from tashil.geo.models import Area

KEY_PREFIX = "demo-demand-"


@dataclass(frozen=True)
class DemoDemand:
    key: str
    category: str
    area: str
    channel: str
    description: str
    point: tuple[float, float] | None = None
    submitter_name: str = ""
    submitter_mobile: str = ""
    submitter_kind: str = SubmitterKind.RESIDENT
    # Whether Open311 lists it; None: as its channel decides (the public
    # form yes, office intake no).
    listed: bool | None = None
    # How far the office and the agency have taken it, in order: office
    # actions by name, referral moves as (status, note).
    steps: tuple = ()


DEMANDS = (
    DemoDemand(
        "01",
        "sewage",
        "khz-ahvaz-zoviyeh",
        Channel.WALK_IN,
        "فاضلاب کوچه‌ی پشت مسجد جامع زویه هفته‌هاست سرریز می‌کند و بچه‌ها از میان آن رد می‌شوند.",
        point=(31.3149, 48.6405),
        submitter_name="رحیمه ساکی",
        submitter_mobile="09161234567",
        steps=(
            "accept",
            "refer",
            (ReferralStatus.RECEIVED, ""),
            (ReferralStatus.IN_PROGRESS, "در دستور کار اکیپ منطقه‌ی ۴ قرار گرفت."),
        ),
    ),
    DemoDemand(
        "02",
        "drinking-water",
        "khz-ahvaz-zoviyeh",
        Channel.MEETING,
        "فشار آب شرب در ساعت‌های عصر به طبقه‌ی همکف هم نمی‌رسد؛ جلسه‌ی محله خواستار بررسی شبکه شد.",
        submitter_kind=SubmitterKind.MEETING,
        # The neighbourhood meeting asked for its demand to be published.
        listed=True,
        steps=(
            "accept",
            "refer",
            (ReferralStatus.RECEIVED, ""),
            (ReferralStatus.ANSWERED, "شیر فشارشکن ورودی محله تعویض شد."),
            "resolve",
        ),
    ),
    DemoDemand(
        "03",
        "paving",
        "khz-ahvaz-zoviyeh",
        Channel.PUBLIC_WEB,
        "کوچه‌ی خاکی ما با هر باران گل می‌شود و آمبولانس نمی‌تواند وارد شود.",
        point=(31.3161, 48.6391),
        submitter_mobile="09351112233",
    ),
    DemoDemand(
        "04",
        "street-lighting",
        "khz-ahvaz-malashieh-1",
        Channel.PHONE,
        "سه تیر چراغ برق خیابان اصلی ملاشیه ۱ خاموش است و شب‌ها ناامن است.",
        submitter_name="عبدالله چنانی",
        steps=("accept", "refer"),
    ),
    DemoDemand(
        "05",
        "enrolment",
        "khz-ahvaz-zoviyeh",
        Channel.WALK_IN,
        "دو کودک خانواده بدون شناسنامه‌اند و مدرسه ثبت‌نامشان نمی‌کند.",
        submitter_name="زهرا حیدری",
        steps=("needs_info",),
    ),
    DemoDemand(
        "06",
        "waste-collection",
        "khz-ahvaz-malashieh-2",
        Channel.WALK_IN,
        "زمین خالی کنار پارک به محل تخلیه‌ی زباله تبدیل شده است.",
        point=(31.2745, 48.6702),
        steps=("accept", "refer"),
    ),
)

_FACILITATORS = {"khz-ahvaz-zoviyeh": "facilitator", "khz-ahvaz-malashieh-1": "malashieh"}


def _staff_for(area_code: str):
    username = _FACILITATORS.get(area_code, "malashieh")
    return get_user_model().objects.get(username=username)


def _take_steps(demand: Demand, steps, office_user) -> None:
    for step in steps:
        demand.refresh_from_db()
        if step == "accept":
            services.demand_accept(demand=demand, acting_user=office_user)
        elif step == "needs_info":
            services.demand_request_info(
                demand=demand,
                acting_user=office_user,
                message="لطفاً با گواهی ولادت یا هر مدرکی از کودکان به دفتر بیایید.",
            )
        elif step == "refer":
            services.demand_refer(demand=demand, acting_user=office_user)
        elif step == "resolve":
            services.demand_close(
                demand=demand,
                outcome=DemandStatus.RESOLVED,
                acting_user=office_user,
                reason="شیر فشارشکن تعویض شد و فشار آب در بازدید دفتر عادی بود.",
            )
        else:
            to_status, note = step
            referral = demand.referrals.order_by("-pk").first()
            # Only the water agency has a demo liaison; its demands are the
            # ones the agency moves.
            services.referral_move(
                referral=referral,
                to_status=to_status,
                acting_user=get_user_model().objects.get(username="abfa"),
                note=note,
            )


def load_demo_demands(report) -> None:
    categories = {c.code: c for c in DemandCategory.objects.all()}
    areas = {a.code: a for a in Area.objects.filter(code__in={d.area for d in DEMANDS})}
    for item in DEMANDS:
        key = KEY_PREFIX + item.key
        if Demand.objects.filter(idempotency_key=key).exists():
            report.count("demands", "unchanged")
            continue
        office_user = _staff_for(item.area)
        public = item.channel == Channel.PUBLIC_WEB
        lat, lng = item.point or (None, None)
        submission = services.demand_submit(
            channel=item.channel,
            category=categories[item.category],
            description=item.description,
            area=areas[item.area],
            latitude=lat,
            longitude=lng,
            submitter_name=item.submitter_name,
            submitter_mobile=item.submitter_mobile,
            submitter_kind=item.submitter_kind,
            contact_consent=bool(item.submitter_mobile),
            is_listed=item.listed,
            acting_user=None if public else office_user,
            idempotency_key=key,
        )
        _take_steps(submission.demand, item.steps, office_user)
        report.count("demands", "created")
