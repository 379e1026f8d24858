"""Float normalisation inside strings: the reference's matches, in linear time."""

from __future__ import annotations

import re
import time

import pytest

from relaystack.recording.keys import normalize_body

REFERENCE = re.compile(r"(-?\d+\.\d{4,})")  # the reference recorder's pattern


def reference_normalize(text: str) -> str:
    return REFERENCE.sub(lambda m: f"{float(m.group(0)):.5f}", text)


@pytest.mark.parametrize(
    "text",
    [
        "pi is 3.14159265 and e is -2.718281828",
        "5-123.456789 and 1.2345.67891 and 12.34 and .123456",
        "x0.000001y -0.0000001 --1.23456789 a-b 99999.999999",
        "1" * 300 + ".12" + "2" * 300 + ".123456",
    ],
)
def test_the_same_rounding_as_the_reference(text: str) -> None:
    assert normalize_body(text) == reference_normalize(text)


@pytest.mark.parametrize("digits", ["1" * 40_000, "1" * 40_000 + ".12", "-" + "7" * 40_000])
def test_a_long_run_of_digits_is_normalised_at_once(digits: str) -> None:
    # The reference pattern takes about 10 s here (it rescans the run from every digit);
    # a linear scan takes milliseconds, so the bound holds on a busy machine too.
    started = time.perf_counter()
    assert normalize_body({"content": digits}) == {"content": digits}
    assert time.perf_counter() - started < 1.0
