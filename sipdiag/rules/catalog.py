"""The catalog: every SIP response code, Q.850 cause and Warning code, explained.

Read from ``rules/catalog/`` (see rules/README.md): ``responses.yaml``, ``q850.yaml``,
``warnings.yaml``, ``outcomes.yaml`` (the outcome words of calls and exchanges) and
``compare.yaml`` (labels and the sentences of a side-by-side comparison). Every entry is
checked as it is read; a wrong one is reported with its file and line.

``compare`` works out how two codes differ from the attributes of their entries (class, final
or not, where the cause lies, what the sender does next) and picks the matching sentences, plus
any sentence written for that very pair: the reporter only lays them out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict, TypeVar

from sipdiag.dialogs.outcome import Outcome
from sipdiag.rules.text import Text, need_text, parse_text
from sipdiag.rules.yamlfile import DataError, Fields, item_line, load

CAUSES = ("normal", "request", "callee", "routing", "auth", "capability", "state", "network",
          "server")
NEXT_STEPS = ("wait", "done", "credentials", "new-target", "change", "later", "elsewhere",
              "give-up")
Q850_GROUPS = ("normal", "resource", "service", "implementation", "invalid", "protocol",
               "interworking")
CLASSES = {1: "provisional", 2: "success", 3: "redirection", 4: "client-error",
           5: "server-error", 6: "global-failure"}
LABELS = (
    "code", "class", "meaning", "seen_when", "fix", "rfc", "cause", "next", "differences",
    "unregistered", "name", "group", "text", "findings", "no_findings", "info", "warning", "error",
    "call", "what_happened", "why", "causes", "how_to_fix", "evidence", "see_also", "references",
    "copy", "frame", "rule", "severity", "scope", "title", "pattern", "check", "steps", "rules",
    "response_code", "q850_cause", "warning_code", "tests", "capture", "file", "format",
    "link_types", "frames", "first_frame", "last_frame", "span", "seconds", "sip_messages",
    "tls_sessions",
    "defects", "calls", "exchanges", "asr", "ner", "ratio", "pdd", "spread", "final_responses",
    "outcomes", "method_status", "count", "total", "col_frame", "col_from", "col_to",
    "col_outcome", "col_final", "col_pdd", "col_answer", "col_talk", "col_legs", "col_retr",
    "col_call_id", "col_start", "col_worst", "as_above", "agents", "verdict",
    "verdict_line", "and_more", "attention", "attention_more",
    "col_method", "col_transactions", "col_findings",
    "linked_legs", "col_linked", "col_sure", "sure_header", "sure_high", "sure_medium",
    "col_because", "problems", "col_problem", "col_frames", "col_example", "ladder", "selected",
    "selected_note",
    "check_title", "col_expectation", "col_expected", "col_actual", "col_result", "check_pass",
    "check_fail", "check_next", "check_call", "check_one_of", "check_all_of", "check_none_of",
    "check_at_most", "check_no_finding", "check_never_rang", "check_no_final", "check_one_call",
    "check_calls_found", "check_no_call_index", "check_no_call_id", "check_no_call_user",
    "check_no_next_call", "check_no_previous", "check_several_calls", "check_unmet",
    "check_copies", "check_failures", "check_summary", "check_findings_in",
    "check_findings_above",
    "test_call", "test_exchange",
    "report_title", "ladders", "ladders_capped", "col_time", "request", "retransmission", "sdp",
    "sdp_body", "no_problems",
    "col_source", "col_destination", "col_proto", "col_message", "col_cseq", "read_summary",
    "read_problems", "translations", "translations_complete", "col_where", "col_text",
    "counted", "separator", "rfc_section", "times", "call_ref",
    "col_media", "media_two_way", "media_one_way", "media_none", "media_on_hold",
    "media_not_captured", "media_early_only", "side_caller", "side_callee", "side_unknown",
    "media_title", "col_direction", "direction_value", "col_hop", "col_ssrc", "col_codec",
    "col_packets", "col_lost", "col_jitter", "col_gap", "col_mos", "lost_value", "jitter_value",
    "dtmf", "dtmf_value", "rtp_band", "rtp_end", "dtmf_event", "media", "media_figures",
    "unattributed", "timeline", "timeline_packets", "timeline_lost", "timeline_jitter",
    "check_at_least", "check_no_media", "check_not_measured", "check_percent", "check_ms",
    "check_mos",
    "table_search", "search_count_calls", "search_count_exchanges",
    "search_count_sources", "ladder_hint",
    "message_title", "message_previous", "message_next", "message_close", "message_body",
    "message_sdp",
    "sources_title", "col_requests", "col_users", "col_answers", "col_first_seen",
    "col_last_seen", "col_agent", "col_verdict", "sources_more",
    "stats_title", "col_hour", "col_day", "col_trunk", "col_attempts", "col_answered", "col_asr",
    "col_ner", "col_pdd_median", "col_pdd_p95", "col_top_findings",
)
"""The words of the reports (report.yaml): every one the reporters use, and no other."""
SENTENCES = ("same_class", "class_differs", "final_vs_provisional", "neither_a_problem",
             "one_normal", "same_cause", "cause_differs", "same_next", "next_differs")
OUTCOMES = tuple(Outcome)


@dataclass(frozen=True, slots=True)
class Explained:
    """What every catalog entry says: its meaning, when it is seen, what to do."""

    meaning: Text
    seen_when: Text
    fix: Text


@dataclass(frozen=True, slots=True)
class ResponseCode:
    code: int
    reason: str
    rfc: str
    cause: str
    next: str
    text: Explained

    @property
    def klass(self) -> str:
        return CLASSES[self.code // 100]

    @property
    def final(self) -> bool:
        return self.code >= 200


@dataclass(frozen=True, slots=True)
class Q850Cause:
    cause: int
    name: str
    group: str
    text: Explained


@dataclass(frozen=True, slots=True)
class WarningCode:
    code: int
    name: str
    rfc: str
    text: Explained


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two codes side by side, and the sentences that say how they differ."""

    a: ResponseCode
    b: ResponseCode
    differences: tuple[tuple[Text, dict[str, str]], ...]
    """Each sentence with the values of its placeholders (in the catalog's words)."""


@dataclass(frozen=True)
class Catalog:
    responses: dict[int, ResponseCode]
    q850: dict[int, Q850Cause]
    warnings: dict[int, WarningCode]
    outcomes: dict[str, Text]
    labels: dict[str, Text]
    classes: dict[str, Text]
    causes: dict[str, Text]
    next_steps: dict[str, Text]
    sentences: dict[str, Text]
    pairs: dict[frozenset[int], Text]

    def response(self, code: int) -> ResponseCode | None:
        return self.responses.get(code)

    def label(self, key: str, language: str = "en", **values: object) -> str:
        """A label of report.yaml, its placeholders filled with ``values``."""
        text = self.labels[key]
        if not values:
            return text.get(language)
        return text.render({name: str(value) for name, value in values.items()}, language)

    def compare(self, a: ResponseCode, b: ResponseCode, language: str = "en") -> Comparison:
        chosen = ["same_class" if a.klass == b.klass else "class_differs"]
        if a.final != b.final:
            chosen.append("final_vs_provisional")
        normal = (a.cause == "normal", b.cause == "normal")
        if all(normal):
            chosen.append("neither_a_problem")
        elif any(normal):
            chosen.append("one_normal")
        else:
            chosen.append("same_cause" if a.cause == b.cause else "cause_differs")
        chosen.append("same_next" if a.next == b.next else "next_differs")
        differences = []
        for key in chosen:
            # these sentences name the final (or the normal) code first
            swap = (key == "final_vs_provisional" and not a.final) or (
                key == "one_normal" and not normal[0]
            )
            first, second = (b, a) if swap else (a, b)
            differences.append((self.sentences[key], self._words(first, second, language)))
        pair = self.pairs.get(frozenset((a.code, b.code)))
        if pair is not None:
            differences.append((pair, {}))
        return Comparison(a, b, tuple(differences))

    def _words(self, a: ResponseCode, b: ResponseCode, language: str) -> dict[str, str]:
        words = {}
        for name, code in (("a", a), ("b", b)):
            words[name] = str(code.code)
            words[f"{name}_class"] = self.classes[code.klass].get(language)
            words[f"{name}_cause"] = self.causes[code.cause].get(language)
            words[f"{name}_next"] = self.next_steps[code.next].get(language)
        return words


def load_catalog(folder: Path) -> Catalog:
    responses = _entries(folder / "responses.yaml", "code", _response)
    report = Fields(load(folder / "report.yaml"), folder / "report.yaml", "report.yaml")
    labels = _named_texts(report.path, LABELS, report.need("labels", dict))
    report.done()
    return Catalog(
        responses=responses,
        q850=_entries(folder / "q850.yaml", "cause", _q850),
        warnings=_entries(folder / "warnings.yaml", "code", _warning),
        outcomes=_named_texts(folder / "outcomes.yaml", OUTCOMES),
        labels=labels,
        **_compare(folder / "compare.yaml", set(responses)),
    )


E = TypeVar("E")


def _entries(path: Path, key: str, read: Callable[[Fields], E]) -> dict[int, E]:
    data = load(path)
    if not isinstance(data, list):
        raise DataError(f"{path}:1: the catalog must be a list of entries")
    found: dict[int, E] = {}
    for index, item in enumerate(data):
        fields = Fields(item, path, f"entry {index + 1}", item_line(data, index))
        number = fields.need(key, int)
        if number in found:
            raise fields.error(key, f"{key} {number} is listed twice")
        found[number] = read(fields)
        fields.done()
    return found


def _explained(fields: Fields) -> Explained:
    return Explained(
        need_text(fields, "meaning"), need_text(fields, "seen_when"), need_text(fields, "fix")
    )


def _response(fields: Fields) -> ResponseCode:
    code = fields.need("code", int)
    if not 100 <= code <= 699:
        raise fields.error("code", f"{code} is not a response code (100 to 699)")
    return ResponseCode(
        code=code,
        reason=fields.need("reason", str),
        rfc=fields.need("rfc", str),
        cause=fields.choice("cause", CAUSES),
        next=fields.choice("next", NEXT_STEPS),
        text=_explained(fields),
    )


def _q850(fields: Fields) -> Q850Cause:
    cause = fields.need("cause", int)
    if not 1 <= cause <= 127:
        raise fields.error("cause", f"{cause} is not a Q.850 cause value (1 to 127)")
    return Q850Cause(cause, fields.need("name", str), fields.choice("group", Q850_GROUPS),
                     _explained(fields))


def _warning(fields: Fields) -> WarningCode:
    code = fields.need("code", int)
    if not 300 <= code <= 399:
        raise fields.error("code", f"{code} is not a Warning code (300 to 399)")
    return WarningCode(code, fields.need("text", str), fields.need("rfc", str), _explained(fields))


def _named_texts(path: Path, names: tuple[str, ...], data: object = None) -> dict[str, Text]:
    """A map of names to texts, with exactly these names."""
    fields = Fields(load(path) if data is None else data, path, "the file")
    texts = {}
    for name in names:
        text = parse_text(fields, name)
        assert text is not None
        texts[name] = text
    fields.done()
    return texts


class _CompareData(TypedDict):
    classes: dict[str, Text]
    causes: dict[str, Text]
    next_steps: dict[str, Text]
    sentences: dict[str, Text]
    pairs: dict[frozenset[int], Text]


def _compare(path: Path, codes: set[int]) -> _CompareData:
    fields = Fields(load(path), path, "compare.yaml")

    def texts(key: str, names: tuple[str, ...]) -> dict[str, Text]:
        return _named_texts(path, names, fields.need(key, dict))

    found = _CompareData(
        classes=texts("classes", tuple(CLASSES.values())),
        causes=texts("causes", CAUSES),
        next_steps=texts("next_steps", NEXT_STEPS),
        sentences=texts("sentences", SENTENCES),
        pairs=_pairs(fields, path, codes),
    )
    fields.done()
    return found


def _pairs(fields: Fields, path: Path, known: set[int]) -> dict[frozenset[int], Text]:
    entries = fields.need("pairs", list)
    pairs: dict[frozenset[int], Text] = {}
    for index, entry in enumerate(entries):
        pair = Fields(entry, path, f"pair {index + 1}", item_line(entries, index))
        codes = pair.need("codes", list)
        if len(codes) != 2 or not all(isinstance(c, int) for c in codes) or codes[0] == codes[1]:
            raise pair.error("codes", "'codes' must be two different response codes")
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise pair.error("codes", f"{unknown[0]} is not in responses.yaml")
        key = frozenset(codes)
        if key in pairs:
            raise pair.error("codes", f"the pair {codes[0]} and {codes[1]} is given twice")
        pairs[key] = need_text(pair, "text")
        pair.done()
    return pairs
