"""``sipdiag export CAPTURE... -o OUT.pcapng`` (or ``--split DIR``): the frames of the calls
chosen, as captured, to hand on; ``--redact`` puts them through the redactor on the way."""

from __future__ import annotations

import argparse
from functools import partial
from typing import TextIO

from sipdiag.analysis.decryption import decrypt
from sipdiag.analysis.model import CallResult
from sipdiag.analysis.reading import paths_of
from sipdiag.capture.writer import PcapngWriter
from sipdiag.cli.analyze import nothing_matched
from sipdiag.cli.common import (
    Environment,
    ExitStatus,
    error,
    judging_engine,
    overwrites_a_capture,
    selection_of,
)
from sipdiag.cli.redact import NoKey, redaction_key
from sipdiag.evidence.export import Group, choose, plan, write_one, write_split
from sipdiag.evidence.redact import RedactionSummary, Redactor


def run(args: argparse.Namespace, env: Environment) -> int:
    overwrite = overwrites_a_capture(args.output, args.capture)
    if overwrite:
        return error(env, overwrite)
    if "-" in map(str, paths_of(args.capture)):
        return error(env, "export reads the capture several times: give a file, not "
                      "standard input")
    stray = [option for option, given in (("--key", args.key), ("--key-file", args.key_file),
                                          ("--show-key", args.show_key),
                                          ("--drop-audio", args.drop_audio)) if given]
    if stray and not args.redact:
        return error(env, f"{', '.join(stray)} without --redact: nothing would be redacted")
    try:
        key = redaction_key(args) if args.redact else None
    except NoKey as exc:
        return error(env, str(exc))
    engine = judging_engine(args, env)
    decryption = decrypt(args.capture, args.tls_keylog)
    selection = selection_of(args, engine.rules)
    _, groups = choose(args.capture, engine, selection, decryption=decryption)
    if not groups:
        return error(env, nothing_matched(args, selection, found=False)
                      or "no call or exchange is chosen: nothing to export")
    redactors: list[Redactor] = []
    wrap = None if key is None else partial(_redacted, redactors, key.encode(), args.drop_audio)
    chosen = plan(args.capture, groups, media=not args.sip_only, decryption=decryption)
    if args.split is not None:
        written = write_split(args.capture, chosen, args.split, wrap)
        _say(env.stderr, args, f"wrote {len(written)} captures in {args.split}", groups)
    else:
        frames = write_one(args.capture, chosen, args.output, wrap)
        if redactors:  # what the redactor wrote of them
            frames = sum(r.summary.frames_written for r in redactors)
        _say(env.stderr, args, f"wrote {frames} frames to {args.output}", groups)
    if redactors and not args.quiet:
        summary = RedactionSummary.of_files([r.summary for r in redactors])
        env.stderr.writelines(f"sipdiag: redacted: {line}\n" for line in summary.lines())
    if key is not None and args.show_key:
        env.stderr.write(f"sipdiag: key: {key}\n")
    return ExitStatus.OK


def _redacted(redactors: list[Redactor], key: bytes, drop_audio: bool,
              writer: PcapngWriter) -> Redactor:
    """A redactor in front of ``writer``, noted for the summary."""
    redactors.append(Redactor(writer, key, drop_audio=drop_audio))
    return redactors[-1]


def _say(stderr: TextIO, args: argparse.Namespace, written: str, groups: list[Group]) -> None:
    if args.quiet:
        return
    results = [r for group in groups for r in group.results]
    calls = sum(isinstance(r, CallResult) for r in results)
    stderr.write(f"sipdiag: {written}: {_count(calls, 'call')}, "
                 f"{_count(len(results) - calls, 'exchange')}\n")


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"

