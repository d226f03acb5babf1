"""Customer matching as record linkage: normalised fields, agreement levels, Fellegi-Sunter
weights learnt by EM, OR-ed blocking keys and one-to-one links (issue 16). Pure: plain data
in, plain data out.

The hot modules run compiled by mypyc, with the block index and the pair comparisons in C
(`_native.c`), when a build from these very sources exists (`compiled.py`), otherwise as
plain Python: the same rules, the same decisions."""

import importlib

from . import compiled

if (_build := compiled.built()) is not None:
    __path__.insert(0, str(_build))  # its modules are found before the .py files beside this
    try:  # every compiled module needs the build's shared library: without it, none loads
        importlib.import_module(f"{__name__}.{compiled.GROUP}")
        compiled.ACTIVE = _build
    except ImportError:  # a build half gone: the plain modules, as with no build
        __path__.remove(str(_build))


from .matcher import NEAR, SURE, Decision, Matcher
from .model import Model
from .names import Vocabulary, normalize_company
from .records import Party

__all__ = [
    "NEAR",
    "SURE",
    "Decision",
    "Matcher",
    "Model",
    "Party",
    "Vocabulary",
    "normalize_company",
]
