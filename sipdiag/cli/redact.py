"""``sipdiag redact CAPTURE... -o SAFE.pcapng``: a copy of the capture whose numbers, names,
addresses and credentials are replaced by pseudonyms (``sipdiag.evidence.redact``).

The key is ``--key``'s text, the first line of ``--key-file``, or 32 random bytes written as
hex (so that ``--show-key`` prints something ``--key`` takes back). What was replaced, and
every frame left out with why, goes to stderr unless ``-q``.
"""

from __future__ import annotations

import argparse
import secrets
from pathlib import Path

from sipdiag.capture import open_captures
from sipdiag.capture.writer import PcapngWriter
from sipdiag.cli.common import Environment, ExitStatus, error, overwrites_a_capture
from sipdiag.evidence.redact import Redactor, redact_frames

KEY_BYTES = 32
"""A random key as long as HMAC-SHA256's output."""


def run(args: argparse.Namespace, env: Environment) -> int:
    try:
        key = redaction_key(args)
    except NoKey as exc:
        return error(env, str(exc))
    overwrite = overwrites_a_capture(args.output, args.capture)
    if overwrite:
        return error(env, overwrite)
    reader = open_captures(args.capture, env.stdin)
    try:
        writer = PcapngWriter(args.output)
    except OSError as exc:
        reader.close()
        return error(env, f"cannot write {args.output}: {exc.strerror or exc}")
    redactor = Redactor(writer, key.encode(), drop_audio=args.drop_audio)
    try:
        problems = redact_frames(reader, redactor)
        writer.watched = reader.watched()  # how long the original watched, said again
    finally:
        reader.close()
        writer.close()
    if args.show_key:
        env.stderr.write(f"sipdiag: key: {key}\n")
    if not args.quiet:
        env.stderr.writelines(f"sipdiag: {line}\n" for line in redactor.summary.lines())
        env.stderr.writelines(f"sipdiag: in the capture: {problem.detail}\n"
                              for problem in problems.all_examples())
    return ExitStatus.OK


class NoKey(ValueError):
    """Why the key cannot be had (one line for the user)."""


def redaction_key(args: argparse.Namespace) -> str:
    """``--key``, the first line of ``--key-file``, or a new random key (as hex)."""
    if args.key is not None:
        if not args.key:
            raise NoKey("the key is empty")
        return str(args.key)
    if args.key_file is not None:
        try:
            lines = Path(args.key_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise NoKey(f"cannot read the key from {args.key_file}: {exc}") from None
        if not lines or not lines[0]:
            raise NoKey(f"cannot read the key from {args.key_file}: its first line is "
                            "empty")
        return lines[0]
    return secrets.token_hex(KEY_BYTES)


