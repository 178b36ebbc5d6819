import math

import pytest

from papishares.core import units


@pytest.mark.parametrize(("prev", "price", "expected"), [
    (100.0, 150.0, False), (100.0, 150.01, True), (100.0, 49.99, True), (100.0, 50.0, False),
    (None, 100.0, False), (0.0, 100.0, False), (100.0, 0.0, True), (100.0, -1.0, True),
    (100.0, math.nan, True), (100.0, None, True), (math.inf, 10.0, False),
])
def test_moved_too_far(prev, price, expected):
    assert units.moved_too_far(prev, price) is expected


@pytest.mark.parametrize(("price", "ref", "expected"), [
    (1350.0, 13.5, True), (13.5, 1350.0, True), (1350.0, 1350.0, False), (612.4, 420.0, False),
    (1000.0, 33.0, True), (1000.0, 34.0, False), (5.0, None, False), (5.0, 0.0, False), (None, 5.0, False),
    (52.3, 0.452, True), (0.523, 45.2, True),
])
def test_units_mismatch(price, ref, expected):
    assert units.units_mismatch(price, ref) is expected


def test_units_note_names_ratio_and_currency():
    note = units.units_note(1350.0, 13.5, "average price", "GBX")
    assert "100x" in note and "GBX" in note and "average price" in note
