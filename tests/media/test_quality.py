"""The E-model (ITU-T G.107 06/2015) and its figures, at points the standard gives."""

from __future__ import annotations

import pytest

from sipdiag.media import quality


def test_every_default_gives_r_93_2() -> None:
    """Ro - Is - Idle(Tr=0) with Table 3's defaults: the familiar 93.2."""
    score = quality.score("PCMU", 0, 1, 0)
    assert score is not None and score.r_factor == pytest.approx(93.206, abs=0.001)


@pytest.mark.parametrize(("r", "mos"), [(90, 4.34), (80, 4.02), (70, 3.60), (60, 3.10),
                                        (50, 2.58)])
def test_r_to_mos_as_annex_b(r: float, mos: float) -> None:
    assert quality.mos_of(r) == pytest.approx(mos, abs=0.005)


def test_mos_stays_between_1_and_4_5() -> None:
    assert quality.mos_of(-5) == 1.0 and quality.mos_of(3) == 1.0 and quality.mos_of(120) == 4.5


@pytest.mark.parametrize(("ta", "idd"), [(100, 0.0), (150, 0.164), (200, 3.044), (400, 24.07)])
def test_pure_delay_impairment(ta: float, idd: float) -> None:
    assert quality._pure_delay(ta) == pytest.approx(idd, abs=0.005)


def test_pure_delay_impairment_starts_right_above_100_ms() -> None:
    """Idd = 0 up to mT = 100 ms, then 25 {(1 + X^6)^(1/6) - 3 (1 + (X/3)^6)^(1/6) + 2} with
    X = log2(Ta / mT) (eqs. 7-27, 7-28): tiny at 101 ms, but not 0."""
    assert quality._pure_delay(101) > 0


@pytest.mark.parametrize(("tr", "idle"), [(0, 0.149), (15, 0.325)])
def test_listener_echo_impairment(tr: float, idle: float) -> None:
    """Rle = 10.5 (WEPL + 7) (Tr + 1)^-1/4 (eq. 7-26): 1228.5 at Tr = 0, half that (614.25) at
    Tr = 15; Idle = (Ro - Rle)/2 + sqrt((Ro - Rle)^2/4 + 169) (eq. 7-25)."""
    assert quality._listener_echo(tr) == pytest.approx(idle, abs=0.001)


def test_loss_impairment_with_the_codecs_figures() -> None:
    """Ie,eff = Ie + (95 - Ie) Ppl / (Ppl / BurstR + Bpl): G.711 with concealment at 2 %
    random loss costs 7.01, G.729A 19.0 (its Ie 11 included)."""
    g711 = quality.IMPAIRMENTS["PCMA"]
    g729 = quality.IMPAIRMENTS["G729"]
    assert quality.effective_impairment(g711, 2, 1) == pytest.approx(7.01, abs=0.01)
    assert quality.effective_impairment(g729, 2, 1) == pytest.approx(19.0, abs=0.01)
    score = quality.score("PCMA", 2, 1, 0)
    assert score is not None and score.r_factor == pytest.approx(93.206 - 7.01, abs=0.01)


def test_bursty_loss_hurts_more_and_burst_ratio_is_bounded() -> None:
    random_loss = quality.score("PCMU", 5, 1, 0)
    bursty = quality.score("PCMU", 5, 4, 0)
    assert random_loss is not None and bursty is not None
    assert bursty.mos < random_loss.mos
    assert quality.burst_ratio(100, 0, 0) == 1.0
    # 18 lost in 3 runs of 6: p = 3/82, q = 3/18, BurstR = 1 / (p + q)
    assert quality.burst_ratio(100, 18, 3) == pytest.approx(1 / (3 / 82 + 3 / 18))
    assert quality.score("PCMU", 5, 50, 0).burst_ratio == 8.0  # type: ignore[union-attr]


def test_a_codec_without_figures_gets_no_score() -> None:
    assert quality.score("SPEEX", 0, 1, 0) is None
