"""What was sent in clear that an eavesdropper could use: Digest credentials (the response can
be attacked offline, a word list against MD5), Basic credentials (the password itself: RFC 3261
22 forbids them), SDES keys (the call's media can be decrypted: RFC 4568 8.3 asks that SDP
carrying them be encrypted). Read from the exposures of the source ledger: only messages over a
plain transport (not TLS or WSS) are kept there, and but for Basic credentials only a path with
a public address at one end counts (within a private network the same traffic is not open to
the internet).

One finding per source, server and realm (whatever the accounts: their names are listed), or for
keys per pair of addresses, told on the first exposure's call or exchange, with its count and
first and last frames. A finding never holds more of credentials than the user names and the
realm.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping

from sipdiag.dialogs.sources import Exposure, ExposureKind, SourceLedger
from sipdiag.network.addresses import address_kind
from sipdiag.rules.capture import CaptureHit, capture_check
from sipdiag.rules.checks.security import WINDOW, evidence, examples, window_values
from sipdiag.rules.matcher import Hit


def _across_internet(exposure: Exposure) -> bool:
    return "public" in (address_kind(exposure.source), address_kind(exposure.server))


def _grouped(ledger: SourceLedger, kind: ExposureKind
             ) -> dict[tuple[str, str, str], list[Exposure]]:
    """The exposures of this kind, grouped (``_group``), in the order sent: across
    the internet, or anywhere for Basic credentials (the password itself, which RFC 3261 22
    forbids on any path)."""
    found: dict[tuple[str, str, str], list[Exposure]] = defaultdict(list)
    anywhere = kind is ExposureKind.BASIC
    for exposure in sorted(ledger.exposures, key=lambda e: e.message.frame):
        if exposure.kind is kind and (anywhere or _across_internet(exposure)):
            found[_group(exposure, found)].append(exposure)
    return found


def _group(exposure: Exposure, found: Mapping[tuple[str, str, str], list[Exposure]]
           ) -> tuple[str, str, str]:
    """Credentials by source, realm (or header) and server, whatever the accounts; keys by the
    pair of addresses, either way (an offer and its answer expose the keys of one path), named
    after the first sender."""
    key = (exposure.source, exposure.realm, exposure.server)
    if exposure.kind is ExposureKind.SDES:
        back = (exposure.server, exposure.realm, exposure.source)
        return back if back in found else key
    return key


def _hits(ledger: SourceLedger, kind: ExposureKind, name: str) -> Iterator[CaptureHit]:
    for (source, realm, server), exposures in _grouped(ledger, kind).items():
        first, last = exposures[0], exposures[-1]
        values = {**window_values(source, [e.message for e in exposures]),
                  "user": examples(e.user for e in exposures) or "-",
                  "realm": realm or "-", "header": first.header, "server": server,
                  "transport": first.transport}
        found = tuple(sorted({evidence(first.message), evidence(last.message)}))
        yield CaptureHit(first.call_id, first.call_frame,
                         Hit(values, found, (name, source, realm, server)))


@capture_check("digest_in_clear", SourceLedger, (*WINDOW, "user", "realm", "server",
                                                  "transport"))
def digest_in_clear(ledger: SourceLedger, params: Mapping[str, object]) -> Iterator[CaptureHit]:
    return _hits(ledger, ExposureKind.DIGEST, "digest")


@capture_check("basic_credentials", SourceLedger, (*WINDOW, "user", "server", "transport",
                                                    "header"))
def basic_credentials(ledger: SourceLedger, params: Mapping[str, object]
                      ) -> Iterator[CaptureHit]:
    return _hits(ledger, ExposureKind.BASIC, "basic")


@capture_check("sdes_keys_in_clear", SourceLedger, (*WINDOW, "server", "transport"))
def sdes_keys_in_clear(ledger: SourceLedger, params: Mapping[str, object]
                       ) -> Iterator[CaptureHit]:
    return _hits(ledger, ExposureKind.SDES, "sdes")
