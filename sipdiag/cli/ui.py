"""``sipdiag ui CAPTURE...``: the interactive terminal UI (``sipdiag.ui``), when Textual is
installed (``pip install 'sipdiag[ui]'``); without it, one line saying so and exit 2."""

from __future__ import annotations

import argparse
import importlib.util
from contextlib import closing

from sipdiag.analysis.decryption import decrypt
from sipdiag.capture import open_captures
from sipdiag.cli.common import Environment, ExitStatus, judging_engine, language

MISSING = "sipdiag: the ui needs Textual: pip install 'sipdiag[ui]'\n"


def has_textual() -> bool:
    try:
        return importlib.util.find_spec("textual") is not None
    except (ImportError, ValueError):  # a module set to None in sys.modules, a broken one
        return False


def run(args: argparse.Namespace, env: Environment) -> int:
    if not has_textual():
        env.stderr.write(MISSING)
        return ExitStatus.ERROR
    if "-" in args.capture:
        env.stderr.write("sipdiag: error: the ui reads its captures again (a message, an "
                         "export): give files, not standard input\n")
        return ExitStatus.ERROR
    with closing(open_captures(args.capture)):  # not a capture: one line, before the screen
        pass
    engine = judging_engine(args, env)
    decryption = decrypt(args.capture, args.tls_keylog)
    from sipdiag.ui.app import SipdiagApp
    from sipdiag.ui.feed import CaptureFiles

    app = SipdiagApp(CaptureFiles(args.capture, decryption), engine,
                     language(args, env.environ))
    return app.run() or ExitStatus.OK
