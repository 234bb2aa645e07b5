"""The promotion log under damage, with the real ``newsapi promote`` and ``rollback``: a torn
last line, a line that is not UTF-8, a log that cannot be written, a switch that fails after
its record, a crash between the record and the switch."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from newsapi.model.artifact import load_artifact, manifest_path
from newsapi.store.catalog import ModelStore, StoredModel
from tests.support import ROOT, newsapi, store_tiny


def three_promoted(root: Path) -> tuple[ModelStore, StoredModel, StoredModel, StoredModel]:
    """A store with a, b and c, a and b promoted (b served), c a candidate."""
    store = ModelStore(root)
    a, b, c = (store_tiny(store, alpha) for alpha in (0.2, 0.5, 0.9))
    store.promote(a.version)
    store.promote(b.version)
    return store, a, b, c


def served_pair(store: ModelStore) -> tuple[bytes, bytes]:
    return store.served_path.read_bytes(), manifest_path(store.served_path).read_bytes()


def records(store: ModelStore) -> list[tuple[str, str]]:
    """(version, how) of every line of the log that parses."""
    found = []
    for line in store.log_path.read_bytes().split(b"\n"):
        try:
            event = json.loads(line)
        except ValueError:
            continue
        found.append((event["version"], event["how"]))
    return found


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def test_a_torn_last_line_does_not_swallow_the_next_record(tmp_path: Path) -> None:
    store, a, b, c = three_promoted(tmp_path)
    with store.log_path.open("ab") as log:  # a crash half-way through appending a record
        log.write(b'{"time": "2026-12-05T10:00:00+00:00", "vers')
    promoted = newsapi("promote", c.version, "--artifacts", str(tmp_path))
    assert promoted.returncode == 0, promoted.stderr
    assert store.log_path.read_bytes().endswith(b"\n")
    assert records(store)[-1] == (c.version, "promote"), "the record after the torn line"
    assert store.promotion_stack() == [a.version, b.version, c.version]

    rolled = newsapi("rollback", "--artifacts", str(tmp_path))
    assert rolled.returncode == 0, rolled.stderr
    assert rolled.stdout.startswith(f"rolled back to model {b.version} (was {c.version})")
    warning = one_line(rolled.stderr)
    assert "promotions.jsonl: skipped 1 unreadable line(s)" in warning
    assert warning.endswith("line 3")
    assert store.served_version() == b.version


def test_a_line_that_is_not_utf8_is_skipped_with_one_warning_line(tmp_path: Path) -> None:
    store, a, b, _ = three_promoted(tmp_path)
    lines = store.log_path.read_bytes().splitlines(keepends=True)
    lines.insert(1, b'{"version": "\xff\xfe", "how": "promote"}\n')  # an editor's damage
    store.log_path.write_bytes(b"".join(lines))
    rolled = newsapi("rollback", "--artifacts", str(tmp_path))
    assert rolled.returncode == 0, rolled.stderr
    assert "Traceback" not in rolled.stderr
    assert rolled.stdout.startswith(f"rolled back to model {a.version} (was {b.version})")
    assert one_line(rolled.stderr).endswith("line 2")
    assert load_artifact(store.served_path).model_version == a.version


def test_an_unwritable_log_refuses_the_promotion_before_anything_changes(tmp_path: Path) -> None:
    store, a, b, c = three_promoted(tmp_path)
    before, log_before = served_pair(store), store.log_path.read_bytes()
    store.log_path.unlink()
    store.log_path.mkdir()  # cannot be opened as a file (root ignores permission bits)
    refused = newsapi("promote", c.version, "--artifacts", str(tmp_path))
    assert refused.returncode == 1
    line = one_line(refused.stderr)
    assert line.startswith(f"newsapi: cannot write the promotion log {store.log_path} (")
    assert "nothing was changed" in line
    assert served_pair(store) == before

    store.log_path.rmdir()  # a full disk: opened, but nothing can be written
    store.log_path.symlink_to("/dev/full")
    refused = newsapi("promote", c.version, "--artifacts", str(tmp_path))
    assert refused.returncode == 1
    assert "(No space left on device)" in one_line(refused.stderr)
    assert served_pair(store) == before
    store.log_path.unlink()
    store.log_path.write_bytes(log_before)
    assert store.promotion_stack() == [a.version, b.version]


def test_a_switch_that_fails_after_its_record_is_recorded_as_failed(tmp_path: Path) -> None:
    store, a, b, c = three_promoted(tmp_path)
    manifest_before = manifest_path(store.served_path).read_bytes()
    store.served_path.unlink()
    (store.served_path / "in-the-way").mkdir(parents=True)  # the rename onto it fails
    failed = newsapi("promote", c.version, "--artifacts", str(tmp_path))
    assert failed.returncode == 1
    line = one_line(failed.stderr)
    assert line.startswith(f"newsapi: could not replace the served model {store.served_path} (")
    assert line.endswith(f"the promotion of {c.version} is recorded as failed")
    assert records(store)[-2:] == [(c.version, "promote"), (c.version, "failed")]
    assert store.promotion_stack() == [a.version, b.version], "the failed record undoes its own"
    assert manifest_path(store.served_path).read_bytes() == manifest_before


KILL_AFTER_THE_RECORD = textwrap.dedent(
    """
    import os, signal, sys
    from newsapi.store import catalog

    def write(path, data):  # the first file of the switch: die before it is written
        os.kill(os.getpid(), signal.SIGKILL)

    catalog.atomic_write = write
    catalog.ModelStore(sys.argv[1]).promote(sys.argv[2], how=sys.argv[3])
    """
)


def test_a_crash_between_the_record_and_the_switch_is_marked_failed_at_repair(
    tmp_path: Path,
) -> None:
    store, a, b, c = three_promoted(tmp_path)
    for version, how in ((c.version, "promote"), (a.version, "rollback")):
        done = subprocess.run(
            [sys.executable, "-c", KILL_AFTER_THE_RECORD, str(tmp_path), version, how],
            cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == -signal.SIGKILL, done.stderr
        assert records(store)[-1] == (version, how), "written ahead of the switch"
        assert store.served_version() == b.version
        assert store.repair() is None  # what the next start does: the pair was fine
        assert records(store)[-1] == (version, "failed")
        assert store.promotion_stack() == [a.version, b.version]
    assert store.rollback().version == a.version


def test_a_pair_copied_into_place_by_hand_is_recorded_as_a_repair(tmp_path: Path) -> None:
    # not a crash between a record and its switch (the last record's previous is not the
    # served model): the log follows the served pair, as before
    store, a, b, c = three_promoted(tmp_path)
    store.served_path.write_bytes(c.model_path.read_bytes())
    manifest_path(store.served_path).write_bytes(manifest_path(c.model_path).read_bytes())
    assert store.repair() is None
    assert records(store)[-1] == (c.version, "repair")
    assert store.promotion_stack() == [a.version, b.version, c.version]
