import io

import pytest
from django.core.management import CommandError, call_command

from tashil.accounts.models import ApiKey

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("api_keys", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_created_key_is_printed_once_and_authenticates():
    out, err = run("create", "Shahrdari 137 app")
    raw = out.strip()
    api_key = ApiKey.authenticate(raw)
    assert api_key.name == "Shahrdari 137 app"
    assert raw not in str(api_key.key_hash) and "not shown again" in err
    listed, _ = run("list")
    assert api_key.prefix in listed and raw not in listed


def test_a_revoked_key_no_longer_authenticates():
    out, _ = run("create", "partner")
    raw = out.strip()
    run("revoke", raw[:8])
    assert ApiKey.authenticate(raw) is None
    assert "revoked" in run("list")[0]


def test_revoking_needs_a_prefix_that_names_one_key():
    with pytest.raises(CommandError, match="0 keys"):
        run("revoke", "nothing")
    assert ApiKey.objects.filter(is_active=False).count() == 0
