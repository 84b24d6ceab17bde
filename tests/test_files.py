"""Files are written atomically: a run killed at any moment (SIGKILL) leaves every output file
complete, and one helper (`tcpmodel.files.write_atomic`) writes them all."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tcpmodel.files import is_temporary, write_atomic

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "mutex-naive.toml"  # a violation: results and trace files


def test_write_atomic_replaces_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    write_atomic(target, "old")
    write_atomic(target, b"new bytes")
    assert target.read_bytes() == b"new bytes"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_a_failed_write_keeps_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "results.json"
    write_atomic(target, '{"complete": true}')

    def broken(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(target, '{"complete": "no, cut short"')
    assert json.loads(target.read_text()) == {"complete": True}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_every_file_is_written_by_the_helper() -> None:
    # Writing a file any other way could leave it cut short when the run is killed.
    direct = re.compile(r"\.write_(text|bytes)\(|\bopen\([^)]*['\"][wax]b?['\"]")
    offenders = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in sorted((ROOT / "tcpmodel").rglob("*.py"))
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if direct.search(line) and p.name != "files.py"
    ]
    assert offenders == []


# A run whose os.replace stops before the Nth replacement (saying so on stderr), to be killed
# there: the moment a file is being written.
SLOW = """
import os, sys, time
real, calls = os.replace, [0]
def slow(src, dst):
    calls[0] += 1
    if calls[0] == int(sys.argv[1]):
        sys.stderr.write(f"REPLACING {dst}\\n"); sys.stderr.flush(); time.sleep(120)
    real(src, dst)
os.replace = slow
from tcpmodel.cli import main
main(sys.argv[2:])
"""


def check_args(out: Path) -> list[str]:
    return ["check", str(SPEC), "--engine", "explicit", "-q", "--out", str(out)]


def parse_all(folder: Path) -> dict[str, bytes]:
    """Every complete file of ``folder`` parsed (JSON, XML, SVG, HTML), by name, with its bytes."""
    got: dict[str, bytes] = {}
    for f in folder.iterdir():
        if is_temporary(f):
            continue
        text = f.read_text(encoding="utf-8")
        if f.suffix == ".json":
            json.loads(text)
        elif f.suffix in (".xml", ".svg"):
            ET.fromstring(text)
        elif f.suffix == ".html":
            assert text.rstrip().endswith("</html>"), f
        elif f.suffix == ".dot":
            assert text.rstrip().endswith("}"), f
        got[f.name] = f.read_bytes()
    return got


@pytest.mark.parametrize("nth", [1, 4])
def test_sigkill_while_writing_leaves_only_complete_files(tmp_path: Path, nth: int) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.run(
        [sys.executable, "-m", "tcpmodel", *check_args(out)], cwd=ROOT, env=env, check=False
    )
    assert first.returncode == 0
    before = parse_all(out)
    p = subprocess.Popen(
        [sys.executable, "-c", SLOW, str(nth), *check_args(out)],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert p.stderr is not None
    line = p.stderr.readline()
    assert line.startswith("REPLACING "), line
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    being_written = Path(line.split(" ", 1)[1].strip())
    # the file being written is the old one, whole; its new text is in a temporary file
    assert being_written.read_bytes() == before[being_written.name]
    left = [f for f in out.iterdir() if is_temporary(f)]
    assert len(left) == 1 and left[0].name.startswith(f".{being_written.name}.")
    after = parse_all(out)
    assert set(after) == set(before)
