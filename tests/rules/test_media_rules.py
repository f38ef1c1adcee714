"""Media patterns of the rule language (rules/README.md, "Media patterns"): what the loader
refuses, with the file and line of the mistake, and what each kind of condition matches on the
crafted media captures. Expected figures come from samples/media/truth.json (known by
construction) or from the standards, never from sipdiag's own output."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sipdiag.analysis import analyze
from sipdiag.rules import Engine, builtin_catalog, load_engine
from sipdiag.rules.loader import load_rule, load_rules
from sipdiag.rules.model import Comparison, Finding, MediaCondition, MediaPattern, MediaSubject
from sipdiag.rules.yamlfile import DataError
from tests.conftest import SAMPLES

MEDIA = SAMPLES / "media"
TRUTH: dict[str, Any] = json.loads((MEDIA / "truth.json").read_text(encoding="utf-8"))["files"]
CATALOG = builtin_catalog()
ANSWER_S = 2.5
"""The 200 OK of every crafted call is 2.5 s after the first frame (samples/media/README.md)."""

Stream = dict[str, Any]
Key = tuple[str, str, str]


# -- writing rules ------------------------------------------------------------------------

def rule_text(media: str, *, params: str = "", message: str = "Media probe.",
              scope: str | None = "call", rule_id: str = "X901",
              name: str = "media-probe") -> str:
    """A whole rule file; ``media`` and ``params`` are YAML blocks written flush left."""
    lines = [f"id: {rule_id}", f"name: {name}", "title:", "  en: Media probe",
             "severity: warning"]
    if scope is not None:
        lines.append(f"scope: {scope}")
    if params:
        lines += ["params:", textwrap.indent(textwrap.dedent(params).strip("\n"), "  ")]
    lines += ["media:", textwrap.indent(textwrap.dedent(media).strip("\n"), "  ")]
    lines += ["message:", f"  en: {json.dumps(message, ensure_ascii=False)}",
              "explanation:", "  en: Why.", "causes:", "  en: Causes.", "fix:", "  en: Fix."]
    return "\n".join(lines) + "\n"


def write_rule(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    head = dict(line.split(": ", 1) for line in text.splitlines()[:2])
    path = folder / f"{head['id']}-{head['name']}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, line: str) -> int:
    """The number (from 1) of the only line of ``text`` that is ``line``, once stripped."""
    found = [n for n, item in enumerate(text.splitlines(), 1) if item.strip() == line.strip()]
    assert len(found) == 1, (line, found)
    return found[0]


def error_of(path: Path) -> str:
    with pytest.raises(DataError) as caught:
        load_rule(path)
    return str(caught.value)


def engine_of(folder: Path, *texts: str) -> Engine:
    """Only these rules (not the built-in ones), with the built-in catalog."""
    for text in texts:
        write_rule(folder, text)
    return Engine(load_rules([folder]), CATALOG)


def probe(tmp_path: Path, media: str, *, params: str = "", message: str = "Media probe.") -> Engine:
    return engine_of(tmp_path / "mine", rule_text(media, params=params, message=message))


def findings(engine: Engine, sample: str) -> list[Finding]:
    return [f for f in analyze(MEDIA / sample, engine=engine, jobs=1).findings
            if f.rule.id.startswith("X")]


# -- what truth.json says -----------------------------------------------------------------

def streams(sample: str) -> list[Stream]:
    found: list[Stream] = TRUTH[sample]["rtp_streams"]
    return found


def key(stream: Stream) -> Key:
    return stream["src"], stream["dst"], stream["ssrc"]


def keys(sample: str, wanted: Callable[[Stream], bool]) -> list[Key]:
    return sorted(key(s) for s in streams(sample) if wanted(s))


def stream_keys(found: list[Finding]) -> list[Key]:
    return sorted((f.values["stream.from"], f.values["stream.to"], f.values["stream.ssrc"])
                  for f in found)


def loss(stream: Stream) -> float:
    return 100 * int(stream["lost"]) / int(stream["expected"])


def the_stream(sample: str, sender: str) -> Stream:
    [found] = [s for s in streams(sample) if s["sender"] == sender]
    return found


def heard_state(call: dict[str, Any]) -> tuple[str | None, str | None]:
    """The call's media state as the rule language means it, from truth's ``audio_heard``:
    ``one_way`` when exactly one side's audio reaches the other (``silent_side`` the side not
    heard), ``none`` when neither does. truth's ``media_state`` counts packets instead, and
    calls silence, comfort noise and an unnegotiated payload type two-way although the other
    side hears nothing (samples/media/README.md)."""
    heard = call["audio_heard"]
    if None in heard.values():
        return call["media_state"], None
    silent = [side for side in ("caller", "callee") if heard[side] is False]
    if not silent:
        return "two_way", None
    if len(silent) == 2:
        return "none", None
    return "one_way", silent[0]


def calls(sample: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = TRUTH[sample]["calls"]
    return found


def near(text: str, value: float) -> bool:
    """A number printed with some digits is the value rounded to them."""
    digits = len(text.partition(".")[2])
    return abs(float(text) - value) <= 0.5 * 10.0 ** -digits + 1e-9


# -- the loader ---------------------------------------------------------------------------

def test_a_media_rule_loads_into_its_pattern_and_params(tmp_path: Path) -> None:
    text = rule_text(
        """
        call:
          state: [two_way, one_way]
          stopped_before_end_under: 5m
        stream:
          kind: audio
          lost: 7
          loss_percent_over: $limit
          max_gap_over: $gap
          outage_under: 1.5s
        """,
        params="limit: 4.5\ngap: 500ms\n",
    )
    rule = load_rule(write_rule(tmp_path, text))
    assert rule.params == {"limit": 4.5, "gap": 0.5}
    assert rule.media == MediaPattern(
        MediaSubject.STREAM,
        (
            MediaCondition("kind", Comparison.IS, ("audio",)),
            MediaCondition("lost", Comparison.IS, 7),
            MediaCondition("loss_percent", Comparison.OVER, None, "limit"),
            MediaCondition("max_gap", Comparison.OVER, None, "gap"),
            MediaCondition("outage", Comparison.UNDER, 1.5),
        ),
        (
            MediaCondition("state", Comparison.IS, ("two_way", "one_way")),
            MediaCondition("stopped_before_end", Comparison.UNDER, 300.0),
        ),
    )


def test_a_call_part_alone_is_about_the_call(tmp_path: Path) -> None:
    rule = load_rule(write_rule(tmp_path, rule_text("call:\n  ended_by_bye: true\n")))
    assert rule.media == MediaPattern(
        MediaSubject.CALL, (MediaCondition("ended_by_bye", Comparison.IS, True),))


STREAM_LOSS = "stream:\n  loss_percent_over: $limit\n"


@pytest.mark.parametrize(
    ("media", "params", "scope", "where", "expected"),
    [
        # a fact of another subject
        ("stream:\n  silent: true\n", "", "call", "silent: true",
         ["'silent' is not a fact of a stream"]),
        # the line of the condition, not that of its part
        ("stream:\n  lost: 0\n  silent: true\n", "", "call", "silent: true",
         ["'silent' is not a fact of a stream"]),
        ("call:\n  loss_percent_over: 3\nstream:\n  lost: 0\n", "", "call",
         "loss_percent_over: 3", ["'loss_percent_over' is not a fact of a call"]),
        ("direction:\n  jitter_ms_max_over: 30\n", "", "call", "jitter_ms_max_over: 30",
         ["'jitter_ms_max_over' is not a fact of a direction"]),
        # a word that is not one of the fact's
        ("call:\n  state: sideways\n", "", "call", "state: sideways",
         ["'state' must be one of", "two_way", "(found 'sideways')"]),
        ("call:\n  state: [one_way, half_way]\n", "", "call", "state: [one_way, half_way]",
         ["'state' must be one of", "half_way"]),
        ("call:\n  state: []\n", "", "call", "state: []", ["'state' must be one of"]),
        ("direction:\n  cause: gremlins\n", "", "call", "cause: gremlins",
         ["'cause' must be one of", "nothing_sent", "gremlins"]),
        # a number, a count or true/false given something else
        ("stream:\n  loss_percent_over: lots\n", "", "call", "loss_percent_over: lots",
         ["'loss_percent_over' must be a number (found 'lots')"]),
        ("stream:\n  mos: good\n", "", "call", "mos: good", ["'mos' must be a number"]),
        ("stream:\n  lost: many\n", "", "call", "lost: many",
         ["'lost' must be a whole number (found 'many')"]),
        ("stream:\n  lost_over: true\n", "", "call", "lost_over: true",
         ["'lost_over' must be a whole number (found True)"]),
        ("direction:\n  silent: sometimes\n", "", "call", "silent: sometimes",
         ["'silent' must be true or false (found 'sometimes')"]),
        ("direction:\n  packets: 0\n  silent: sometimes\n", "", "call", "silent: sometimes",
         ["'silent' must be true or false (found 'sometimes')"]),
        # _over and _under only for numbers and durations
        ("call:\n  state_over: 1\n", "", "call", "state_over: 1",
         ["'state_over': state is a word, which is not compared"]),
        ("direction:\n  silent_under: 1\n", "", "call", "silent_under: 1",
         ["'silent_under': silent is true or false, which is not compared"]),
        ("stream:\n  kind_over: 0\n", "", "call", "kind_over: 0",
         ["'kind_over': kind is a word, which is not compared"]),
        # parameters
        (STREAM_LOSS, "limit: 3\nspare: 5\n", "call", "spare: 5",
         ["'spare' is used by no condition of 'media'"]),
        (STREAM_LOSS, "limit: lots\n", "call", "limit: lots",
         ["'limit' must be a number (found 'lots')"]),
        ("stream:\n  max_gap_over: $gap\n", "gap: soon\n", "call", "gap: soon",
         ["'gap'", "'soon' is not a duration"]),
        ("call:\n  state: $which\n", "which: 1\n", "call", "state: $which",
         ["'state' is a word: a parameter stands only for a number or a duration"]),
        ("direction:\n  silent: $flag\n", "flag: 1\n", "call", "silent: $flag",
         ["'silent' is true or false: a parameter stands only for a number"]),
        # durations
        ("stream:\n  outage_over: 2 seconds\n", "", "call", "outage_over: 2 seconds",
         ["'outage_over'", "'2 seconds' is not a duration"]),
        ("stream:\n  max_gap_over: 2\n", "", "call", "max_gap_over: 2",
         ["'max_gap_over'", "2 is not a duration"]),
        ("call:\n  stopped_before_end_under: 5 min\n", "", "call",
         "stopped_before_end_under: 5 min", ["'5 min' is not a duration"]),
        # the shape of the pattern
        ("direction:\n  silent: true\nstream:\n  lost: 0\n", "", "call", "media:",
         ["'media' has either a 'direction' or a 'stream' part, not both"]),
        ("stream: {}\n", "", "call", "stream: {}", ["'media: stream' needs at least one"]),
        ("streams:\n  lost: 0\n", "", "call", "streams:", ["unknown key 'streams'"]),
        ("{}", "", "call", "media:", ["'media' needs a 'call', 'direction' or 'stream' part"]),
    ],
)
def test_media_mistakes_are_reported_with_file_and_line(
    tmp_path: Path, media: str, params: str, scope: str, where: str, expected: list[str]
) -> None:
    text = rule_text(media, params=params, scope=scope)
    path = write_rule(tmp_path, text)
    message = error_of(path)
    assert message.startswith(f"{path}:{line_of(text, where)}: "), message
    for part in expected:
        assert part in message, message


@pytest.mark.parametrize(("scope", "where"), [("any", "scope: any"),
                                               ("exchange", "scope: exchange"),
                                               (None, "id: X901")])
def test_a_media_rule_is_about_calls_only(tmp_path: Path, scope: str | None, where: str) -> None:
    """Without a scope the rule's is ``any`` (and the mistake is on the rule's first line)."""
    text = rule_text("stream:\n  lost: 0\n", scope=scope)
    path = write_rule(tmp_path, text)
    assert error_of(path) == (f"{path}:{line_of(text, where)}: a rule with 'media' is about "
                              "calls: scope must be call")


def test_a_parameter_the_rule_does_not_declare_is_named(tmp_path: Path) -> None:
    path = write_rule(tmp_path, rule_text(STREAM_LOSS, params="over: 3\n"))
    message = error_of(path)
    assert message.startswith(f"{path}:") and "'$limit' names no entry of 'params'" in message


def test_a_parameter_the_rule_does_not_declare_is_reported_on_its_condition(
    tmp_path: Path,
) -> None:
    text = rule_text("call:\n  answered: true\nstream:\n  kind: audio\n"
                     "  loss_percent_over: $limit\n")
    path = write_rule(tmp_path, text)
    assert error_of(path).startswith(f"{path}:{line_of(text, 'loss_percent_over: $limit')}: ")


@pytest.mark.parametrize(
    ("media", "message", "unknown"),
    [
        ("call:\n  state: one_way\n", "{stream.loss_percent}", "stream.loss_percent"),
        ("call:\n  state: one_way\n", "{direction.sender}", "direction.sender"),
        ("direction:\n  silent: true\n", "{stream.from}", "stream.from"),
        ("stream:\n  lost_over: 0\n", "{direction.cause}", "direction.cause"),
        ("stream:\n  lost_over: 0\n", "over {param.limit}", "param.limit"),
        ("stream:\n  lost_over: 0\n", "{media.colour}", "media.colour"),
    ],
)
def test_a_message_may_only_use_what_the_pattern_fills(
    tmp_path: Path, media: str, message: str, unknown: str
) -> None:
    text = rule_text(media, message=message)
    path = write_rule(tmp_path, text)
    found = error_of(path)
    assert found.startswith(f"{path}:{line_of(text, 'message:')}: "), found
    assert f"the message uses {{{unknown}}}, which nothing fills" in found


def test_a_message_may_use_the_call_media_and_its_own_subject(tmp_path: Path) -> None:
    message = ("{stream.loss_percent} {media.state} {media.silent_side} {param.limit} "
               "{call.call_id}")
    rule = load_rule(write_rule(tmp_path, rule_text(STREAM_LOSS, params="limit: 3\n",
                                                    message=message)))
    assert rule.message.placeholders() == {"stream.loss_percent", "media.state",
                                           "media.silent_side", "param.limit", "call.call_id"}


# -- matching on the crafted captures -----------------------------------------------------

def loss_cases() -> list[tuple[str, float]]:
    """For each capture with loss, limits just under and just over each lossy stream's loss."""
    cases = []
    for sample in ("loss-random.pcap", "loss-burst.pcap", "g729-loss.pcap", "srtp-savp.pcap",
                   "two-hops-relay.pcap"):
        for stream in streams(sample):
            if stream["lost"]:
                cases += [(sample, round(loss(stream) - 0.01, 4)),
                          (sample, round(loss(stream) + 0.01, 4))]
    return cases


@pytest.mark.parametrize(("sample", "limit"), loss_cases())
def test_loss_over_a_parameter_fires_once_per_stream_that_lost_more(
    tmp_path: Path, sample: str, limit: float
) -> None:
    engine = probe(tmp_path, STREAM_LOSS, params=f"limit: {limit}\n")
    found = findings(engine, sample)
    assert stream_keys(found) == keys(sample, lambda s: loss(s) > limit)


@pytest.mark.parametrize("written", ["in-the-rule", "in-params"])
@pytest.mark.parametrize("limit", [4.6, 4.7])
def test_a_threshold_written_in_the_rule_or_in_its_params_is_the_same(
    tmp_path: Path, written: str, limit: float
) -> None:
    """loss-random: 7 of 150 lost on the caller's stream, 4.67 %."""
    if written == "in-params":
        engine = probe(tmp_path, STREAM_LOSS, params=f"limit: {limit}\n")
    else:
        engine = probe(tmp_path, f"stream:\n  loss_percent_over: {limit}\n")
    expected = keys("loss-random.pcap", lambda s: loss(s) > limit)
    assert stream_keys(findings(engine, "loss-random.pcap")) == expected
    assert len(expected) == (1 if limit == 4.6 else 0)


def test_a_value_equal_to_the_limit_is_neither_over_nor_under(tmp_path: Path) -> None:
    """loss-burst: the callee's stream lost exactly 18 of 150, 12 %; "over" means more than."""
    lossy = the_stream("loss-burst.pcap", "callee")
    assert loss(lossy) == 12
    over = probe(tmp_path / "over", "stream:\n  loss_percent_over: 12\n")
    under = probe(tmp_path / "under", "stream:\n  loss_percent_under: 12\n")
    assert findings(over, "loss-burst.pcap") == []
    assert stream_keys(findings(under, "loss-burst.pcap")) == keys(
        "loss-burst.pcap", lambda s: s is not lossy)


def test_over_and_under_together_are_a_band(tmp_path: Path) -> None:
    engine = probe(tmp_path, "stream:\n  loss_percent_over: 5\n  loss_percent_under: 10\n")
    for sample in ("loss-random.pcap", "loss-burst.pcap", "g729-loss.pcap"):
        assert stream_keys(findings(engine, sample)) == keys(sample, lambda s: 5 < loss(s) < 10)


@pytest.mark.parametrize(("comparison", "offset"),
                         [("over", -0.05), ("over", 0.05), ("under", -0.05), ("under", 0.05)])
def test_jitter_over_and_under(tmp_path: Path, comparison: str, offset: float) -> None:
    """jitter.pcap: the callee's packets arrive in bursts (RFC 3550 jitter up to 39 ms), the
    caller's on time (0 ms)."""
    sample = "jitter.pcap"
    limit = round(the_stream(sample, "callee")["max_jitter_ms"] + offset, 4)
    engine = probe(tmp_path, f"stream:\n  jitter_ms_max_{comparison}: $limit\n",
                   params=f"limit: {limit}\n")
    if comparison == "over":
        expected = keys(sample, lambda s: s["max_jitter_ms"] > limit)
    else:
        expected = keys(sample, lambda s: s["max_jitter_ms"] < limit)
    assert stream_keys(findings(engine, sample)) == expected


@pytest.mark.parametrize("sample", ["loss-burst.pcap", "loss-random.pcap", "two-way-g711.pcap"])
def test_mos_under(tmp_path: Path, sample: str) -> None:
    """G.107 with G.711's Ie 0 and Bpl 25.1 (G.113 Appendix I): 12 % loss makes Ie,eff at least
    95 x 12 / (12 + 25.1) = 30.7, so R <= 62.5 and MOS <= 3.3 whatever the burstiness; 4.67 %
    of random loss (BurstR 1) gives Ie,eff 14.9, R about 78, MOS about 3.9; no loss, R above
    90, MOS above 4.3. Only the stream that lost 12 % is under 3.6."""
    engine = probe(tmp_path, "stream:\n  mos_under: 3.6\n")
    assert stream_keys(findings(engine, sample)) == keys(sample, lambda s: loss(s) >= 10)


@pytest.mark.parametrize(
    ("sample", "condition", "gives"),
    [
        # comfort-noise-only: the callee sends only CN (PT 13), no audio: neither a MOS nor a
        # loss in percent ("audio streams only")
        ("comfort-noise-only.pcap", "mos_over: 0", lambda s: s["codec"] != "CN"),
        ("comfort-noise-only.pcap", "mos_under: 100", lambda s: s["codec"] != "CN"),
        ("comfort-noise-only.pcap", "loss_percent_over: -1", lambda s: s["codec"] != "CN"),
        ("comfort-noise-only.pcap", "loss_percent_under: 1000", lambda s: s["codec"] != "CN"),
        # no RTCP in loss-random: no remote loss; both sides report in rtcp-remote-loss
        ("loss-random.pcap", "remote_loss_percent_over: -1", lambda _: False),
        ("loss-random.pcap", "remote_loss_percent_under: 1000", lambda _: False),
        ("rtcp-remote-loss.pcap", "remote_loss_percent_over: -1", lambda _: True),
        ("rtcp-remote-loss.pcap", "remote_loss_percent_under: 1000", lambda _: True),
    ],
)
def test_a_fact_the_capture_cannot_give_is_neither_over_nor_under(
    tmp_path: Path, sample: str, condition: str, gives: Callable[[Stream], bool]
) -> None:
    engine = probe(tmp_path, f"stream:\n  {condition}\n")
    assert stream_keys(findings(engine, sample)) == keys(sample, gives)


def test_remote_loss_is_what_the_receiver_reported_of_what_was_sent(tmp_path: Path) -> None:
    """rtcp-remote-loss: bob's last report block about alice's stream says 25 lost (RFC 3550
    6.4.1 cumulative number of packets lost), of the 250 the capture saw: 10 %."""
    sample = "rtcp-remote-loss.pcap"
    sent = the_stream(sample, "caller")
    [*_, last] = [block for packet in TRUTH[sample]["rtcp"]
                  for block in packet["report_blocks"] if block["source_ssrc"] == sent["ssrc"]]
    reported = 100 * last["cumulative_lost"] / sent["expected"]
    for limit, expected in [(reported - 0.5, [key(sent)]), (reported + 0.5, [])]:
        engine = probe(tmp_path / str(limit), "stream:\n  remote_loss_percent_over: $limit\n",
                       params=f"limit: {limit}\n", message="{stream.remote_loss_percent}")
        found = findings(engine, sample)
        assert stream_keys(found) == expected
        assert all(near(f.message(), reported) for f in found)


@pytest.mark.parametrize(("sample", "written", "limit_ms"), [
    ("loss-burst.pcap", "100ms", 100), ("loss-burst.pcap", "0.1s", 100),
    ("loss-burst.pcap", "150ms", 150), ("jitter.pcap", "190ms", 190),
    ("jitter.pcap", "192ms", 192), ("loss-random.pcap", "30ms", 30),
])
def test_durations_are_compared_in_their_units(
    tmp_path: Path, sample: str, written: str, limit_ms: float
) -> None:
    """max_gap: the largest time between two packets (truth's max_delta_ms)."""
    engine = probe(tmp_path, "stream:\n  max_gap_over: $gap\n", params=f"gap: {written}\n")
    assert stream_keys(findings(engine, sample)) == keys(
        sample, lambda s: s["max_delta_ms"] > limit_ms)


@pytest.mark.parametrize("written", ["4s", "4043ms", "4100ms", "1m"])
def test_late_media_by_direction(tmp_path: Path, written: str) -> None:
    """late-media: the caller's RTP starts 4.04 s after the 200 OK, the callee's 4.0465 s."""
    limit = {"4s": 4.0, "4043ms": 4.043, "4100ms": 4.1, "1m": 60.0}[written]
    engine = probe(tmp_path, f"direction:\n  start_after_answer_over: {written}\n",
                   message="{direction.sender}")
    senders = sorted(f.message() for f in findings(engine, "late-media.pcap"))
    assert senders == sorted(s["sender"] for s in streams("late-media.pcap")
                             if s["start_s"] - ANSWER_S > limit)


@pytest.mark.parametrize(("condition", "fires"), [
    ("stopped_before_end_over: 29s", True), ("stopped_before_end_over: 31s", False),
    ("stopped_before_end_under: 1m", True), ("stopped_before_end_under: 29500ms", False),
])
def test_audio_that_stopped_long_before_the_bye(
    tmp_path: Path, condition: str, fires: bool
) -> None:
    """rtp-timeout-bye: both directions stop, and bob's BYE comes 30 s after the last packet."""
    engine = probe(tmp_path, f"call:\n  ended_by_bye: true\n  {condition}\n")
    found = findings(engine, "rtp-timeout-bye.pcap")
    assert [f.call_id for f in found] == ([calls("rtp-timeout-bye.pcap")[0]["call_id"]]
                                          if fires else [])


@pytest.mark.parametrize(("sample", "condition", "wanted"), [
    ("loss-random.pcap", "lost: 7", lambda s: s["lost"] == 7),
    ("loss-random.pcap", "lost: 6", lambda s: s["lost"] == 6),
    ("two-hops-relay.pcap", "hop: 2", lambda s: "198.51.100.20:3456" in (s["src"], s["dst"])),
    ("srtp-savp.pcap", "encrypted: true", lambda s: s["srtp"]),
    ("two-way-g711.pcap", "encrypted: true", lambda s: s["srtp"]),
    ("one-way-callee-silent.pcap", "sender: [callee, caller]", lambda _: True),
    # one SSRC on two hops is two streams (rules/README.md: one SSRC, one direction, one hop)
    ("two-hops-relay.pcap", "kind: audio", lambda _: True),
])
def test_counts_words_and_flags_of_streams(
    tmp_path: Path, sample: str, condition: str, wanted: Callable[[Stream], bool]
) -> None:
    """two-hops-relay: the proxy's SDP towards bob announced the second hop."""
    engine = probe(tmp_path, f"stream:\n  {condition}\n")
    assert stream_keys(findings(engine, sample)) == keys(sample, wanted)


@pytest.fixture(scope="module")
def state_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    folder = tmp_path_factory.mktemp("state")
    return engine_of(folder, rule_text(
        "call:\n  state: [one_way, none]\n", message="{media.state} {media.silent_side}",
        rule_id="X902", name="not-both-ways"))


@pytest.mark.parametrize("sample", sorted(TRUTH))
def test_a_call_state_in_a_list_fires_on_calls_not_heard_both_ways(
    state_engine: Engine, sample: str
) -> None:
    found = sorted((f.call_id, f.message()) for f in findings(state_engine, sample))
    expected = []
    for call in calls(sample):
        state, silent = heard_state(call)
        if state in ("one_way", "none"):
            expected.append((call["call_id"], f"{state} {silent or '-'}"))
    assert found == sorted(expected)


@pytest.fixture(scope="module")
def nothing_sent_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    folder = tmp_path_factory.mktemp("nothing-sent")
    return engine_of(folder, rule_text(
        "direction:\n  silent: true\n  cause: nothing_sent\n",
        message="{direction.sender} {direction.cause} {direction.packets}",
        rule_id="X903", name="nothing-sent"))


@pytest.mark.parametrize("sample", sorted(TRUTH))
def test_a_silent_direction_that_sent_nothing(nothing_sent_engine: Engine, sample: str) -> None:
    """A side is silent for having sent nothing when its audio is not heard and the capture
    holds no RTP stream of it (truth: ``audio_heard`` false, no stream of that sender)."""
    found = sorted((f.call_id, f.message()) for f in findings(nothing_sent_engine, sample))
    expected = []
    for call in calls(sample):
        sent = {s["sender"] for s in streams(sample) if s["call_id"] == call["call_id"]}
        expected += [(call["call_id"], f"{side} nothing_sent 0") for side in ("caller", "callee")
                     if call["audio_heard"][side] is False and side not in sent]
    assert found == sorted(expected)


def test_media_the_capture_cannot_hold_is_never_silent(tmp_path: Path) -> None:
    """sip-only-not-captured: only the SIP is in the file (rules/README.md: a call whose media
    is ``not_captured`` meets no condition about silence)."""
    [call] = calls("sip-only-not-captured.pcap")
    assert call["media_state"] == "not_captured"
    engine = probe(tmp_path, "direction:\n  silent: true\n")
    assert findings(engine, "sip-only-not-captured.pcap") == []


def test_media_the_capture_cannot_hold_is_not_heard_either(tmp_path: Path) -> None:
    """truth: ``audio_heard`` is null for both sides of sip-only-not-captured ("nothing can be
    said"); rules/README.md: such a call meets no condition about silence."""
    engine = probe(tmp_path, "direction:\n  silent: false\n")
    assert findings(engine, "sip-only-not-captured.pcap") == []


@pytest.mark.parametrize(("sample", "state", "condition", "wanted"), [
    ("loss-random.pcap", "two_way", "loss_percent_over: 3", lambda s: loss(s) > 3),
    ("loss-random.pcap", "one_way", "loss_percent_over: 3", lambda s: loss(s) > 3),
    ("rtp-wrong-port.pcap", "one_way", "sender: callee", lambda s: s["sender"] == "callee"),
    ("rtp-wrong-port.pcap", "two_way", "sender: callee", lambda s: s["sender"] == "callee"),
    ("rtp-wrong-port.pcap", "one_way", "lost_over: 0", lambda s: s["lost"] > 0),
])
def test_a_call_part_and_a_stream_part_must_both_hold(
    tmp_path: Path, sample: str, state: str, condition: str, wanted: Callable[[Stream], bool]
) -> None:
    engine = probe(tmp_path, f"call:\n  state: {state}\nstream:\n  {condition}\n")
    [call] = calls(sample)
    expected = keys(sample, wanted) if heard_state(call)[0] == state else []
    assert stream_keys(findings(engine, sample)) == expected


def test_a_direction_rule_with_a_call_part(tmp_path: Path) -> None:
    """one-way-callee-silent: bob sends nothing, alice's audio reaches him."""
    engine = probe(tmp_path, "call:\n  silent_side: callee\ndirection:\n  silent: false\n",
                   message="{direction.sender}")
    assert [f.message() for f in findings(engine, "one-way-callee-silent.pcap")] == ["caller"]
    assert findings(engine, "rtp-wrong-port.pcap") == []  # there the caller is not heard


@pytest.mark.parametrize("limit", ["4.5", "3"])
def test_stream_placeholders_come_out_with_the_stream_figures(
    tmp_path: Path, limit: str
) -> None:
    sample = "loss-random.pcap"
    [call] = calls(sample)
    fields = ["stream.sender", "stream.from", "stream.to", "stream.ssrc", "stream.lost",
              "stream.expected", "stream.packets", "stream.loss_percent", "stream.first_frame",
              "stream.last_frame", "param.limit", "media.state", "media.silent_side",
              "call.call_id"]
    engine = probe(tmp_path, STREAM_LOSS, params=f"limit: {limit}\n",
                   message="|".join(f"{{{name}}}" for name in fields))
    [finding] = findings(engine, sample)
    [lossy] = [s for s in streams(sample) if s["lost"]]
    shown = dict(zip(fields, finding.message().split("|"), strict=True))
    assert near(shown.pop("stream.loss_percent"), loss(lossy))
    assert shown == {
        "stream.sender": lossy["sender"], "stream.from": lossy["src"],
        "stream.to": lossy["dst"], "stream.ssrc": lossy["ssrc"],
        "stream.lost": str(lossy["lost"]), "stream.expected": str(lossy["expected"]),
        "stream.packets": str(lossy["packets"]), "stream.first_frame": str(lossy["first_frame"]),
        "stream.last_frame": str(lossy["last_frame"]), "param.limit": limit,
        "media.state": "two_way", "media.silent_side": "-", "call.call_id": call["call_id"],
    }


def test_jitter_placeholders(tmp_path: Path) -> None:
    engine = probe(tmp_path, "stream:\n  jitter_ms_max_over: 1\n",
                   message="{stream.jitter_ms_max}|{stream.sender}")
    [finding] = findings(engine, "jitter.pcap")
    shown, sender = finding.message().split("|")
    assert sender == "callee"
    assert near(shown, the_stream("jitter.pcap", "callee")["max_jitter_ms"])


def test_call_placeholders_of_a_direction_finding(tmp_path: Path) -> None:
    sample = "one-way-callee-silent.pcap"
    [call] = calls(sample)
    [only] = streams(sample)
    engine = probe(tmp_path, "direction:\n  silent: true\n",
                   message="{direction.sender} {direction.receiver} {media.state} "
                           "{media.silent_side} {media.bye_frame} {media.first_frame} "
                           "{media.last_frame}")
    [finding] = findings(engine, sample)
    assert finding.message() == (
        f"{call['not_heard']} caller one_way {call['not_heard']} {call['bye_frame']} "
        f"{only['first_frame']} {only['last_frame']}")


@pytest.mark.parametrize(("sample", "sender", "announced"), [
    # the caller's audio goes where the answer (frame answer_frame) asked for it
    ("loss-random.pcap", "caller", "answer"),
    # the callee's audio goes where the INVITE, the first frame, asked for it
    ("loss-burst.pcap", "callee", "invite"),
])
def test_a_stream_finding_rests_on_its_sdp_and_its_first_and_last_packets(
    tmp_path: Path, sample: str, sender: str, announced: str
) -> None:
    engine = probe(tmp_path, "stream:\n  loss_percent_over: 1\n")
    [finding] = findings(engine, sample)
    [call] = calls(sample)
    stream = the_stream(sample, sender)
    sdp = call["answer_frame"] if announced == "answer" else 1
    assert [e.frame for e in finding.evidence] == sorted(
        [sdp, stream["first_frame"], stream["last_frame"]])


def test_a_direction_finding_rests_on_its_own_streams(tmp_path: Path) -> None:
    sample = "one-way-callee-silent.pcap"
    engine = probe(tmp_path, "direction:\n  sender: caller\n")
    [finding] = findings(engine, sample)
    [call] = calls(sample)
    [stream] = streams(sample)
    assert [e.frame for e in finding.evidence] == [call["answer_frame"], stream["first_frame"],
                                                  stream["last_frame"]]


def test_a_call_finding_rests_on_the_bye_and_every_stream(tmp_path: Path) -> None:
    sample = "loss-random.pcap"
    engine = probe(tmp_path, "call:\n  ended_by_bye: true\n")
    [finding] = findings(engine, sample)
    [call] = calls(sample)
    frames = {call["bye_frame"]}
    for stream in streams(sample):
        frames |= {stream["first_frame"], stream["last_frame"]}
    assert [e.frame for e in finding.evidence] == sorted(frames)


def test_a_media_rule_beside_the_built_in_ones(tmp_path: Path) -> None:
    """A user's rule runs with the built-in rules, each finding its own."""
    folder = tmp_path / "mine"
    write_rule(folder, rule_text("stream:\n  loss_percent_over: 3\n"))
    engine = load_engine([folder])
    assert {"M109", "X901"} <= {r.id for r in engine.rules.rules}
    found = analyze(MEDIA / "loss-random.pcap", engine=engine, jobs=1).findings
    mine = [f for f in found if f.rule.id == "X901"]
    assert stream_keys(mine) == keys("loss-random.pcap", lambda s: loss(s) > 3)
