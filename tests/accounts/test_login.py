import pytest
from django.conf import settings
from django.urls import reverse

from tashil.accounts.models import LoginAttempt
from tests.factories import UserFactory

PASSWORD = "pass-12345-word"


@pytest.mark.django_db
def test_login_page_is_persian_and_right_to_left(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'lang="fa"' in html and 'dir="rtl"' in html
    assert "ورود" in html  # "Log in"


@pytest.mark.django_db
def test_login_page_in_english_reads_left_to_right(client):
    client.cookies["django_language"] = "en"
    html = client.get(reverse("accounts:login")).content.decode()
    assert 'lang="en"' in html and 'dir="ltr"' in html
    assert "Log in" in html


@pytest.mark.django_db
def test_a_browser_set_to_english_still_gets_persian_until_the_person_switches(client):
    html = client.get(reverse("accounts:login"), headers={"Accept-Language": "en-US,en"}).content
    assert 'lang="fa"' in html.decode()
    # Signed out, as on the login page: the switch must not send them to log in.
    login = reverse("accounts:login")
    response = client.post(reverse("set_language"), {"language": "en", "next": login})
    assert response.status_code == 302 and response["Location"] == login
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    html = client.get(login, headers={"Accept-Language": "fa"}).content
    assert 'lang="en"' in html.decode()


@pytest.mark.django_db
def test_api_clients_choose_their_language_with_accept_language(client):
    english = client.get("/api/v1/offices/", headers={"Accept-Language": "en"}).json()
    persian = client.get("/api/v1/offices/").json()
    assert english["message"] == "Log in to use the API."
    assert "وارد" in persian["message"]


@pytest.mark.django_db
def test_every_page_requires_login_by_default(client):
    response = client.get("/offices/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.django_db
def test_wrong_password_gives_a_persian_message_and_is_counted(client):
    user = UserFactory()
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": "wrong"}
    )
    assert response.status_code == 200
    assert "نام کاربری یا گذرواژه" in response.content.decode()
    assert LoginAttempt.objects.filter(username=user.username).count() == 1


@pytest.mark.django_db
def test_login_is_throttled_even_with_the_right_password(client, settings):
    settings.LOGIN_THROTTLE_ATTEMPTS = 3
    user = UserFactory()
    for _ in range(3):
        client.post(reverse("accounts:login"), {"username": user.username, "password": "wrong"})
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "تلاش ناموفق" in response.content.decode()


@pytest.mark.django_db
def test_a_successful_login_clears_failures(client):
    user = UserFactory()
    client.post(reverse("accounts:login"), {"username": user.username, "password": "wrong"})
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert not LoginAttempt.objects.filter(username=user.username).exists()


@pytest.mark.django_db
def test_password_change(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "A-much-longer-pass-1403",
            "new_password2": "A-much-longer-pass-1403",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("A-much-longer-pass-1403")


@pytest.mark.django_db
def test_password_rules_and_errors_read_in_persian(client):
    user = UserFactory()
    client.force_login(user)
    url = reverse("accounts:password_change")
    html = client.get(url).content.decode()
    assert "<li>گذرواژه باید دست‌کم ۸ نویسه داشته باشد.</li>" in html  # markup, not text
    assert "برای اطمینان، گذرواژهٔ تازه را دوباره وارد کنید." in html
    data = {"old_password": PASSWORD, "new_password1": "1234", "new_password2": "1234"}
    html = client.post(url, data).content.decode()
    assert "این گذرواژه کوتاه است؛ باید دست‌کم ۸ نویسه داشته باشد." in html
    assert "too short" not in html
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize(
    "role, target",
    [
        ("province_manager", "/offices/network/"),
        ("analyst", "/offices/network/"),
        ("office_manager", "/demands/"),
        ("facilitator", "/demands/"),
        ("agency_liaison", "/demands/referrals/"),
    ],
)
def test_home_sends_each_role_to_its_starting_page(client, network, role, target):
    client.force_login(network.users[role])
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == target


def test_a_user_without_role_is_told_so(client, network):
    client.force_login(network.users["no_role"])
    response = client.get("/")
    assert response.status_code == 403


@pytest.mark.parametrize(
    "role", ["province_manager", "office_manager", "facilitator", "agency_liaison", "analyst"]
)
def test_admin_site_is_for_national_admins_only(client, network, role):
    user = network.users[role]
    user.is_staff = True  # even a staff flag set by mistake must not open the admin
    user.save()
    client.force_login(user)
    assert client.get("/admin/").status_code == 302


def test_national_admin_uses_the_admin_site(client, network):
    admin = network.users["national_admin"]
    admin.is_staff = True
    admin.save()
    client.force_login(admin)
    assert client.get("/admin/").status_code == 200
