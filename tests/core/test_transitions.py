"""The questions a machine answers before any move: who may, from where."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models

from tashil.core.transitions import Machine, Transition, system


class Light(models.TextChoices):
    OFF = "off", "off"
    ON = "on", "on"
    BROKEN = "broken", "broken"


class Lamp:
    def __init__(self, status):
        self.status = status


def owner(user, lamp):
    return user == "owner"


MACHINE = Machine(
    states=Light,
    transitions=[
        Transition("switch_on", {Light.OFF}, Light.ON, owner),
        Transition("switch_off", {Light.ON}, Light.OFF, owner),
        Transition("break", {Light.OFF, Light.ON}, Light.BROKEN, system),
    ],
    refused="%(from)s → %(to)s refused",
    denied="not yours",
)


def test_available_moves_are_those_of_the_state_and_the_user_in_declared_order():
    assert [t.name for t in MACHINE.available_moves(Lamp(Light.OFF), "owner")] == ["switch_on"]
    assert MACHINE.targets(Lamp(Light.ON), "owner") == [Light.OFF]
    assert MACHINE.targets(Lamp(Light.ON), None) == [Light.BROKEN]
    assert MACHINE.available_moves(Lamp(Light.BROKEN), "owner") == []
    assert MACHINE.available_moves(Lamp(Light.OFF), "guest") == []


def test_permission_is_judged_before_the_state():
    with pytest.raises(PermissionDenied, match="not yours"):
        MACHINE.transition_for(Lamp(Light.BROKEN), "guest", to=Light.ON)
    with pytest.raises(ValidationError) as caught:
        MACHINE.transition_for(Lamp(Light.BROKEN), "owner", to=Light.ON)
    assert caught.value.message_dict == {"status": ["broken → on refused"]}
    # A state nobody moves to is refused as "may not".
    with pytest.raises(PermissionDenied):
        MACHINE.transition_for(Lamp(Light.OFF), "owner", to="nonsense")


def test_may_and_authorize_ignore_the_state():
    assert MACHINE.may(Lamp(Light.BROKEN), "owner", name="switch_on")
    assert not MACHINE.may(Lamp(Light.OFF), "owner", to=Light.BROKEN)
    MACHINE.authorize(Lamp(Light.BROKEN), "owner")
    with pytest.raises(PermissionDenied):
        MACHINE.authorize(Lamp(Light.OFF), "guest")


class Bulb(Lamp):
    def __init__(self, status, fitted=True):
        super().__init__(status)
        self.fitted = fitted


GUARDED = Machine(
    states=Light,
    transitions=[
        Transition(
            "switch_on",
            {Light.OFF},
            Light.ON,
            owner,
            when=lambda bulb: bulb.fitted,
            unmet="no bulb fitted",
        ),
    ],
)


def test_a_condition_beyond_the_state_hides_the_move_and_refuses_it_with_its_reason():
    assert [t.name for t in GUARDED.available_moves(Bulb(Light.OFF), "owner")] == ["switch_on"]
    assert GUARDED.available_moves(Bulb(Light.OFF, fitted=False), "owner") == []
    assert not GUARDED.can(Bulb(Light.OFF, fitted=False), "owner", "switch_on")
    with pytest.raises(ValidationError) as caught:
        GUARDED.transition_for(Bulb(Light.OFF, fitted=False), "owner", name="switch_on")
    assert caught.value.messages == ["no bulb fitted"]
    # Permission is still judged first, and the state before the condition.
    with pytest.raises(PermissionDenied):
        GUARDED.transition_for(Bulb(Light.OFF, fitted=False), "guest", name="switch_on")
    with pytest.raises(ValidationError) as caught:
        GUARDED.transition_for(Bulb(Light.ON, fitted=False), "owner", name="switch_on")
    assert "status" in caught.value.message_dict
