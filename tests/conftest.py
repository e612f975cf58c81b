"""Shared pytest configuration.  Fixtures live in ``tests/fixtures/`` (one module per area)."""

pytest_plugins = [
    "tests.fixtures.synth",
    "tests.fixtures.http",
    "tests.fixtures.gcs",
]
