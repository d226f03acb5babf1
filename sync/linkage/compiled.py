"""The matcher's hot modules compiled to C by mypyc, used only when built from these sources.

`scripts/build_linkage.py` (run by `make test` and `make demo`) compiles the modules of
COMPILED into BUILD and writes there a stamp: the fingerprint of the sources it compiled and
of the Python they were compiled for. On import, the package puts BUILD first on its path
only when that stamp is this checkout's fingerprint: an edited module, another Python or a
half-written build leaves the plain Python modules in use, never a stale compiled one. They
are the same code either way (same decisions, record by record: decision 0028); compiled,
the companies' 20,000 x 20,000 takes about a sixth less CPU. The native core (`_native.c`:
the block index, the pair comparisons, the reading of names of printable ASCII and the
blocking keys of ASCII parties, each beside the Python it is tested against) is built with
them, under the same stamp, and used only with them.

SYNCFIRM_LINKAGE_COMPILED=0 keeps the plain modules even when a matching build exists (what
the test that holds both to the same decisions runs under).
"""

import hashlib
import importlib
import os
import sys
import sysconfig
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
COMPILED = ("names", "records", "compare", "blocking", "model", "matcher")
NATIVE = "_native.c"  # the native core, built beside them (`blocking`, `compare`, `records`)
BUILD = HERE.parent.parent / "build" / "linkage"  # the repository's build/, kept out of git
STAMP = "STAMP"
GROUP = "native__mypyc"  # the compiled modules' shared library (build_linkage's group_name)
# The build the package runs from (put on its path by `__init__.py`), None for the plain
# modules: the native core is loaded from there only (`native`).
ACTIVE: Path | None = None


def fingerprint(sources: Path = HERE) -> str:
    """The compiled modules' sources and the interpreter they are for."""
    digest = hashlib.sha256()
    digest.update(f"{sys.version}|{sysconfig.get_config_var('SOABI')}".encode())
    for name in COMPILED:
        digest.update(name.encode() + b"\0" + (sources / f"{name}.py").read_bytes() + b"\0")
    digest.update(NATIVE.encode() + b"\0" + (sources / NATIVE).read_bytes() + b"\0")
    return digest.hexdigest()


def built(build: Path = BUILD, sources: Path = HERE) -> Path | None:
    """The directory holding the compiled package modules, if built from these sources."""
    if os.environ.get("SYNCFIRM_LINKAGE_COMPILED") == "0":
        return None
    try:
        stamp = (build / STAMP).read_text().strip()
        current = fingerprint(sources)
    except OSError:  # no build, or sources that cannot be read: the plain modules
        return None
    return build / "sync" / "linkage" if stamp == current else None


def native() -> ModuleType | None:
    """The native core (`_native`) of the build in use, or None. Never one found elsewhere on
    the package's path: a `_native*.so` beside the sources (an in-place build, a copy) has no
    stamp, and may be of another `_native.c` than these sources'."""
    if ACTIVE is None or not any((ACTIVE / f"_native{s}").is_file() for s in EXTENSION_SUFFIXES):
        return None
    try:
        module = importlib.import_module(f"{__package__}._native")  # ACTIVE is first on the path
    except ImportError:
        return None
    return module if Path(module.__file__ or "").parent == ACTIVE else None


def set_up(core: ModuleType | None, setup: str, *tables: object) -> bool:
    """Whether the native core (`native()`) is built and takes these tables through its
    `setup` function; False when it is not built or refuses them (ImportError: a library's C
    interface is not the one it was written for; ValueError: a table of another shape), and
    the plain Python is then used for that part."""
    if core is None:
        return False
    try:
        getattr(core, setup)(*tables)
    except (AttributeError, ImportError, ValueError):
        return False
    return True


def in_use() -> bool:
    """Whether this process runs the compiled modules (and the native core with them)."""
    from . import blocking, compare

    return not compare.__file__.endswith(".py") and blocking.BlockIndex().native is not None
