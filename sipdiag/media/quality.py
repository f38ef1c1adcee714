"""The listening quality of a stream, estimated with the ITU-T G.107 E-model.

R = Ro - Is - Id - Ie,eff + A (G.107 (06/2015) eq. 7-1), with every default of its Table 3
(so Ro - Is = 93.355, A = 0), and

- Ie,eff = Ie + (95 - Ie) * Ppl / (Ppl / BurstR + Bpl)  (eq. 7-29): Ppl the loss in percent
  as the capture saw it; BurstR = 1 / (p + q), p the chance that a packet is lost after one
  that arrived, q that one arrives after one that was lost (a two-state Markov chain, 7.5),
  kept between 1 and 8 (Table 3's range); Ie and Bpl the codec's figures of ITU-T G.113
  Appendix I (``IMPAIRMENTS``);
- Id = Idte + Idle + Idd (eqs. 7-18 to 7-28) for a mouth-to-ear delay Ta, taking the talker
  echo delay T = Ta and the listener echo round trip Tr = 2 Ta, as a passive observer cannot
  know them apart. Ta is what the capture can tell: the network's one-way delay, half the sum
  of the round trips between the capture point and each side that their RTCP reports give
  (RFC 3550 6.4.1; 0 without RTCP), plus a jitter buffer of twice the mean jitter (at least
  one packet), plus one packet time, plus the codec's look-ahead.

MOS = 1 + 0.035 R + R (R - 60) (100 - R) 7e-6 (Annex B, eq. B-4), at least 1 and at most 4.5.

Wideband and fullband codecs (G.722, Opus, AMR-WB) are scored on this narrowband scale as a
codec without impairment of its own (Ie 0) with packet loss concealment (Bpl 25.1): a
narrowband-equivalent score, comparable with G.711's. A codec without published figures
gets no score rather than a guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

RO_MINUS_IS = 93.355
"""Ro - Is with every default of G.107 Table 3 (Ro 94.769, Is 1.414)."""
RO = 94.769
NO = -61.18
"""The noise floor No (eq. 7-3) with the defaults, dBm0p."""
RLR, TELR, WEPL = 2, 65, 110


@dataclass(frozen=True, slots=True)
class Impairment:
    ie: float
    """Equipment impairment factor: what the codec costs with no loss."""
    bpl: float
    """Packet-loss robustness factor: how well it conceals a lost packet."""
    lookahead_ms: float = 0.0


IMPAIRMENTS = {
    # G.113 Appendix I, Tables I.1 and I.3 (11/2007).
    "PCMU": Impairment(0, 25.1),   # G.711 with its Appendix I concealment
    "PCMA": Impairment(0, 25.1),
    "G729": Impairment(11, 19.0, 5),  # G.729A with VAD, 20 ms packets
    "G723": Impairment(15, 16.1, 7.5),  # G.723.1 at 6.3 kbit/s, 30 ms packets
    "GSM-EFR": Impairment(5, 10.0),
    # Wideband and fullband: narrowband-equivalent (see the module's docstring).
    "G722": Impairment(0, 25.1),
    "OPUS": Impairment(0, 25.1, 6.5),
    "AMR-WB": Impairment(0, 25.1),
}


@dataclass(frozen=True, slots=True)
class Score:
    mos: float
    r_factor: float
    delay_ms: float
    """The mouth-to-ear delay Ta the score assumed."""
    burst_ratio: float


def score(codec: str, loss_percent: float, burst_ratio: float, delay_ms: float) -> Score | None:
    """The E-model's MOS for a stream of this codec, or None for a codec it has no figures
    for."""
    impairment = IMPAIRMENTS.get(codec.upper())
    if impairment is None:
        return None
    ta = delay_ms + impairment.lookahead_ms
    burst = min(8.0, max(1.0, burst_ratio))
    r = RO_MINUS_IS - _delay_impairment(ta) - effective_impairment(impairment, loss_percent,
                                                                    burst)
    return Score(mos_of(r), r, ta, burst)


def effective_impairment(impairment: Impairment, loss_percent: float, burst: float) -> float:
    """Ie,eff (G.107 eq. 7-29)."""
    ie = impairment.ie
    return ie + (95 - ie) * loss_percent / (loss_percent / burst + impairment.bpl)


def mos_of(r: float) -> float:
    """G.107 Annex B eq. B-4, kept within 1 and 4.5."""
    if r <= 0:
        return 1.0
    if r >= 100:
        return 4.5
    return max(1.0, 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6)


def burst_ratio(expected: int, lost: int, bursts: int) -> float:
    """BurstR = 1 / (p + q) (G.107 7.5) from the count of packets expected, lost, and the runs
    the losses came in: p = runs / received, q = runs / lost. 1 without loss."""
    received = expected - lost
    if lost <= 0 or bursts <= 0 or received <= 0:
        return 1.0
    return 1 / (bursts / received + bursts / lost)


def _delay_impairment(ta: float) -> float:
    """Id = Idte + Idle + Idd (G.107 eqs. 7-18 to 7-28) with T = Ta and Tr = 2 Ta."""
    return _talker_echo(ta) + _listener_echo(2 * ta) + _pure_delay(ta)


def _talker_echo(t: float) -> float:
    """Idte (eqs. 7-19 to 7-22); 0 below 1 ms, where echo counts as sidetone."""
    if t < 1:
        return 0.0
    terv = TELR - 40 * math.log10((1 + t / 10) / (1 + t / 150)) + 6 * math.exp(-0.3 * t * t)
    roe = -1.5 * (NO - RLR)
    re = 80 + 2.5 * (terv - 14)
    return ((roe - re) / 2 + math.sqrt((roe - re) ** 2 / 4 + 100) - 1) * (1 - math.exp(-t))


def _listener_echo(tr: float) -> float:
    """Idle (eqs. 7-25, 7-26)."""
    rle = 10.5 * (WEPL + 7) * float((tr + 1) ** -0.25)
    return (RO - rle) / 2 + math.sqrt((RO - rle) ** 2 / 4 + 169)


def _pure_delay(ta: float) -> float:
    """Idd (eqs. 7-27, 7-28) for the default delay sensitivity (sT = 1, mT = 100 ms)."""
    if ta <= 100:
        return 0.0
    x = math.log2(ta / 100)
    return 25 * (float((1 + x**6) ** (1 / 6)) - 3 * float((1 + (x / 3) ** 6) ** (1 / 6)) + 2)
