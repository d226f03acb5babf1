"""The matcher's hot modules compiled by mypyc and its native core (`sync/linkage/compiled.py`,
decision 0028): used only when built from these very sources, and deciding exactly as the
plain modules do.
Pure: no database."""

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sync.linkage import Matcher, Party, compare, compiled
from sync.linkage.blocking import CANDIDATES, TIED, BlockIndex, probes
from sync.linkage.records import Features
from tests.test_linkage import world

ROOT = Path(__file__).resolve().parent.parent

# A batch decided in a fresh process, one JSON line a record (kind, partner, probability,
# reason): large enough for the weights to be learnt from the data (FEW records a side).
DECIDE = """
import json, sys
from sync.linkage import Matcher, compiled
from tests.test_linkage import world
books, crm, _ = world(size=800)
matcher = Matcher(books)
matcher.fit(crm)
print(json.dumps(compiled.in_use()))
for d in matcher.link_all(crm):
    partner = d.candidate.external_id if d.candidate else None
    print(json.dumps([d.party.external_id, d.kind, partner, repr(d.probability), d.reason]))
"""


def _decided(compiled_on: bool) -> tuple[bool, list[list]]:
    env = dict(os.environ, SYNCFIRM_LINKAGE_COMPILED="1" if compiled_on else "0")
    env.pop("SYNCFIRM_LINKAGE_FORK", None)
    out = subprocess.run(  # noqa: S603 - this interpreter, our own fixed script
        [sys.executable, "-c", DECIDE], cwd=ROOT, env=env, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    first, *lines = out.stdout.splitlines()
    return json.loads(first), [json.loads(line) for line in lines]


def require_build() -> None:
    """A loud skip on a laptop without a build; a failure in CI, which must build it."""
    if compiled.built() is None:
        if os.environ.get("CI"):
            pytest.fail("CI runs the compiled matcher: scripts/build_linkage.py did not build it")
        pytest.skip("LOUD SKIP: no build of these sources: scripts/build_linkage.py (make test)")


def test_it_runs_the_compiled_modules_where_they_are_built():
    """GIVEN make test built them WHEN the matcher is imported THEN it is the compiled one;
    CI builds them (a compiler missing or a build gone stale must not pass there unseen)."""
    require_build()
    assert compiled.in_use()


def test_compiled_and_plain_python_decide_every_record_alike():
    """GIVEN one batch WHEN decided by the compiled modules and by the plain ones THEN every
    decision is the same: kind, partner, probability to the last bit, reason."""
    require_build()
    was_compiled, with_compiled = _decided(compiled_on=True)
    was_plain, plain = _decided(compiled_on=False)
    assert (was_compiled, was_plain) == (True, False)
    assert len(plain) == 800
    assert with_compiled == plain


def test_the_plain_modules_decide_the_batch_on_their_own():
    """GIVEN no compiled modules WHEN a batch is decided THEN the plain Python ones do it."""
    was_compiled, plain = _decided(compiled_on=False)
    assert not was_compiled
    books, crm, _ = world(size=800)
    matcher = Matcher(books)
    matcher.fit(crm)
    here = [[d.party.external_id, d.kind] for d in matcher.link_all(crm)]
    assert [line[:2] for line in plain] == here


def test_a_build_of_other_sources_is_never_used(tmp_path, monkeypatch):
    """GIVEN a build stamped for the sources WHEN one source changes (or the stamp is missing)
    THEN the build is not used: an edited module is never shadowed by a stale compiled one."""
    monkeypatch.delenv("SYNCFIRM_LINKAGE_COMPILED", raising=False)
    sources = tmp_path / "sources"
    shutil.copytree(compiled.HERE, sources, ignore=shutil.ignore_patterns("__pycache__"))
    build = tmp_path / "build"
    build.mkdir()
    assert compiled.built(build, sources) is None  # no stamp
    (build / compiled.STAMP).write_text(compiled.fingerprint(sources) + "\n")
    assert compiled.built(build, sources) == build / "sync" / "linkage"
    edited = sources / "compare.py"
    edited.write_text(edited.read_text() + "\n# edited\n")
    assert compiled.built(build, sources) is None


def test_the_plain_modules_can_be_asked_for(tmp_path, monkeypatch):
    """GIVEN a build of these sources WHEN SYNCFIRM_LINKAGE_COMPILED=0 THEN it is not used."""
    monkeypatch.delenv("SYNCFIRM_LINKAGE_COMPILED", raising=False)
    build = tmp_path / "build"
    build.mkdir()
    (build / compiled.STAMP).write_text(compiled.fingerprint())
    assert compiled.built(build) is not None
    monkeypatch.setenv("SYNCFIRM_LINKAGE_COMPILED", "0")
    assert compiled.built(build) is None


def test_the_native_index_ranks_every_candidate_as_the_plain_one():
    """GIVEN the block index's native core and the plain dicts, filled with the same books
    WHEN every record searches both (and more customers are added between searches) THEN
    the same candidates come back in the same order, every sum the same double."""
    require_build()
    books, crm, _ = world(size=800)
    native, plain = BlockIndex(), BlockIndex()
    plain.native = None
    assert native.native is not None
    for index in (native, plain):
        for p in books[:600]:
            index.add(Features(p))
    searched = [Features(p) for p in crm]
    for n, f in enumerate(searched):
        if n % 100 == 0:  # customers created during the run are found by later records
            for index in (native, plain):
                index.add(Features(books[600 + n // 100]))
        keys = probes(f)
        ours = native.native.rank(keys, CANDIDATES + TIED)
        theirs = plain._rank(keys, CANDIDATES + TIED)
        assert repr(ours) == repr(theirs)
        assert native.candidates(f) == plain.candidates(f)
        assert native.counts_by_kind(f) == plain.counts_by_kind(f)
    assert native.size == plain.size == native.native.size


ODD_PAIRS = [  # the rules' corners: no "@", short phones, other scripts, numbers, trade names
    Party("o1", "Müller & Söhne GmbH", "info@müller.de", phone="12345", postal_code="80331",
          city="München", line1="Hauptstraße 5", country="DE", tax_id="DE123456789"),
    Party("o2", "Muller und Sohne", "infomüller.de", phone="2345", postal_code="80332",
          city="Munchen", line1="Hauptstrasse 5", country="de", tax_id="DE123456788"),
    Party("o3", "Unit 4 Holdings", "ab@x.com", phone="+13035550100", line1="4 Oak St"),
    Party("o4", "Unit 5 Holdings", "abcd@x.com", phone="+17205550100", line1="Oak Street 4"),
    Party("o5", "Acme Roofing LLC dba Peak Roofing", "abce@x.com", city="Denver", region="CO"),
    Party("o6", "Peak Roofing", "abcf@y.com", city="Denvr", region="CO", postal_code="80202"),
    Party("o7", "Smith, Robert", given_name="", family_name="", city="Denver", region="CA"),
    Party("o8", "", given_name="Bob", family_name="Smith", region="CO", postal_code="80203"),
    Party("o9", "Smith Residence", "bob@smith.org", website="smith.org", tax_id="12-3456789"),
    Party("o10", "東京建設株式会社", "東京@建設.jp", city="東京", line1="千代田1-1"),
    Party("o11", "東京建設", "東京@建設.jp", city="東京都", line1="千代田 1-1"),
]  # fmt: skip


def test_the_native_comparisons_give_every_pair_the_plain_levels():
    """GIVEN the native comparisons and the plain Python ones WHEN every candidate pair of a
    batch, random pairs and odd records (other scripts, no "@", trade names, people) are
    compared THEN every pair gets the same ten levels."""
    require_build()
    assert compare.NATIVE
    books, crm, _ = world(size=800)
    matcher = Matcher(books)
    odd = [Features(p) for p in ODD_PAIRS]
    pairs = [(a, b) for a in odd for b in odd]
    for p in crm:
        f = matcher.prepare(p)
        pairs += [(f, matcher.features[i]) for i in matcher.index.candidates(f, 12)]
        pairs += [(f, o) for o in odd]
    rng = random.Random(5)  # noqa: S311 - test data
    pairs += [(rng.choice(matcher.features), rng.choice(matcher.features)) for _ in range(3000)]
    for a, b in pairs:
        assert compare.levels(a, b) == compare.python_levels(a, b), (a.party, b.party)
