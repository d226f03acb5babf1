"""Compile the matcher's hot modules with mypyc, and its native core (`_native.c`), into
build/linkage (decision 0028).

    .venv/bin/python scripts/build_linkage.py        # make test and make demo run it

Builds into a fresh directory beside the old build and puts it in place whole, its stamp
(the sources' fingerprint, `sync/linkage/compiled.py`) written last: a process importing
meanwhile finds either the old build, the new one or none, never half of one. Without a C
compiler (or mypy) it says so and exits 1; the matcher then runs as plain Python.
"""

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sync.linkage import compiled  # noqa: E402 - after the repository is on the path

# For every extension, mypyc's too: no fused multiply-add (GCC contracts a*b+c into one FMA,
# rounded once, wherever CFLAGS name an FMA target such as -march=native, and by default on
# aarch64), so the compiled sums are the plain Python ones to the last bit. Added after
# CFLAGS on the command line, it wins over them.
UNFUSED = ["-fno-fast-math", "-ffp-contract=off"]


def main() -> int:
    if compiled.built() is not None:
        (compiled.BUILD / compiled.STAMP).touch()  # for make: newer than the module it saw change
        print("build/linkage: up to date")
        return 0
    try:
        from mypyc.build import mypycify
        from setuptools import Distribution, Extension
    except ImportError as missing:
        print(f"build/linkage: not built ({missing}); the matcher runs as plain Python")
        return 1
    began = time.perf_counter()
    compiled.BUILD.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix="linkage.", dir=compiled.BUILD.parent))
    try:
        os.chdir(ROOT)  # mypyc names the modules by their paths from here
        # the sources as mypyc and gcc are about to read them: a module saved while they run
        # must not get this build stamped as its own (checked again before stamping)
        before = compiled.fingerprint()
        sources = [f"sync/linkage/{name}.py" for name in compiled.COMPILED]
        extensions = mypycify(
            [
                "--ignore-missing-imports",
                "--follow-imports=silent",
                "--cache-dir",
                str(compiled.BUILD.parent / "mypy-cache"),
                *sources,
            ],
            group_name="sync.linkage.native",  # its shared library lives inside the package
            target_dir=str(fresh / "c"),
            opt_level="3",
            debug_level="0",
        )
        for extension in extensions:
            extension.extra_compile_args = [*extension.extra_compile_args, *UNFUSED]
        # the block index's native core: plain C over CPython's API (`_native.c`)
        native = Extension(
            "sync.linkage._native",
            [f"sync/linkage/{compiled.NATIVE}"],
            extra_compile_args=["-O2", *UNFUSED],
        )
        distribution = Distribution(
            {"name": "syncfirm-linkage", "ext_modules": [*extensions, native]}
        )
        command = distribution.get_command_obj("build_ext")
        command.build_lib = str(fresh)
        command.build_temp = str(fresh / "o")
        distribution.run_command("build_ext")
        shutil.rmtree(fresh / "c")
        shutil.rmtree(fresh / "o")
        if compiled.fingerprint() == before:
            (fresh / compiled.STAMP).write_text(before + "\n")
        else:  # unstamped: never used (`compiled.built`), and the next run builds again
            print("build/linkage: the sources changed while compiling; not stamped, run again")
        old = compiled.BUILD.with_name(fresh.name + ".old")
        if compiled.BUILD.exists():
            compiled.BUILD.rename(old)
        fresh.rename(compiled.BUILD)
        shutil.rmtree(old, ignore_errors=True)
    except (Exception, SystemExit) as failed:  # a compiler missing ends in SystemExit
        shutil.rmtree(fresh, ignore_errors=True)
        print(f"build/linkage: not built ({failed}); the matcher runs as plain Python")
        return 1
    print(f"build/linkage: {len(compiled.COMPILED)} modules and the native core compiled in "
          f"{time.perf_counter() - began:.0f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
