"""The talker echo impairment Idte of the E-model (ITU-T G.107 (06/2015) eqs. 7-19 to 7-22)
with Table 3's defaults, and the edges of the burst ratio (G.107 7.5).

Idte = [(Roe - Re) / 2 + sqrt((Roe - Re)^2 / 4 + 100) - 1] (1 - e^-T), where
Roe = -1.5 (No - RLR) = -1.5 (-61.18 - 2) = 94.77, Re = 80 + 2.5 (TERV - 14) and
TERV = TELR - 40 log10((1 + T/10) / (1 + T/150)) + 6 e^(-0.3 T^2), TELR = 65 dB; below T = 1 ms
the echo counts as sidetone and Idte is 0. With TELR 65 the echo is so weak that Idte stays
small (a few units at most; slightly below 0 at short delays, where TERV is high).
"""

from __future__ import annotations

import math

import pytest

from sipdiag.media import quality


def idte(t: float) -> float:
    """G.107 eqs. 7-19 to 7-22, the defaults written out."""
    terv = 65 - 40 * math.log10((1 + t / 10) / (1 + t / 150)) + 6 * math.exp(-0.3 * t**2)
    roe = 94.77
    re = 80 + 2.5 * (terv - 14)
    return ((roe - re) / 2 + math.sqrt((roe - re) ** 2 / 4 + 100) - 1) * (1 - math.exp(-t))


@pytest.mark.parametrize("t", [1, 1.5, 2, 5, 10, 30, 75, 150, 300, 600])
def test_talker_echo_as_g107(t: float) -> None:
    assert quality._talker_echo(t) == pytest.approx(idte(t), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(("t", "expected"), [(1, -0.1089), (10, 0.1549), (150, 2.812)])
def test_talker_echo_by_hand(t: float, expected: float) -> None:
    """At T = 1: TERV = 65 - 40 log10(1.1 / 1.00667) + 6 e^-0.3 = 67.905, Re = 214.76,
    Idte = (-59.995 + 60.823 - 1) (1 - e^-1) = -0.109; at T = 10: TERV = 65 - 40 log10(1.875)
    = 54.080, Re = 180.20, Idte = -42.715 + 43.870 - 1 = 0.155; at T = 150: TERV =
    65 - 40 log10(8) = 28.876, Re = 117.19, Idte = -11.211 + 15.022 - 1 = 2.812."""
    assert quality._talker_echo(t) == pytest.approx(expected, abs=0.0015)


@pytest.mark.parametrize("t", [0, 0.5, 0.999])
def test_no_talker_echo_below_one_ms(t: float) -> None:
    assert quality._talker_echo(t) == 0.0


def test_delay_impairment_adds_its_three_parts() -> None:
    """Id = Idte(Ta) + Idle(2 Ta) + Idd(Ta) (eq. 7-18)."""
    ta = 250.0
    assert quality._delay_impairment(ta) == pytest.approx(
        idte(ta) + quality._listener_echo(2 * ta) + quality._pure_delay(ta), rel=1e-12)


@pytest.mark.parametrize(("expected", "lost", "bursts", "ratio"), [
    (100, 0, 0, 1.0),      # no loss
    (100, 0, 1, 1.0),      # no loss, whatever the runs say
    (100, 5, 0, 1.0),      # no run counted
    (100, 1, 1, 1 / (1 / 99 + 1)),  # a single loss
    (2, 1, 1, 0.5),        # one received, one lost: 1 / (1/1 + 1/1)
    (5, 5, 1, 1.0),        # nothing received: p undefined
    (6, 7, 1, 1.0),        # more lost than expected (duplicates): nothing received
    (100, 10, 1, 9.0),     # one run of 10 in 100: 1 / (1/90 + 1/10)
    (100, 10, 10, 0.9),    # ten single losses: 1 / (10/90 + 10/10)
])
def test_burst_ratio_edges(expected: int, lost: int, bursts: int, ratio: float) -> None:
    assert quality.burst_ratio(expected, lost, bursts) == pytest.approx(ratio)
