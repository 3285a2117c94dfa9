from fractions import Fraction as F

import pytest

from vidext.errors import ParameterError
from vidext.timemap import TimeMap


def test_uniform_slow_motion():
    m = TimeMap.uniform(0, 2, F(5, 2))
    assert m.out_end == 5 and m.to_input(F(5, 2)) == 1 and m.to_output(1) == F(5, 2)


def test_segment_map_is_continuous_and_invertible():
    m = TimeMap.segment(0, 10, 2, 4, 3)
    assert m.out_end == 14
    for t in (0, 1, 2, F(5, 2), 3, F(39, 10), 4, 7, 10):
        assert m.to_input(m.to_output(t)) == t
    assert m.to_output(4) == 8 and m.to_output(10) == 14


def test_bad_maps():
    with pytest.raises(ParameterError):
        TimeMap.uniform(0, 1, 0)
    with pytest.raises(ParameterError, match="outside the clip"):
        TimeMap.segment(0, 10, 12, 14, 2)
