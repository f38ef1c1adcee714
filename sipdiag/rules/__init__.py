"""Rules and the catalog: data files that say what a call's messages mean.

- ``yamlfile``, ``text``: reading the data files safely, with lines for errors, and texts in
  several languages with placeholders;
- ``model``: rules, steps, findings and evidence;
- ``loader``: rule files in, a ``RuleSet`` out; ``catalog``: the explanations of every SIP
  response code, Q.850 cause and Warning code;
- ``matcher``: a rule's pattern found in a call's transactions; ``checks``: the patterns written
  in Python;
- ``engine``: a finished call in, its findings out.

No I/O besides reading the data files.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from sipdiag.rules.cache import compiled
from sipdiag.rules.catalog import Catalog, load_catalog
from sipdiag.rules.engine import Engine
from sipdiag.rules.loader import RuleSet, load_rules
from sipdiag.rules.text import Text
from sipdiag.rules.yamlfile import DataError


def builtin_folder() -> Path:
    """The rules/ folder of a source checkout, or its copy inside an installed package."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "builtin_rules", package.parent / "rules"):
        if (candidate / "catalog").is_dir():
            return candidate
    raise DataError(f"{package}: the built-in rules folder is missing")


def texts_of(engine: Engine) -> Iterator[Text]:
    """Every text of the rules and the catalog, each once."""
    for rule in engine.rules.rules:
        yield from (rule.title, rule.message, rule.explanation, rule.causes, rule.fix)
    catalog = engine.catalog
    explained = [e.text for e in catalog.responses.values()]
    explained += [e.text for e in catalog.q850.values()]
    explained += [e.text for e in catalog.warnings.values()]
    for text in explained:
        yield from (text.meaning, text.seen_when, text.fix)
    for texts in (catalog.outcomes, catalog.labels, catalog.classes, catalog.causes,
                  catalog.next_steps, catalog.sentences):
        yield from texts.values()
    yield from catalog.pairs.values()


def builtin_catalog() -> Catalog:
    return load_catalog(builtin_folder() / "catalog")


def load_engine(extra: Sequence[Path] = (), cache: Path | None = None) -> Engine:
    """The built-in rules and catalog, plus the rule folders a user adds; compiled once into
    ``cache`` (``rules.cache``) when one is given."""
    folder = builtin_folder()
    folders = [folder, *extra]
    return compiled(folders, lambda: Engine(load_rules(folders),
                                            load_catalog(folder / "catalog")), cache)


__all__ = [
    "Catalog", "DataError", "Engine", "RuleSet", "builtin_catalog", "builtin_folder", "load_engine",
    "texts_of",
]
