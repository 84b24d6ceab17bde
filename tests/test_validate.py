"""`tcpmodel validate`: the committed Linux captures conform, every mutant diverges at the
mutated segment, bad files are exit 2, and the other link types and pcapng read the same.

The captures are regenerated into a temporary folder first when the tests run as root with
ip, nft, tc and tcpdump (`tests/captures/make.py`; ``TCPMODEL_REGENERATE=0`` skips it); when
that fails, the committed files are used and a warning says why.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import dpkt
import pytest
from click.testing import CliRunner

from tcpmodel.cli import main
from tcpmodel.semantics import replay
from tcpmodel.validate import Models, Verdict, exit_code, output, validate
from tcpmodel.validate.capture import CaptureError

sys.path.insert(0, str(Path(__file__).parent))
from mutate import mutants

HERE = Path(__file__).parent / "captures"
ROOT = HERE.parent.parent
SMALL = sorted(p.stem for p in HERE.glob("*.pcap") if p.stem not in ("many", "mixed"))


def _regenerate(tmp: Path) -> Path:
    if os.environ.get("TCPMODEL_REGENERATE", "1") == "0" or os.geteuid() != 0:
        return HERE
    sys.path.insert(0, str(HERE))
    import make

    if make.missing_tools():
        warnings.warn(f"captures not regenerated: missing {make.missing_tools()}", stacklevel=1)
        return HERE
    names = [n for n in SMALL]
    errors = make.regenerate(tmp, names)
    if errors:
        warnings.warn(f"captures not regenerated, committed ones used: {errors}", stacklevel=1)
        return HERE
    return tmp


@pytest.fixture(scope="module")
def captures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _regenerate(tmp_path_factory.mktemp("captures"))


@pytest.fixture(scope="module")
def models() -> Models:
    return Models()


def _packet(v: Verdict) -> int | None:
    if v.verdict != "diverges" or v.divergent is None or v.conn is None:
        return None
    return v.conn.packets[v.divergent].number


def _replay_witness(v: Verdict) -> None:
    """A conforming verdict's witness replays through the concrete semantics of its
    configuration."""
    assert v.trace is not None
    from tcpmodel.models import MODELS

    full = {p.name: p.default for p in MODELS["connection"].params} | v.params
    replay(MODELS["connection"].build(full), v.trace)


@pytest.mark.parametrize("name", SMALL)
def test_capture_conforms(name: str, captures: Path, models: Models) -> None:
    (v,) = validate([captures / f"{name}.pcap"], models=models)
    assert v.verdict == "conforms", v.reason
    _replay_witness(v)


def test_a_capture_of_differing_connections_conforms() -> None:
    """mixed.pcap: 300 real Linux connections of five kinds in turn (client or server closes
    first, FIN with the request, abort, two requests), one in eight of the client's data
    segments lost (`tests/captures/make.py`): every connection conforms, with its witness
    replayed, over the ten model configurations the kinds and losses call for."""
    models = Models()
    verdicts = validate([HERE / "mixed.pcap"], models=models)
    assert len(verdicts) == 300
    bad = [(v.conn.name if v.conn else "", v.reason) for v in verdicts if v.verdict != "conforms"]
    assert not bad, bad[:3]
    for v in verdicts[:10]:  # one of each kind, twice: the witnesses replay
        _replay_witness(v)
    assert len(models.cache) >= 8


# time-wait-reuse's mutants take minutes (two incarnations with a clock-driven ISN make the
# failing searches large): run with TCPMODEL_SLOW_TESTS=1.
SLOW = {"time-wait-reuse"}
MUTATED = [
    pytest.param(
        n,
        marks=pytest.mark.skipif(
            n in SLOW and os.environ.get("TCPMODEL_SLOW_TESTS") != "1",
            reason="minutes long: set TCPMODEL_SLOW_TESTS=1",
        ),
    )
    for n in SMALL
    if n != "basic6"
]


@pytest.mark.parametrize("name", MUTATED)
def test_mutants_diverge_at_the_mutated_segment(name: str, tmp_path: Path, models: Models) -> None:
    seen = []
    for kind, number, data in mutants(HERE / f"{name}.pcap"):
        path = tmp_path / f"{name}.{kind}.pcap"
        path.write_bytes(data)
        (v,) = validate([path], models=models)
        seen.append((kind, number, v.verdict, _packet(v)))
    assert all(verdict == "diverges" and got == want for _, want, verdict, got in seen), seen


def _convert(src: Path, dst: Path, how: str) -> None:
    with src.open("rb") as f:
        recs = [(ts, bytes(b)) for ts, b in dpkt.pcap.Reader(f)]
    out = io.BytesIO()
    if how == "pcapng":
        w: dpkt.pcapng.Writer | dpkt.pcap.Writer = dpkt.pcapng.Writer(out)
        for ts, b in recs:
            w.writepkt(b, ts)
    else:  # raw IP: the Ethernet header stripped
        w = dpkt.pcap.Writer(out, linktype=dpkt.pcap.DLT_RAW)
        for ts, b in recs:
            w.writepkt(b[14:], ts)
    dst.write_bytes(out.getvalue())


@pytest.mark.parametrize("how", ["pcapng", "raw"])
def test_other_formats_read_the_same(how: str, tmp_path: Path, models: Models) -> None:
    dst = tmp_path / f"basic.{how}"
    _convert(HERE / "basic.pcap", dst, how)
    (v,) = validate([dst], models=models)
    assert v.verdict == "conforms"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tcpmodel", "validate", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"not a capture at all", "not a pcap or pcapng"),
        (None, "cut short"),
        (b"", "not a pcap"),
    ],
)
def test_bad_files_are_exit_2(content: bytes | None, why: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.pcap"
    if content is None:
        data = (HERE / "basic.pcap").read_bytes()
        content = data[: len(data) - 30]
    path.write_bytes(content)
    r = _cli(str(path))
    assert r.returncode == 2, r.stderr
    assert str(path) in r.stderr and why in r.stderr and "Traceback" not in r.stderr


def test_no_tcp_and_unknown_link_type(tmp_path: Path) -> None:
    out = io.BytesIO()
    w = dpkt.pcap.Writer(out, linktype=dpkt.pcap.DLT_EN10MB)
    w.writepkt(bytes(dpkt.ethernet.Ethernet(type=0x0806, data=b"\x00" * 28)), 1.0)
    (tmp_path / "arp.pcap").write_bytes(out.getvalue())
    with pytest.raises(CaptureError, match="no TCP"):
        validate([tmp_path / "arp.pcap"])
    out = io.BytesIO()
    w = dpkt.pcap.Writer(out, linktype=147)  # LINKTYPE_USER0
    w.writepkt(b"\x00" * 40, 1.0)
    (tmp_path / "user.pcap").write_bytes(out.getvalue())
    r = _cli(str(tmp_path / "user.pcap"))
    assert r.returncode == 2 and "link type 147" in r.stderr


def test_cli_verdicts_and_out(tmp_path: Path) -> None:
    r = _cli("tests/captures/server-first.pcap", "--out", str(tmp_path), "--format", "json")
    assert r.returncode == 0, r.stderr
    assert '"verdict": "conforms"' in r.stdout
    for ext in ("dot", "txt", "json"):
        assert (tmp_path / f"server-first.0.{ext}").exists()
    assert (tmp_path / "index.html").exists() and (tmp_path / "junit.xml").exists()
    (_kind, number, data) = next(
        m for m in mutants(HERE / "server-first.pcap") if m[0] == "ack-unsent"
    )
    bad = tmp_path / "mutant.pcap"
    bad.write_bytes(data)
    r = _cli(str(bad))
    assert r.returncode == 1
    assert f"first divergent segment: packet {number}" in r.stdout
    assert "the model would have allowed there" in r.stdout


def test_a_format_is_one_entry_of_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    # `validate --format` offers what `output.FORMATS` holds when the command line is parsed.
    capture = str(HERE / "basic.pcap")
    r = CliRunner().invoke(main, ["validate", capture, "--format", "toy"])
    assert r.exit_code == 2 and "'toy' is not one of 'text', 'json', 'junit'" in r.stderr

    def toy(verdicts: Sequence[Verdict]) -> str:
        return "".join(f"{Path(v.file).name} {v.segments} {v.verdict}\n" for v in verdicts)

    monkeypatch.setitem(output.FORMATS, "toy", toy)
    assert "[text|json|junit|toy]" in CliRunner().invoke(main, ["validate", "--help"]).stdout
    r = CliRunner().invoke(main, ["validate", capture, "--format", "toy"])
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "basic.pcap 11 conforms\n"


def test_exit_code_rule() -> None:
    v = Verdict("f", "c", 1, 1, "conforms")
    u = Verdict("f", "c", 1, 1, "unknown")
    d = Verdict("f", "c", 1, 1, "diverges")
    assert exit_code([v]) == 0 and exit_code([v, u]) == 3 and exit_code([u, d]) == 1


def test_an_interrupt_keeps_the_verdicts_found(models: Models) -> None:
    from tcpmodel.interrupt import Interrupt

    stop = Interrupt()
    first = validate([HERE / "basic.pcap"], models=models, stop=stop)
    stop.request("SIGINT")
    rest = validate([HERE / "basic.pcap"], models=models, stop=stop)
    stop.close()
    assert [v.verdict for v in first] == ["conforms"]
    assert [v.verdict for v in rest] == ["unknown"]
    assert "interrupted (SIGINT)" in rest[0].reason
    assert exit_code(first + rest) == 3
