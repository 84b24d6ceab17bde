"""The trace-guided search: sets of model states consistent with the segments seen so far.

Data: the observations of one connection (`Obs`, in capture order, each one segment seen at
the capture host ``host``, with its numbers in model units relative to its sender's ISN) and
the ``connection`` model compiled (`Compiled`).  A search node is a model state and a
*binding*: for each sequence space (end, incarnation) the model ISS that the capture's ISN of
that space stands for, fixed when the space's SYN is matched.

Contract: `search` walks the observations in order.  Before observation ``i`` it closes the
current set of nodes under the unobservable steps (everything the peer does, the network's
losses and duplicates, the host's steps that send and receive nothing, and at most
``budget(i)`` ticks: the time between two observations bounds the ticks between them); then
it keeps the successors whose observable effect at the host (the segment it received, then
the segments it sent) is exactly the next observations.  The transitions are the compiled
model's own (`Compiled.successors`, or the same ones computed in C: `successors.py`): nothing
here knows which segments TCP allows.

A run that matches every observation ends with a witness, the model trace from the initial
state, which `tcpmodel.semantics.replay` checks.  Otherwise the first observation that no node
explains is the divergence, reported with the states each end could be in just before it and
the observable steps the model offered there.  A search cut short by a bound (nodes per
observation, ticks in a long gap) reports that it is not conclusive.

Memos (per `Searcher`, so per compiled configuration): successors and their sorting per state;
and each search step, the closure before observation ``i`` and the steps matching the next
observations, by everything it reads (``i``, the nodes with their ticks, the tick budget, the
peer's later segments, the shape of the observations it can explain).  A step met again is
not searched again: its result, parent links included, is the one the search would compute.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tcpmodel.kernel.compile import Compiled
from tcpmodel.kernel.system import System
from tcpmodel.kernel.types import decode, show
from tcpmodel.results import Step
from tcpmodel.validate.successors import Successors

PEER = {"a": "b", "b": "a"}
CHANNEL = {"a": "net.ab", "b": "net.ba"}
FIELDS = ("present", "syn", "ack", "fin", "rst", "seq", "ackno", "len", "inc")


@dataclass(frozen=True, slots=True)
class Obs:
    """One captured segment in model terms (``seq``/``ackno`` None: no model number maps to
    the real one, so no model segment can match; ``zero``: an RST with the literal SEQ 0)."""

    index: int
    time: float
    sender: str
    syn: bool
    ack: bool
    fin: bool
    rst: bool
    seq: int | None
    ackno: int | None
    len: int
    inc: int
    zero: bool = False


# A model segment's fields: syn, ack, fin, rst, seq, ackno, len, inc.
Seg = tuple[bool, bool, bool, bool, int, int, int, int]
# What the host sees in one step: ("in" | "out", segment or None for a send lost unseen).
Seen = tuple[str, Seg | None]
Binding = tuple[int | None, ...]
Node = tuple[bytes, Binding]
Key = tuple[int, Node]
# A state's successors for one capture point: (ticks, observable steps, silent steps).
Expansion = tuple[
    list[tuple[int, bytes]], list[tuple[int, bytes, list[Seen]]], list[tuple[int, bytes]]
]
Link = tuple[Key, int, int]  # parent link: previous node, action, observations it explained
# A closure: (node, fewest ticks, observable steps) each, the bound that cut it, the parent
# links it adds, and the most segments one of its observable steps shows.
Closure = tuple[
    list[tuple[Node, int, list[tuple[int, bytes, list[Seen]]]]], str, dict[Key, Link | None], int
]
# Steps matching the next observations: (next observation, node, ticks, its parent key,
# link); and steps
# whose later segment failed to match: (the observation it fails at, (node, action, state,
# the segments from there)).
Found = list[tuple[int, Node, int, Key, Link]]
Partial = list[tuple[int, tuple[Node, int, bytes, list[Seen]]]]
T = TypeVar("T")
# Search steps remembered per Searcher, counted in the nodes, links and matches they hold (a
# bound on memory: a closure may hold up to ``max_nodes`` nodes).
MEMO = 500_000


@dataclass(frozen=True, slots=True)
class Alternative:
    """An observable step the model offered where the capture diverged."""

    direction: str  # "a->b" or "b->a"
    seg: Seg
    seq_rel: int | None
    ack_rel: int | None
    action: str


@dataclass
class Outcome:
    matched: int  # observations explained
    path: list[tuple[bytes, int | None]]  # witness: states and the action that led to each
    obs_step: dict[int, int]  # observation index -> witness step that produced it
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (a.state, b.state) at divergence
    alternatives: list[Alternative] = field(default_factory=list)
    cut: str = ""  # a bound that made the search inconclusive
    nodes: int = 0


@dataclass(frozen=True, slots=True)
class _Act:
    actor: str
    recv: bool
    slot: int
    tick: bool


class Searcher:
    """The compiled model with the layout facts the search needs."""

    def __init__(
        self, system: System, compiled: Compiled, successors: Successors | None = None
    ) -> None:
        self.system = system
        self.c = compiled
        # The successor function (Python or C, the same transitions): `successors.py`.
        self.fn = successors or Successors(system, compiled, "python")
        acts: list[_Act] = []
        for a in system.actions:
            actor = a.name.split(".")[0]
            slot = int(dict(a.params).get("slot", -1))
            acts.append(_Act(actor, a.group.endswith(".recv"), slot, a.name == "tick"))
        self.acts = acts
        lay = compiled.layout
        self.slots: dict[str, list[tuple[int, int, list[tuple[int, int]]]]] = {}
        arrays = {arr.name: arr for arr in system.arrays}
        for end, name in CHANNEL.items():
            arr = arrays[name]
            out = []
            for k in range(arr.capacity):
                names = arr.slot_vars(k)
                idx = [system.index[n] for n in names]
                start = lay.offsets[idx[0]]
                stop = lay.offsets[idx[-1]] + lay.widths[idx[-1]]
                fields = []
                for f in FIELDS:
                    i = system.index[arr.var_name(k, f)]
                    fields.append((lay.offsets[i] - start, lay.widths[i]))
                out.append((start, stop, fields))
            self.slots[end] = out
        # Per channel: each slot's bytes and the offset of its ``present`` flag; the span of
        # bytes that holds every slot.
        self._present = {
            end: [(a, b, a + f[0][0]) for a, b, f in out] for end, out in self.slots.items()
        }
        self._span = {
            end: (min(a for a, _, _ in out), max(b for _, b, _ in out))
            for end, out in self.slots.items()
        }
        # Successors by state: the connections of a capture share one compiled configuration
        # and pass through mostly the same model states (their numbers are relative to fixed
        # model ISNs), so each state is expanded once per configuration.
        self._succ: dict[bytes, list[tuple[int, bytes]]] = {}
        self._expanded: dict[tuple[str, bytes], Expansion] = {}
        self._inbound: dict[tuple[str, bytes], list[Seg]] = {}
        self.state_at = {x: system.index[f"{x}.state"] for x in ("a", "b")}
        # Slot bytes -> fields: the same few segments recur in every state (both channels
        # share one record layout).
        self._decoded: dict[bytes, Seg] = {}
        # Search steps by their inputs (see `search`), trace steps, witnesses replayed.
        self.closures: dict[Any, Closure] = {}
        self.matches: dict[Any, tuple[Found, Partial]] = {}
        self.memo_size = 0  # the weight `closures` and `matches` hold (see `remember`)
        self._steps: dict[tuple[bytes, int | None], Step] = {}
        self._initial: list[bytes] | None = None
        self.replayed: set[tuple[tuple[bytes, int | None], ...]] = set()
        self.lost = system.index.get("net.lost")
        self.loss = 0
        if self.lost is not None:
            vt = system.variables[self.lost].vtype
            self.loss = int(getattr(vt, "hi", 0))
        self.mask = (1 << 32) - 1
        for v in system.variables:
            if v.name == "a.iss":
                self.mask = (1 << (8 * lay.widths[system.index[v.name]])) - 1
        seq_t = system.variables[system.index["a.iss"]].vtype
        bits = getattr(seq_t, "bits", 32)
        self.mask = (1 << int(bits)) - 1

    def remember(self, memo: dict[Any, T], key: Any, value: T, weight: int) -> T:
        """``memo[key] = value`` (``memo``: `closures` or `matches`), both memos emptied
        first when the ``weight`` of ``value`` (nodes, links, matches) would take what they
        hold past `MEMO`: a bound on memory for a capture of many different connections."""
        if self.memo_size + weight > MEMO:
            self.closures.clear()
            self.matches.clear()
            self.memo_size = 0
        memo[key] = value
        self.memo_size += weight
        return value

    def step(self, s: bytes, ai: int | None) -> Step:
        """State ``s`` as a trace step (memoized: witnesses share most of their steps)."""
        key = (s, ai)
        got = self._steps.get(key)
        if got is None:
            from tcpmodel.engines.search import trace_step

            got = self._steps[key] = trace_step(self.c, s, ai)
        return got

    def initial(self) -> list[bytes]:
        if self._initial is None:
            self._initial = self.c.initial()
        return self._initial

    def successors(self, s: bytes) -> list[tuple[int, bytes]]:
        """The model's successors of ``s`` (action index, state), memoized."""
        got = self._succ.get(s)
        if got is None:
            got = self._succ[s] = list(self.fn(s))
        return got

    def expand(self, host: str, s: bytes) -> Expansion:
        """The successors of ``s`` sorted for the search at ``host``, memoized: ticks, steps
        the capture sees (with what it sees) and the silent rest."""
        key = (host, s)
        got = self._expanded.get(key)
        if got is None:
            ticked: list[tuple[int, bytes]] = []
            observable: list[tuple[int, bytes, list[Seen]]] = []
            silent: list[tuple[int, bytes]] = []
            sent = self.segs(s, host)  # the host's segments in flight before each step
            for ai, t in self.successors(s):
                act = self.acts[ai]
                if act.tick:
                    ticked.append((ai, t))
                    continue
                outs = self.seen(host, s, ai, t, sent) if act.actor == host else []
                if outs:
                    observable.append((ai, t, outs))
                else:
                    silent.append((ai, t))
            got = self._expanded[key] = (ticked, observable, silent)
        return got

    def inbound(self, host: str, s: bytes) -> list[Seg]:
        """The segments in flight toward ``host`` in ``s``, decoded (memoized)."""
        key = (host, s)
        got = self._inbound.get(key)
        if got is None:
            peer = PEER[host]
            got = self._inbound[key] = [self.decode(sb, peer) for sb in self.segs(s, peer)]
        return got

    def budget_left(self, s: bytes) -> int:
        """Segments the network may still lose in this incarnation."""
        if self.lost is None:
            return 0
        o = self.c.layout.offsets[self.lost]
        return self.loss - s[o]

    def segs(self, s: bytes, end: str) -> list[bytes]:
        return [s[a:b] for a, b, p in self._present[end] if s[p]]

    def decode(self, sb: bytes, end: str) -> Seg:
        got = self._decoded.get(sb)
        if got is None:
            got = self._decoded[sb] = self._decode(sb, end)
        return got

    def _decode(self, sb: bytes, end: str) -> Seg:
        _, _, fields = self.slots[end][0]
        vals = [int.from_bytes(sb[o : o + w], "big") for o, w in fields]
        return (
            bool(vals[1]),
            bool(vals[2]),
            bool(vals[3]),
            bool(vals[4]),
            vals[5],
            vals[6],
            vals[7],
            vals[8],
        )

    def state_name(self, s: bytes, end: str) -> str:
        i = self.state_at[end]
        v = self.system.variables[i]
        o, w = self.c.layout.offsets[i], self.c.layout.widths[i]
        return str(show(v.vtype, decode(v.vtype, int.from_bytes(s[o : o + w], "big"))))

    def seen(
        self, host: str, s: bytes, ai: int, t: bytes, sent: list[bytes] | None = None
    ) -> list[Seen]:
        """What the capture at ``host`` sees of the step ``s --ai--> t`` (``sent``:
        ``segs(s, host)`` when the caller has it)."""
        act = self.acts[ai]
        if act.actor != host:
            return []
        out: list[Seen] = []
        if act.recv and act.slot >= 0:
            a, b, _ = self.slots[PEER[host]][act.slot]
            out.append(("in", self.decode(s[a:b], PEER[host])))
        a, b = self._span[host]
        if s[a:b] != t[a:b]:  # else the host's channel holds the same segments: none sent
            before = self.segs(s, host) if sent is None else list(sent)
            for sb in self.segs(t, host):
                if sb in before:
                    before.remove(sb)
                else:
                    out.append(("out", self.decode(sb, host)))
        if self.lost is not None:
            o = self.c.layout.offsets[self.lost]
            if t[o] > s[o] and not act.recv:
                out.append(("out", None))  # sent into a full channel: lost unseen
        return out


def _match(sr: Searcher, o: Obs, seen: Seen, bd: Binding, host: str, incs: int) -> Binding | None:
    kind, seg = seen
    if seg is None:
        return None
    if (kind == "out") != (o.sender == host):
        return None
    syn, ack, fin, rst, seq, ackno, ln, inc = seg
    if (syn, ack, fin, rst, ln, inc) != (o.syn, o.ack, o.fin, o.rst, o.len, o.inc):
        return None
    side = 0 if o.sender == "a" else 1
    mine = side * incs + o.inc
    theirs = (1 - side) * incs + o.inc
    if o.zero:
        if seq != 0:
            return None
    else:
        if o.seq is None:
            return None
        iss = bd[mine]
        if iss is None:
            if not (o.syn and o.seq == 0):
                return None
            bd = (*bd[:mine], seq, *bd[mine + 1 :])
        elif (seq - iss) & sr.mask != o.seq:
            return None
    if o.ack:
        base = bd[theirs]
        if o.ackno is None or base is None or (ackno - base) & sr.mask != o.ackno:
            return None
    return bd


def search(
    sr: Searcher,
    obs: list[Obs],
    host: str,
    incs: int,
    tick_seconds: float | None,
    max_ticks: int = 12,
    max_nodes: int = 200_000,
) -> Outcome:
    init = sr.initial()
    start: Binding = (None,) * (2 * incs)
    peer = PEER[host]
    # future[i]: the peer's segments seen from observation i on, as (fields, rel SEQ, rel ACK):
    # a segment in flight toward the host that is none of them must be lost (`_viable`).
    future: list[frozenset[tuple[object, ...]]] = [frozenset()] * (len(obs) + 1)
    acc: set[tuple[object, ...]] = set()
    for j in range(len(obs) - 1, -1, -1):
        o = obs[j]
        if o.sender == peer:
            acc.add((o.syn, o.ack, o.fin, o.rst, o.len, o.inc, 0 if o.zero else o.seq,
                     o.ackno if o.ack else None))  # fmt: skip
        future[j] = frozenset(acc)
    # frontier[i]: the nodes that explain observations before i, each with the fewest ticks
    # (model time) it took to get there.
    frontier: dict[int, dict[Node, int]] = {0: {(s, start): 0 for s in init}}
    parent: dict[Key, tuple[Key, int, int] | None] = {(0, n): None for n in frontier[0]}
    n_obs = len(obs)
    cut = ""
    nodes = 0
    last_closure: list[tuple[Node, int, list[tuple[int, bytes, list[Seen]]]]] = []
    last_i = 0
    last_starts: dict[Node, int] = {}
    last_budget = 0
    # The furthest observation where a step's second segment failed to match, and those steps.
    partial: tuple[list[int], list[tuple[Node, int, bytes, list[Seen]]]] = ([0], [])
    # What the matching reads of an observation: all but its index and time.
    shape = [(o.sender, o.syn, o.ack, o.fin, o.rst, o.seq, o.ackno, o.len, o.inc, o.zero)
             for o in obs]  # fmt: skip
    for i in range(n_obs + 1):
        starts = frontier.pop(i, None)
        if not starts:
            continue
        last_i = i
        if i == n_obs:
            break
        # Time bounds the ticks: by observation i at most floor(elapsed / tick) + 1 have passed
        # since the first (a tick's boundary may fall anywhere); without a tick length, at
        # most ``max_ticks`` more than the fewest any node has used.
        fewest = min(starts.values())
        if tick_seconds is None:
            budget = fewest + max_ticks
        else:
            budget = int((obs[i].time - obs[0].time) / tick_seconds) + 1
            budget = min(budget, fewest + max_ticks)
        # One step of the search is a function of this key (and, for the matching, of the
        # observations its steps can explain): connections with the same segments so far
        # repeat it exactly, so it is computed once per Searcher.
        ckey = (host, i, tuple(starts.items()), budget, future[i], incs, max_nodes)
        got = sr.closures.get(ckey)
        if got is None:
            local: dict[Key, tuple[Key, int, int] | None] = {}
            closure, hit = _closure(sr, host, i, starts, budget, local, max_nodes, future[i], incs)
            # The parent links the closure adds: starts keep the step that matched them.
            links = {k: v for k, v in local.items() if k[1] not in starts}
            width = max((len(outs) for _, _, ob in closure for _, _, outs in ob), default=0)
            weight = len(closure) + len(links)
            got = sr.remember(sr.closures, ckey, (closure, hit, links, width), weight)
        closure, hit, links, width = got
        parent.update(links)
        nodes += len(closure)
        if hit:
            cut = cut or hit
        last_closure = closure
        last_starts, last_budget = starts, budget
        mkey = (ckey, tuple(shape[i : i + width]))
        matched = sr.matches.get(mkey)
        if matched is None:
            matched = _matches(sr, obs, i, closure, host, incs)
            sr.remember(sr.matches, mkey, matched, 1 + len(matched[0]) + len(matched[1]))
        found, partials = matched
        buckets = {j: frontier.setdefault(j, {}) for j in {f[0] for f in found}}
        for j, nxt, used, pkey, link in found:
            bucket = buckets[j]
            was = bucket.get(nxt)
            if was is None or was > used:
                bucket[nxt] = used
                parent[pkey] = link
        for fails, entry in partials:
            if fails >= partial[0][0]:
                # The step's first segment matched, its second did not: the divergence is at
                # the second.
                if fails > partial[0][0]:
                    partial[0][0] = fails
                    partial[1].clear()
                partial[1].append(entry)
    if last_i == n_obs and n_obs > 0:
        final = next(iter(starts or {}))
        path, steps = _path(parent, (n_obs, final))
        return Outcome(n_obs, path, steps, cut=cut, nodes=nodes)
    # Divergence at obs[last_i]: what each end could be, what the model offered.  The closure
    # again without the pruning by later segments: every step the model allowed there.
    if last_starts:
        last_closure, _ = _closure(
            sr, host, last_i, last_starts, last_budget, {}, max_nodes, None, incs
        )
    if partial[0][0] > last_i:
        # Within a step that received a segment and answered: the answer diverges.
        last_i = partial[0][0]
        last_closure = [((t, node[1]), 0, [(ai, t, outs)]) for node, ai, t, outs in partial[1]]
    pairs = sorted(
        {(sr.state_name(n[0], "a"), sr.state_name(n[0], "b")) for n, _, _ in last_closure}
    )
    alts: dict[tuple[str, Seg], Alternative] = {}
    for node, _used, observable in last_closure:
        for ai, _t, outs in observable:
            kind, seg = outs[0]
            if seg is None:
                continue
            sender = host if kind == "out" else PEER[host]
            side = 0 if sender == "a" else 1
            inc = seg[7]
            mine = node[1][side * incs + inc] if inc < incs else None
            theirs = node[1][(1 - side) * incs + inc] if inc < incs else None
            seq_rel = (seg[4] - mine) & sr.mask if mine is not None else None
            ack_rel = (seg[5] - theirs) & sr.mask if theirs is not None and seg[1] else None
            key = (f"{sender}->{PEER[sender]}", (*seg[:4], seq_rel or 0, ack_rel or 0, *seg[6:]))
            if key not in alts:
                alts[key] = Alternative(key[0], seg, seq_rel, ack_rel, sr.system.actions[ai].label)
    at: Key
    if partial[1] and last_i == partial[0][0]:
        pnode = partial[1][0][0]
        at = next((k for k in parent if k[1] == pnode and k[0] < last_i), (last_i - 1, pnode))
    else:
        first = last_closure[0][0] if last_closure else next(iter(parent))[1]
        at = next((k for k in parent if k[0] == last_i and k[1] == first), (last_i, first))
    path, steps = _path(parent, at)
    return Outcome(last_i, path, steps, pairs, list(alts.values()), cut, nodes)


def _matches(
    sr: Searcher,
    obs: list[Obs],
    i: int,
    closure: list[tuple[Node, int, list[tuple[int, bytes, list[Seen]]]]],
    host: str,
    incs: int,
) -> tuple[Found, Partial]:
    """The observable steps of ``closure`` whose segments are ``obs[i:]``'s next ones, as
    (next observation, node, ticks, parent link), in order; and those whose first segment
    matched but a later one did not, with the observation that one diverges at."""
    n_obs = len(obs)
    found: Found = []
    partials: Partial = []
    for node, used, observable in closure:
        for ai, t, outs in observable:
            if i + len(outs) > n_obs:
                continue
            bd: Binding | None = node[1]
            for k, seen in enumerate(outs):
                assert bd is not None
                bd = _match(sr, obs[i + k], seen, bd, host, incs)
                if bd is None:
                    if k > 0:
                        partials.append((i + k, (node, ai, t, outs[k:])))
                    break
            if bd is None:
                continue
            j = i + len(outs)
            nxt = (t, bd)
            found.append((j, nxt, used, (j, nxt), ((i, node), ai, len(outs))))
    return found, partials


def _closure(
    sr: Searcher,
    host: str,
    i: int,
    starts: dict[Node, int],
    budget: int,
    parent: dict[Key, tuple[Key, int, int] | None],
    max_nodes: int,
    future: frozenset[tuple[object, ...]] | None,
    incs: int,
) -> tuple[list[tuple[Node, int, list[tuple[int, bytes, list[Seen]]]]], str]:
    """Every node reachable from ``starts`` by unobservable steps within ``budget`` ticks in
    all, with the fewest ticks it takes and its observable transitions; and the bound that
    stopped the closure, if any.  Layer by layer of tick counts, so that a node is first met
    with its fewest ticks."""
    seen: set[Node] = set()
    out: list[tuple[Node, int, list[tuple[int, bytes, list[Seen]]]]] = []
    by_ticks: dict[int, list[Node]] = {}
    for node, used in starts.items():
        by_ticks.setdefault(used, []).append(node)
    ticks = min(by_ticks)
    layer: list[Node] = []
    hit = ""
    expand = sr.expand
    while True:
        layer += [n for n in by_ticks.pop(ticks, []) if n not in seen]
        seen.update(layer)
        if not layer and not by_ticks:
            break
        q = deque(layer)
        ticked: list[tuple[Node, int, bytes]] = []
        while q:
            node = q.popleft()
            s, bd = node
            ticks_of, observable, silent = expand(host, s)
            ticked += [(node, ai, t) for ai, t in ticks_of]
            for ai, t in silent:
                nxt = (t, bd)
                if nxt not in seen:
                    seen.add(nxt)
                    if future is not None and not _viable(sr, host, t, bd, future, incs):
                        continue
                    parent.setdefault((i, nxt), ((i, node), ai, 0))
                    q.append(nxt)
            out.append((node, ticks, observable))
            if len(seen) > max_nodes:
                return out, f"more than {max_nodes:,} model states before one segment"
        layer = []
        if ticks >= budget:
            if any((t, n[1]) not in seen for n, _, t in ticked) and budget >= 12:
                hit = f"{budget} ticks (a long gap between segments)"
            break
        ticks += 1
        for node, ai, t in ticked:
            nxt = (t, node[1])
            if nxt not in seen:
                seen.add(nxt)
                parent.setdefault((i, nxt), ((i, node), ai, 0))
                layer.append(nxt)
    return out, hit


def _viable(
    sr: Searcher,
    host: str,
    s: bytes,
    bd: Binding,
    future: frozenset[tuple[object, ...]],
    incs: int,
) -> bool:
    """Whether every segment in flight toward ``host`` can still be seen or lost: each must be
    one the capture shows later, or be covered by the loss budget left."""
    peer = PEER[host]
    strays = 0
    side = 0 if peer == "a" else 1
    for syn, ack, fin, rst, seq, ackno, ln, inc in sr.inbound(host, s):
        if inc >= incs:
            continue
        mine, theirs = bd[side * incs + inc], bd[(1 - side) * incs + inc]
        if mine is None:
            continue  # its space is not bound yet: nothing to compare with
        rel_seq: int | None = (seq - mine) & sr.mask
        if rst and seq == 0:
            rel_seq = 0
        rel_ack = None
        if ack:
            if theirs is None:
                continue
            rel_ack = (ackno - theirs) & sr.mask
        if (syn, ack, fin, rst, ln, inc, rel_seq, rel_ack) not in future:
            strays += 1
    if not strays:
        return True
    return strays <= sr.budget_left(s)


def _path(
    parent: dict[Key, tuple[Key, int, int] | None], key: Key
) -> tuple[list[tuple[bytes, int | None]], dict[int, int]]:
    rev: list[tuple[bytes, int | None, int, int]] = []
    k: Key | None = key
    while k is not None:
        p = parent.get(k)
        if p is None:
            rev.append((k[1][0], None, k[0], 0))
            break
        prev, ai, nobs = p
        rev.append((k[1][0], ai, prev[0], nobs))
        k = prev
    rev.reverse()
    path = [(s, ai) for s, ai, _, _ in rev]
    steps: dict[int, int] = {}
    for step, (_s, _ai, i, nobs) in enumerate(rev):
        for m in range(nobs):
            steps[i + m] = step
    return path, steps
