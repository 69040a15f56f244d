# The generator writes demands on top of the demands tests' network.
from tests.demands.conftest import demand_setup, submit  # noqa: F401
