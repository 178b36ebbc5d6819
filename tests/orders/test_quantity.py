import math

import pytest

from papishares.orders import quantity as q


@pytest.mark.parametrize(("value", "decimals", "expected"), [
    (12.09032128, 4, 12.0903), (12.09039999, 4, 12.0903), (0.99999999, 4, 0.9999), (0.99999, 0, 0.0),
    (3.0, 4, 3.0), (15.5, 0, 15.0), (0.1 + 0.2, 1, 0.3), (1e-9, 4, 0.0), (-1.0, 4, 0.0),
    (math.nan, 4, 0.0), (math.inf, 4, 0.0), (2.675, 2, 2.67),
])
def test_truncate_never_rounds_up(value, decimals, expected):
    got = q.truncate(value, decimals)
    assert got == expected
    if math.isfinite(value) and value > 0:
        assert got <= value


def test_sell_quantity_caps_at_four_decimals_and_honours_learned():
    assert q.sell_quantity(12.09032128) == 12.0903
    assert q.sell_quantity(12.09032128, 6) == 12.0903  # never more than 4, whatever was learned
    assert q.sell_quantity(12.09032128, 3) == 12.090
    assert q.sell_quantity(12.09032128, 0) == 12.0


@pytest.mark.parametrize(("texts", "expected"), [
    (("invalid quantity precision 3",), 3),
    ((None, "Quantity precision mismatch: invalid quantity precision 2"), 2),
    (("QuantityPrecisionMismatch", "invalid quantity precision 0"), 0),
    (("no number here",), None), ((), None), ((None,), None),
])
def test_stated_precision_reads_any_field(texts, expected):
    assert q.stated_precision(*texts) == expected


def test_is_precision_error_any_shape():
    assert q.is_precision_error("quantity-precision-mismatch")
    assert q.is_precision_error("QUANTITY_PRECISION_MISMATCH")
    assert q.is_precision_error(None, "invalid quantity precision 3")
    assert not q.is_precision_error("selling-equity-not-owned", "you do not own it")


@pytest.mark.parametrize(("sent", "stated", "expected"), [
    (12.0903, 3, 3),   # allowed reading: 3 < 4 sent
    (12.0903, 0, 0),   # no decimals allowed: whole shares
    (12.0903, 4, 3),   # the number names what was sent: one fewer
    (12.09, 2, 1),
    (12.5, None, 0),   # the broker did not say: whole shares
    (12.0, 0, 0),
])
def test_retry_decimals_both_readings(sent, stated, expected):
    assert q.retry_decimals(sent, stated) == expected
    assert q.truncate(sent, q.retry_decimals(sent, stated)) <= sent


# -- what each instrument accepts, learned from rejections (papishares.store.quantities) ---------------------
def test_a_learned_precision_is_kept_per_instrument_clamped_to_what_orders_accept(tmp_path):
    from papishares.store.db import Store
    from papishares.store.quantities import KEY, learn_precision, learned_precision, learned_precisions

    store = Store(tmp_path / "q.db")
    try:
        assert learned_precisions(store) == {} and learned_precision(store, "RRl_EQ") is None
        learn_precision(store, "RRl_EQ", 2)
        learn_precision(store, "FRAC_US_EQ", 9)  # never more than an order may carry
        learn_precision(store, "WHOLE_EQ", -1)
        assert learned_precisions(store) == {"RRl_EQ": 2, "FRAC_US_EQ": q.MAX_ORDER_DECIMALS, "WHOLE_EQ": 0}
        learn_precision(store, "RRl_EQ", 1)  # a later rejection says fewer: the newest word counts
        assert learned_precision(store, "RRl_EQ") == 1
        assert q.sell_quantity(10.5678, learned_precision(store, "RRl_EQ")) == 10.5
        again = Store(tmp_path / "q.db")  # every process reads the same
        try:
            assert learned_precisions(again) == {"RRl_EQ": 1, "FRAC_US_EQ": 4, "WHOLE_EQ": 0}
        finally:
            again.close()
        for broken in ("not json", "[1, 2]", '{"A": "2", "B": true, "C": -1, "D": 3}'):
            store.set(KEY, broken)
            assert learned_precisions(store) == ({"D": 3} if broken.startswith("{") else {})
    finally:
        store.close()


@pytest.mark.parametrize(("learned", "expected"), [(None, 4), (0, 0), (2, 2), (4, 4), (7, 4), (-3, 0)])
def test_allowed_decimals(learned, expected):
    assert q.allowed_decimals(learned) == expected


@pytest.mark.parametrize(("value", "expected"), [(12.0903, 4), (7.0, 0), (0.5, 1), (1e-4, 4), (math.nan, 0),
                                                 (100.0, 0)])
def test_decimals_of(value, expected):
    assert q.decimals_of(value) == expected
