"""Fusion formulas, checked against hand-computed values."""

import pytest

from vecinfer.query.fusion import dbsf, rrf


def test_rrf_default_k_is_rank_plus_two():
    fused = dict(rrf([[(1, 0.9), (2, 0.5)], [(2, 3.0), (3, 1.0)]]))
    assert fused[1] == pytest.approx(1 / 2)
    assert fused[2] == pytest.approx(1 / 3 + 1 / 2)
    assert fused[3] == pytest.approx(1 / 3)


def test_rrf_weights_scale_rank():
    fused = dict(rrf([[(1, 0.0), (2, 0.0)], [(2, 0.0)]], k=60, weights=(2.0, 0.0)))
    assert fused[1] == pytest.approx(1 / (1 / 2 + 59))
    assert fused[2] == pytest.approx(1 / (2 / 2 + 59))


def test_dbsf_uses_sample_std_and_three_sigma():
    mean = 7 / 3
    std = (((1 - mean) ** 2 + (2 - mean) ** 2 + (4 - mean) ** 2) / 2) ** 0.5
    fused = dict(dbsf([[(1, 4.0), (2, 2.0), (3, 1.0)], [(9, 5.0)]]))
    assert fused[1] == pytest.approx((4 - (mean - 3 * std)) / (6 * std))
    assert fused[3] == pytest.approx((1 - (mean - 3 * std)) / (6 * std))
    assert fused[9] == 0.5  # a single element normalises to 0.5
