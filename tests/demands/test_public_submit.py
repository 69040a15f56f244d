"""The public form /submit: a resident's demand without login, its abuse
protection, and the "already reported — support it instead" panel."""

import io
import re
import uuid

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from PIL import Image

from tashil.demands.models import Attachment, Demand, DemandEvent, DemandStatus, Supporter
from tashil.demands.public_forms import support_token
from tashil.demands.services import demand_submit
from tashil.geo.lookup import get_index, invalidate
from tashil.geo.models import Area
from tashil.notifications.models import Notification
from tests.factories import AreaFactory, DemandCategoryFactory
from tests.roles import ROLES_AND_ANONYMOUS

IN_HOOD = (31.35, 48.65)


def square(lng, lat, size=0.1):
    return {
        "type": "Polygon",
        "coordinates": [
            [[lng, lat], [lng + size, lat], [lng + size, lat + size], [lng, lat + size], [lng, lat]]
        ],
    }


def fa(message, **params):
    """What a Persian reader sees for `message`."""
    with translation.override("fa"):
        text = gettext(message)
    return text % params if params else text


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def public(demand_setup, tmp_path, settings):
    """The network with map boundaries that do not overlap: the office's
    neighbourhood, the other province's (also served) and one no office serves."""
    settings.MEDIA_ROOT = tmp_path
    n = demand_setup
    Area.objects.filter(pk=n.other_hood.pk).update(
        boundary=square(49.0, 31.0), centroid_lat=31.05, centroid_lng=49.05
    )
    n.unserved = AreaFactory(
        level="neighbourhood",
        parent=n.city,
        boundary=square(48.8, 31.3),
        centroid_lat=31.35,
        centroid_lng=48.85,
    )
    invalidate()
    n.tmp_path = tmp_path
    return n


def post_data(n, **overrides):
    data = {
        "category": n.category.code,
        "area": n.hood.code,
        "description": "آب شرب کوچه ۱۲ سه روز است قطع است",
        "submitter_mobile": "0912 123 4567",
        "idempotency_key": str(uuid.uuid4()),
        "website": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def png(size=(20, 20)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")


def written(n):
    return (
        Demand.objects.count(),
        Attachment.objects.count(),
        Notification.objects.count(),
        DemandEvent.objects.count(),
        sum(1 for p in n.tmp_path.rglob("*") if p.is_file()),
    )


def field_errors(response, field):
    return re.findall(rf'data-field="{field}">([^<]+)<', response.content.decode())


# --- the page ------------------------------------------------------------------------


def test_form_offers_leaf_categories_and_served_neighbourhoods(client, public):
    n = public
    inactive = DemandCategoryFactory(parent=n.parent_category, is_active=False)
    response = client.get("/submit")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<optgroup label="{n.parent_category.name_fa}">' in html
    assert f'value="{n.category.code}"' in html
    assert f'value="{n.parent_category.code}"' not in html
    assert f'value="{inactive.code}"' not in html
    assert f'value="{n.hood.code}"' in html and f'value="{n.other_hood.code}"' in html
    assert f'value="{n.unserved.code}"' not in html
    assert re.search(r'name="idempotency_key" value="[0-9a-f-]{36}"', html)
    assert 'name="website"' in html and 'class="hp-field"' in html
    assert 'id="mainnav"' not in html  # no staff navigation for residents
    assert '<html lang="fa" dir="rtl">' in html


def test_each_rendering_gets_a_new_idempotency_key(client, public):
    keys = {
        re.search(
            r'name="idempotency_key" value="([0-9a-f-]{36})"',
            client.get("/submit").content.decode(),
        )[1]
        for _ in range(2)
    }
    assert len(keys) == 2


# --- the happy path ------------------------------------------------------------------------


def test_resident_submits_and_gets_a_code_by_sms(client, public):
    n = public
    data = post_data(n, photo=png())
    response = client.post("/submit", data)
    assert response.status_code == 302
    assert response["Location"] == reverse("public:submitted", args=[data["idempotency_key"]])

    demand = Demand.objects.get()
    assert demand.channel == "public_web"
    assert demand.status == DemandStatus.NEW
    assert (demand.area, demand.office, demand.category, demand.province) == (
        n.hood,
        n.office,
        n.category,
        n.province,
    )
    assert demand.submitter_mobile == "+989121234567"
    assert demand.created_by is None
    assert demand.idempotency_key == "web:" + data["idempotency_key"]
    photo = demand.attachments.get()
    assert photo.kind == "photo" and photo.content_type == "image/png" and not photo.is_public

    sms = Notification.objects.get(recipient="+989121234567")
    assert sms.channel == "sms" and sms.status == "queued"
    assert demand.display_code in sms.body and f"/track/{demand.code}" in sms.body

    page = client.get(response["Location"])
    html = page.content.decode()
    assert demand.display_code in html
    assert reverse("public:track", args=[demand.code]) in html
    assert 'data-testid="sms-sent"' in html
    # The result page repeats neither the number nor the text.
    assert "4567" not in html and "قطع است" not in html


def test_without_a_mobile_no_sms_is_promised(client, public):
    response = client.post("/submit", post_data(public, submitter_mobile=""))
    page = client.get(response["Location"])
    assert 'data-testid="sms-sent"' not in page.content.decode()
    assert Notification.objects.count() == 0


def test_a_map_point_alone_finds_the_neighbourhood(client, public):
    n = public
    response = client.post(
        "/submit", post_data(n, area="", latitude=IN_HOOD[0], longitude=IN_HOOD[1])
    )
    assert response.status_code == 302
    demand = Demand.objects.get()
    assert demand.area == n.hood and (demand.latitude, demand.longitude) == IN_HOOD


def test_point_and_neighbourhood_that_agree(client, public):
    response = client.post("/submit", post_data(public, latitude=IN_HOOD[0], longitude=IN_HOOD[1]))
    assert response.status_code == 302
    assert Demand.objects.get().area == public.hood


def test_html_and_script_are_stripped_end_to_end(client, public):
    description = '<script>alert("x")</script><b onclick="steal()">آب شرب</b> قطع است <img src=x onerror=alert(1)>'
    response = client.post("/submit", post_data(public, description=description))
    assert response.status_code == 302
    demand = Demand.objects.get()
    assert demand.description == "آب شرب قطع است"
    assert "<" not in demand.title
    page = client.get(reverse("public:track", args=[demand.code]))
    assert b"alert" not in page.content and b"steal" not in page.content


# --- idempotency and the honeypot ----------------------------------------------------------


def test_a_retried_post_makes_one_demand_and_the_same_page(client, public):
    data = post_data(public)
    first = client.post("/submit", data)
    second = client.post("/submit", data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Demand.objects.count() == 1
    assert Notification.objects.count() == 1
    code = Demand.objects.get().display_code
    assert code in client.get(first["Location"]).content.decode()


def test_a_retry_is_not_refused_by_the_rate_limit(client, public, settings):
    settings.PUBLIC_SUBMIT_PER_IP = (1, 600)
    data = post_data(public)
    assert client.post("/submit", data).status_code == 302
    assert client.post("/submit", data).status_code == 302
    assert Demand.objects.count() == 1


def test_honeypot_answers_like_success_and_writes_nothing(client, public):
    n = public
    before = written(n)
    response = client.post("/submit", post_data(n, website="http://spam.example"))
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    code = re.search(
        r'data-testid="tracking-code">([A-Z0-9]{4}-[A-Z0-9]{4})<', page.content.decode()
    )[1]
    assert written(n) == before
    # The decoy code leads nowhere.
    assert client.get(f"/track/{code}").status_code == 404


def test_the_result_page_of_an_unknown_key_sends_to_tracking(client, public):
    response = client.get(reverse("public:submitted", args=[uuid.uuid4()]))
    assert response.status_code == 302 and response["Location"] == reverse("public:track_lookup")


def test_an_api_key_cannot_open_a_public_result_page(client, public):
    key = uuid.uuid4()
    demand_submit(
        channel="api",
        category=public.category,
        area=public.hood,
        description="آب شرب قطع است از دیروز",
        idempotency_key=str(key),
    )
    response = client.get(reverse("public:submitted", args=[key]))
    assert response.status_code == 302


# --- rate limits ---------------------------------------------------------------------------


def test_rate_limit_per_address(client, public, settings):
    n = public
    settings.PUBLIC_SUBMIT_PER_IP = (2, 600)
    for _ in range(2):
        assert (
            client.post(
                "/submit", post_data(n, submitter_mobile=""), REMOTE_ADDR="10.0.0.1"
            ).status_code
            == 302
        )
    before = written(n)
    response = client.post("/submit", post_data(n, submitter_mobile=""), REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429
    assert (
        fa(
            "Too many requests from your connection. Please wait %(minutes)s minutes and try again.",
            minutes=10,
        )
        in response.content.decode()
    )
    assert written(n) == before
    # Another address is not affected.
    assert (
        client.post(
            "/submit", post_data(n, submitter_mobile=""), REMOTE_ADDR="10.0.0.2"
        ).status_code
        == 302
    )


def test_rate_limit_per_mobile_whatever_way_it_is_written(client, public, settings):
    n = public
    settings.PUBLIC_SUBMIT_PER_MOBILE = (2, 3600)
    assert (
        client.post(
            "/submit", post_data(n, submitter_mobile="09121234567"), REMOTE_ADDR="10.0.1.1"
        ).status_code
        == 302
    )
    assert (
        client.post(
            "/submit", post_data(n, submitter_mobile="+98 912 123 4567"), REMOTE_ADDR="10.0.1.2"
        ).status_code
        == 302
    )
    before = written(n)
    response = client.post(
        "/submit", post_data(n, submitter_mobile="۰۹۱۲۱۲۳۴۵۶۷"), REMOTE_ADDR="10.0.1.3"
    )
    assert response.status_code == 429
    message = fa(
        "Too many demands were sent with this mobile number. Please try again in an hour, or "
        "support the demand you already sent."
    )
    assert message in field_errors(response, "submitter_mobile")
    assert written(n) == before
    assert (
        client.post(
            "/submit", post_data(n, submitter_mobile="09351234567"), REMOTE_ADDR="10.0.1.4"
        ).status_code
        == 302
    )


def test_invalid_posts_do_not_use_up_the_allowance(client, public, settings):
    settings.PUBLIC_SUBMIT_PER_IP = (1, 600)
    for _ in range(3):
        assert client.post("/submit", post_data(public, category="nope")).status_code == 200
    assert client.post("/submit", post_data(public)).status_code == 302


# --- bad input: a Persian message on the field, nothing written -------------------------------


def assert_refused(client, n, data, field, message, status=200):
    before = written(n)
    response = client.post("/submit", data)
    assert response.status_code == status
    assert message in field_errors(response, field), field_errors(response, field)
    assert 'lang="fa"' in response.content.decode()
    assert written(n) == before
    return response


def test_oversized_photo_is_refused(client, public):
    big = SimpleUploadedFile(
        "big.jpg", b"\xff\xd8" + b"0" * (5 * 1024 * 1024), content_type="image/jpeg"
    )
    assert_refused(
        client, public, post_data(public, photo=big), "photo", fa("The photo is larger than 5 MB.")
    )


def test_a_file_that_is_not_an_image_is_refused(client, public):
    fake = SimpleUploadedFile("photo.jpg", b"%PDF-1.4 not a photo", content_type="image/jpeg")
    assert_refused(
        client,
        public,
        post_data(public, photo=fake),
        "photo",
        fa("The file is not a photo. Send a JPEG, PNG or WebP image."),
    )


def test_a_gif_is_refused(client, public):
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="GIF")
    gif = SimpleUploadedFile("photo.gif", buffer.getvalue(), content_type="image/gif")
    assert_refused(
        client,
        public,
        post_data(public, photo=gif),
        "photo",
        fa("The file is not a photo. Send a JPEG, PNG or WebP image."),
    )


@pytest.mark.parametrize(
    "point",
    [(35.70, 51.40), (31.35, 48.85)],
    ids=["outside-the-province", "neighbourhood-no-office-serves"],
)
def test_a_point_outside_the_served_neighbourhoods_is_refused(client, public, point):
    data = post_data(public, area="", latitude=point[0], longitude=point[1])
    assert_refused(
        client,
        public,
        data,
        "latitude",
        fa("This point is outside the neighbourhoods the offices serve in the province."),
    )


def test_a_point_in_another_neighbourhood_than_the_chosen_one(client, public):
    data = post_data(public, area=public.other_hood.code, latitude=IN_HOOD[0], longitude=IN_HOOD[1])
    assert_refused(
        client,
        public,
        data,
        "area",
        fa(
            "The point on the map is not inside the chosen neighbourhood. Move the marker, or choose "
            "the neighbourhood the point is in."
        ),
    )


def test_half_a_point_is_refused(client, public):
    assert_refused(
        client,
        public,
        post_data(public, latitude=IN_HOOD[0]),
        "latitude",
        fa("Mark the place on the map again."),
    )


@pytest.mark.parametrize("code", ["no-such-category", "PARENT", "INACTIVE", ""])
def test_unknown_category_is_refused(client, public, code):
    n = public
    inactive = DemandCategoryFactory(parent=n.parent_category, is_active=False)
    code = {"PARENT": n.parent_category.code, "INACTIVE": inactive.code}.get(code, code)
    assert_refused(
        client,
        n,
        post_data(n, category=code),
        "category",
        fa("Choose a demand category from the list."),
    )


def test_unserved_or_unknown_neighbourhood_is_refused(client, public):
    assert_refused(
        client,
        public,
        post_data(public, area=public.unserved.code),
        "area",
        fa("Choose your neighbourhood from the list."),
    )


def test_no_place_at_all_is_refused(client, public):
    assert_refused(
        client,
        public,
        post_data(public, area=""),
        "area",
        fa("Choose a neighbourhood or mark the place on the map."),
    )


def test_bad_mobile_and_short_description(client, public):
    response = assert_refused(
        client,
        public,
        post_data(public, submitter_mobile="0912 12"),
        "submitter_mobile",
        fa("Enter a mobile number such as 0912 345 6789."),
    )
    assert response.status_code == 200
    assert_refused(
        client,
        public,
        post_data(public, description="آب"),
        "description",
        fa("Describe the demand in at least a few words (10 characters or more)."),
    )


def test_a_refused_form_keeps_what_was_typed_and_its_key(client, public):
    data = post_data(public, category="nope")
    html = client.post("/submit", data).content.decode()
    assert data["idempotency_key"] in html
    # Exactly as typed, Persian digits included.
    assert "آب شرب کوچه ۱۲" in html


# --- duplicate suggestions and support -------------------------------------------------------


def existing(n, **kwargs):
    values = dict(
        channel="public_web",
        category=n.category,
        area=n.hood,
        latitude=IN_HOOD[0],
        longitude=IN_HOOD[1],
        description="آب شرب کوچه دوازده قطع است",
        submitter_mobile="09127654321",
    )
    values.update(kwargs)
    return demand_submit(**values).demand


def test_suggestions_panel_shows_open_demands_without_personal_data(client, public):
    n = public
    demand = existing(n, submitter_name="زهرا کریمی")
    response = client.get(
        "/public/similar",
        {
            "category": n.category.code,
            "area": n.hood.code,
            "description": "آب شرب قطع",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="similar-item"' in html
    assert "آب شرب کوچه دوازده" in html
    assert n.hood.name_fa in html
    for secret in ("زهرا", "7654321", demand.code, demand.display_code):
        assert secret not in html


def test_suggestions_need_a_category_and_a_place(client, public):
    n = public
    existing(n)
    assert client.get("/public/similar", {"area": n.hood.code}).content == b""
    assert client.get("/public/similar", {"category": n.category.code}).content == b""
    assert client.get("/public/similar", {"category": "x", "area": n.hood.code}).content == b""
    by_point = client.get(
        "/public/similar",
        {"category": n.category.code, "latitude": "31.3501", "longitude": "48.6501"},
    )
    assert b"similar-item" in by_point.content
    junk = client.get(
        "/public/similar", {"category": n.category.code, "latitude": "x", "longitude": "1"}
    )
    assert junk.status_code == 200 and junk.content == b""


def test_support_instead_of_a_duplicate(client, public):
    n = public
    demand = existing(n)
    response = client.post(
        "/public/support",
        {"token": support_token(demand), "submitter_mobile": "09351112233"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204
    # The supporter learns the public id, never the resident's tracking code.
    assert response["HX-Redirect"] == reverse("public:supported", args=[demand.public_id])
    page = client.get(response["HX-Redirect"])
    assert page.status_code == 200 and demand.public_id in page.content.decode()
    assert demand.code not in page.content.decode()
    demand.refresh_from_db()
    assert demand.supporters_count == 2
    assert Supporter.objects.filter(demand=demand, mobile="+989351112233").exists()
    # Without htmx, a plain redirect to the same page.
    plain = client.post("/public/support", {"token": support_token(demand)})
    assert plain.status_code == 302 and plain["Location"] == reverse(
        "public:supported", args=[demand.public_id]
    )
    demand.refresh_from_db()
    assert demand.supporters_count == 3
    assert Demand.objects.count() == 1


@pytest.mark.parametrize("case", ["forged-token", "closed-demand"])
def test_refused_support_changes_nothing(client, public, case):
    n = public
    demand = existing(n)
    if case == "closed-demand":
        Demand.objects.filter(pk=demand.pk).update(status=DemandStatus.RESOLVED)
        token = support_token(demand)
    else:
        token = support_token(demand)[:-2] + "xx"
    before = (Supporter.objects.count(), DemandEvent.objects.count())
    response = client.post("/public/support", {"token": token}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    demand.refresh_from_db()
    assert demand.supporters_count == 1
    assert (Supporter.objects.count(), DemandEvent.objects.count()) == before


def test_support_is_rate_limited(client, public, settings):
    settings.PUBLIC_SUBMIT_PER_IP = (1, 600)
    demand = existing(public)
    assert client.post("/public/support", {"token": support_token(demand)}).status_code == 302
    response = client.post("/public/support", {"token": support_token(demand)})
    assert response.status_code == 429
    demand.refresh_from_db()
    assert demand.supporters_count == 2


# --- the neighbourhood map layer ---------------------------------------------------------------


def test_neighbourhood_layer_has_names_and_boundaries_only(client, public):
    n = public
    response = client.get("/public/neighbourhoods.geojson")
    assert response.status_code == 200
    features = response.json()["features"]
    assert {f["properties"]["code"] for f in features} == {n.hood.code, n.other_hood.code}
    assert all(set(f["properties"]) == {"code", "name"} for f in features)
    assert all(f["geometry"]["type"] == "Polygon" for f in features)


# --- every role sees the same public pages ---------------------------------------------------


def user_for(n, role):
    if role == "anonymous":
        return None
    return n.users[role]


@pytest.mark.authorization_matrix(
    "public:board", "public:neighbourhoods", "public:submit", "public:track_lookup"
)
@pytest.mark.parametrize("role", ROLES_AND_ANONYMOUS)
def test_public_pages_are_open_to_every_role(client, public, role):
    user = user_for(public, role)
    if user:
        client.force_login(user)
    for url in ("/submit", "/board", "/track", "/public/neighbourhoods.geojson"):
        assert client.get(url).status_code == 200, url
    response = client.post("/submit", post_data(public, submitter_mobile=""))
    assert response.status_code == 302
    demand = Demand.objects.get()
    # Submitted through the public form, the demand is a resident's, whoever is signed in.
    assert demand.channel == "public_web" and demand.created_by is None


@pytest.mark.authorization_matrix(
    "public:board",
    "public:feedback",
    "public:similar",
    "public:submit",
    "public:support",
    "public:track",
)
@pytest.mark.parametrize("role", ROLES_AND_ANONYMOUS)
def test_public_pages_write_nothing_on_get(client, public, role):
    user = user_for(public, role)
    if user:
        client.force_login(user)
    demand = existing(public)
    before = written(public)
    client.get("/submit")
    client.get("/public/similar", {"category": public.category.code, "area": public.hood.code})
    client.get(reverse("public:track", args=[demand.code]))
    client.get("/board")
    assert written(public) == before
    # GET cannot write through the write endpoints either.
    assert client.get("/public/support").status_code == 405
    assert client.get(reverse("public:feedback", args=[demand.code])).status_code == 405


# --- query counts ------------------------------------------------------------------------------


@pytest.mark.query_count("public:submit")
def test_form_queries_do_not_grow_with_choices(client, public, django_assert_max_num_queries):
    n = public
    for i in range(15):
        DemandCategoryFactory(parent=n.parent_category)
        hood = AreaFactory(level="neighbourhood", parent=n.city, code=f"extra-hood-{i}")
        n.office.areas.add(hood)
    with django_assert_max_num_queries(2):
        response = client.get("/submit")
    assert response.content.decode().count("extra-hood-") == 15


@pytest.mark.query_count("public:similar")
def test_suggestion_queries_do_not_grow_with_candidates(
    client, public, django_assert_max_num_queries
):
    n = public
    for i in range(30):
        existing(n, latitude=IN_HOOD[0] + i * 0.00001, description=f"آب شرب قطع است مورد {i}")
    get_index()  # built once per process, not per request
    # Category, neighbourhood, candidates, winners; nearby neighbourhoods
    # come from the point index.
    with django_assert_max_num_queries(4):
        response = client.get(
            "/public/similar",
            {
                "category": n.category.code,
                "area": n.hood.code,
                "latitude": IN_HOOD[0],
                "longitude": IN_HOOD[1],
                "description": "آب شرب قطع",
            },
        )
    assert response.content.decode().count('data-testid="similar-item"') == 5
