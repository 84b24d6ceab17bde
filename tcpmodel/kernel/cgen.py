"""Compile a `System` to C for the native explorer (`tcpmodel.engines.native`).

The generated C follows `tcpmodel.kernel.compile` exactly: a state is the same byte string
(every variable's code in ``width`` big-endian bytes, in variable order), successors come in
action order, and every unordered slot array an action writes is put in canonical order (slots
sorted by their bytes, largest first).  Expressions follow `tcpmodel.kernel.compile.py_expr`:

* every value is an ``int64_t``: Bools 0/1, enum indices, Ints, and Seq values as their
  ``bits``-bit pattern; Seq arithmetic runs on ``uint64_t`` and is masked, so it is exact for
  every width up to 64;
* Int ``+``, ``-``, ``*`` and negation are exact where the operands' ranges prove that the result
  fits in 62 bits, and otherwise checked: a result beyond 64 bits stops the search with a
  `NativeError` (Python integers are unbounded; the native engine is not: `tcpmodel.check`
  falls back to the Python explorer);
* ``//`` and ``%`` by a positive constant round towards minus infinity, as in Python;
* an update that leaves an `IntType` range is reported as the same `ModelError` as
  `Compiled._range_error`.

One C translation unit per system holds the generated successor function (``tc_body``, which
calls the parts ``tc_part<n>``, each the guarded actions of `PART_GROUPS` groups in action
order, each decoding the variables it reads) and a
fixed breadth-first driver: an arena of fixed-size states in discovery order (so a BFS level is
a range of indices), an open-addressing hash set of indices into it, and per state the index of
its parent and the action that discovered it.  A small unit per list of predicates holds
``tc_flags`` (which of them hold), passed to the driver as a function pointer, so that checking
other properties does not recompile the successor function.  ``tc_new(..., compact)`` chooses
hash compaction at run time (`tcpmodel.engines.native`): the hash set then holds 64-bit
fingerprints (``tc_fp``, independent of ``tc_hash``) in 256 segments that grow one at a time,
and the arena only the level being expanded and the next one.  Units are compiled with
``gcc -O1 -shared -fPIC`` into a cache directory (``$TCPMODEL_CACHE`` or ``~/.cache/tcpmodel``)
under a hash of their source, and loaded with `ctypes`.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from tcpmodel.errors import ModelError, NativeError
from tcpmodel.files import write_atomic
from tcpmodel.kernel.compile import Layout, StateCodec, layout_of, simplify
from tcpmodel.kernel.expr import Const, Expr, Op, Var
from tcpmodel.kernel.system import System
from tcpmodel.kernel.types import (
    BoolType,
    EnumType,
    IntSort,
    IntType,
    SeqType,
)

Interval = tuple[int, int]

I64_MIN = -(2**63)
I64_MAX = 2**63 - 1
_SAFE = 2**62  # results within +-2**62 need no overflow check
MAX_PREDICATES = 64

PART_GROUPS = 64
"""Guarded action groups per C function of the successor function (0: one function).  gcc's
time grows faster than linearly with a function's size, and the connection model's successor
function has thousands of lines: in parts of 64 groups, with ``-O1``, a configuration compiles
in about a third of the time of one function at ``-O2``, and explores as fast
(docs/benchmarks.md, `bench/cflags.py`)."""

CFLAGS = ("-O1", "-shared", "-fPIC", "-std=gnu11", "-w")

# Return codes of tc_run.
TC_LEVEL = 0  # the current level is fully expanded
TC_CHECK = 1  # stopped at a check point (every 1024 states of a level): budget or state bound
TC_MEM = 2  # growing the tables would pass the memory cap, or allocation failed
TC_ERROR = 3  # a range error or an overflow; see tc_info
TC_FULL = 4  # 2**32 - 2 states: the limit of 32-bit parent indices


class SearchInfo(NamedTuple):
    """The driver's status as ``tc_info`` writes it: one ``int64_t`` per field, in this order
    (`info_source` generates the C function from these fields)."""

    states: int  # states stored
    transitions: int  # transitions generated
    next_state: int  # index of the next state of the level to expand
    level_begin: int  # the level being expanded: states level_begin .. level_end - 1
    level_end: int
    undecided: int  # bitmask of the predicates not yet seen to hold
    table_bytes: int  # bytes the arena, parent, action and hash tables take
    mem_want: int  # bytes the last refused growth of the tables needed
    err_kind: int  # ERR_RANGE, ERR_OVERFLOW_ACTION or ERR_OVERFLOW_PREDICATE; 0 if none
    err_action: int
    err_var: int
    err_value: int


# Each field of `SearchInfo` as a C expression over the context ``c``.
_INFO_C: dict[str, str] = {
    "states": "(int64_t)c->n",
    "transitions": "(int64_t)c->transitions",
    "next_state": "(int64_t)c->next",
    "level_begin": "(int64_t)c->level_begin",
    "level_end": "(int64_t)c->level_end",
    "undecided": "(int64_t)c->undecided",
    "table_bytes": "(int64_t)tc_bytes(c, c->cap, c->tsize, c->nxt_cap)",
    "mem_want": "(int64_t)c->mem_want",
    "err_kind": "c->err.kind",
    "err_action": "c->err.action",
    "err_var": "c->err.var",
    "err_value": "c->err.value",
}


def info_source() -> str:
    """The C function ``tc_info``: the fields of `SearchInfo`, in order."""
    body = "".join(
        f"    out[{i}] = {_INFO_C[name]};\n" for i, name in enumerate(SearchInfo._fields)
    )
    return (
        f"/* {', '.join(SearchInfo._fields)} */\n"
        "void tc_info(void *vc, int64_t *out) {\n    tc_ctx *c = vc;\n" + body + "}\n\n"
    )


# Error kinds in tc_info.
ERR_RANGE = 1
ERR_OVERFLOW_ACTION = 2
ERR_OVERFLOW_PREDICATE = 3

HELPERS = r"""
static inline int64_t tc_add(int64_t a, int64_t b, int *o) {
    int64_t r; *o |= __builtin_add_overflow(a, b, &r); return r;
}
static inline int64_t tc_sub(int64_t a, int64_t b, int *o) {
    int64_t r; *o |= __builtin_sub_overflow(a, b, &r); return r;
}
static inline int64_t tc_mul(int64_t a, int64_t b, int *o) {
    int64_t r; *o |= __builtin_mul_overflow(a, b, &r); return r;
}
static inline int64_t tc_div(int64_t a, int64_t d) {
    int64_t q = a / d;
    if (a % d != 0 && a < 0) q -= 1;
    return q;
}
static inline int64_t tc_mod(int64_t a, int64_t d) {
    int64_t r = a % d;
    if (r < 0) r += d;
    return r;
}
static inline int tc_seq_lt(uint64_t d, uint64_t half) { return d != 0 && d < half; }
static inline int tc_in_win(uint64_t d, int64_t w) { return w > 0 && d < (uint64_t)w; }

"""

RUNTIME_HEAD = r"""
typedef struct { int64_t kind, action, var, value; } tc_err;
typedef uint64_t (*tc_flags_fn)(const uint8_t *s, int *ovf);

/* Compact mode's fingerprint table is TC_NSUB segments, chosen by a fingerprint's top 8 bits,
   each an open-addressing table (0 empty) of any size, the slot a fingerprint's position in
   it scaled to the size (so a segment is in fingerprint order and is rebuilt from the
   fingerprints alone).  A segment grows by a quarter past 3/4 full: the load stays between
   0.6 and 0.75, and growing one segment needs 1/256 of the table beside it, not a second
   table. */
#define TC_NSUB 256
typedef struct { uint64_t *t; uint64_t size, count; } tc_seg;

typedef struct {
    uint8_t *arena;      /* states in discovery (BFS) order, S bytes each (exact mode) */
    int compact;         /* hash compaction: the table holds 64-bit fingerprints, no states */
    uint8_t *cur, *nxt;  /* compact: the level being expanded, the next level (S bytes each) */
    uint64_t cur_cap, nxt_cap;
    uint32_t *parent;    /* index of the state that discovered each state; TC_ROOT for initial */
    act_t *act;          /* the action that discovered each state */
    uint64_t n, cap;     /* states stored, states allocated */
    uint64_t *table;     /* open addressing: 0 empty, else (hash low 32 bits) << 32 | (index + 1);
                            compact: the state's fingerprint (never 0) */
    uint64_t tsize;      /* slots (compact: of all segments) */
    int tshift;          /* slot = hash >> tshift */
    tc_seg seg[TC_NSUB]; /* compact: the fingerprint table */
    int mem_fail;        /* compact: a segment could not grow (memory cap or allocation) */
    uint64_t level_begin, level_end, next;
    uint64_t transitions;
    uint64_t undecided;  /* predicates not yet seen to hold */
    uint64_t hit[64];    /* first state (BFS order) where predicate i holds */
    uint64_t mem_cap, mem_want;
    uint8_t *succ;       /* the successors of the state being expanded */
    int32_t *succ_act;
    tc_flags_fn flags;   /* compiled separately, per list of predicates */
    tc_err err;
} tc_ctx;

#define TC_ROOT 0xFFFFFFFFu
#define TC_MAX_STATES 0xFFFFFFFEull

static inline void tc_sort_desc(uint8_t *a, int n, int sz) {
    uint8_t tmp[S];
    for (int i = 1; i < n; i++) {
        if (memcmp(a + (i - 1) * sz, a + i * sz, sz) >= 0) continue;
        memcpy(tmp, a + i * sz, sz);
        int j = i;
        while (j > 0 && memcmp(a + (j - 1) * sz, tmp, sz) < 0) {
            memcpy(a + j * sz, a + (j - 1) * sz, sz);
            j--;
        }
        memcpy(a + j * sz, tmp, sz);
    }
}

static inline uint64_t tc_hash(const uint8_t *p) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)S;
    size_t i = 0;
    for (; i + 8 <= (size_t)S; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        h = (h ^ x) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
    }
    if (i < (size_t)S) {
        uint64_t x = 0;
        memcpy(&x, p + i, (size_t)S - i);
        h = (h ^ x) * 0x94d049bb133111ebull;
        h ^= h >> 29;
    }
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 32;
    return h;
}

/* The fingerprint of a state in compact mode: 64 bits, computed independently of tc_hash
   (xxHash64's lane round and avalanche); 0 marks an empty slot, so it is never 0.  The table
   slot is its top bits, so the table grows from the fingerprints alone. */
static inline uint64_t tc_rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static inline uint64_t tc_fp(const uint8_t *p) {
    const uint64_t P1 = 0x9E3779B185EBCA87ull, P2 = 0xC2B2AE3D27D4EB4Full;
    const uint64_t P3 = 0x165667B19E3779F9ull, P4 = 0x85EBCA77C2B2AE63ull;
    uint64_t h = 0x27D4EB2F165667C5ull + (uint64_t)S;
    size_t i = 0;
    for (; i + 8 <= (size_t)S; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        h ^= tc_rotl(x * P2, 31) * P1;
        h = tc_rotl(h, 27) * P1 + P4;
    }
    if (i < (size_t)S) {
        uint64_t x = 0;
        memcpy(&x, p + i, (size_t)S - i);
        h ^= tc_rotl(x * P2, 31) * P1;
        h = tc_rotl(h, 27) * P1 + P4;
    }
    h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32;
    return h ? h : 1;
}

/* The home slot of fingerprint h in its segment of ``size`` slots. */
static inline uint64_t tc_home(uint64_t h, uint64_t size) {
    return (uint64_t)(((unsigned __int128)(h << 8) * size) >> 64);
}

static inline void tc_place(uint64_t *t, uint64_t size, uint64_t h) {
    uint64_t pos = tc_home(h, size);
    while (t[pos]) if (++pos == size) pos = 0;
    t[pos] = h;
}

/* Grow segment g by a quarter; on failure (the memory cap, or no memory) it stays as it is,
   with room for more than a level's worth of insertions, and mem_fail stops the search. */
static void tc_grow(tc_ctx *c, tc_seg *g) {
    uint64_t ns = g->size + g->size / 4;
    uint64_t want = c->cap * (sizeof(uint32_t) + sizeof(act_t)) + (c->tsize + ns) * 8
                    + (c->cur_cap + c->nxt_cap) * (uint64_t)S;
    uint64_t *nt = want > c->mem_cap ? NULL : calloc(ns, 8);
    if (!nt) {
        c->mem_fail = 1;
        if (want > c->mem_want) c->mem_want = want;
        return;
    }
    for (uint64_t i = 0; i < g->size; i++)
        if (g->t[i]) tc_place(nt, ns, g->t[i]);
    free(g->t);
    c->tsize += ns - g->size;
    g->t = nt;
    g->size = ns;
}

static inline void tc_insert(tc_ctx *c, const uint8_t *t, uint64_t h, uint32_t parent,
                             int64_t a) {
    uint64_t idx;
    if (c->compact) {
        tc_seg *g = &c->seg[h >> 56];
        uint64_t pos = tc_home(h, g->size);
        for (;;) {
            uint64_t e = g->t[pos];
            if (e == 0) break;
            if (e == h) return;
            if (++pos == g->size) pos = 0;
        }
        idx = c->n++;
        memcpy(c->nxt + (idx - c->level_end) * (uint64_t)S, t, S);
        g->t[pos] = h;
        g->count++;
        if (g->count * 4 > g->size * 3 && !c->mem_fail) tc_grow(c, g);
    } else {
        uint64_t mask = c->tsize - 1;
        uint64_t pos = h >> c->tshift;
        uint64_t tag = h << 32;
        for (;;) {
            uint64_t e = c->table[pos];
            if (e == 0) break;
            if ((e & 0xFFFFFFFF00000000ull) == tag
                && memcmp(c->arena + ((e & 0xFFFFFFFFull) - 1) * (uint64_t)S, t, S) == 0)
                return;
            pos = (pos + 1) & mask;
        }
        idx = c->n++;
        memcpy(c->arena + idx * (uint64_t)S, t, S);
        c->table[pos] = tag | (idx + 1);
    }
    c->parent[idx] = parent;
    c->act[idx] = (act_t)a;
    if (c->undecided) {
        int ovf = 0;
        uint64_t f = c->flags(t, &ovf) & c->undecided;
        if (ovf && c->err.kind == 0) {
            c->err.kind = 3;
            c->err.action = -1;
            c->err.var = -1;
            c->err.value = 0;
        }
        c->undecided &= ~f;
        while (f) {
            int i = __builtin_ctzll(f);
            c->hit[i] = idx;
            f &= f - 1;
        }
    }
}

#define TC_EMIT(A)                                                   \
    do {                                                             \
        if (mode == 0) {                                             \
            tc_insert(c, t, c->compact ? tc_fp(t) : tc_hash(t),     \
                      self, (A));                                    \
        } else {                                                     \
            memcpy(out + (uint64_t)nsucc * S, t, S);                 \
            acts[nsucc] = (A);                                       \
        }                                                            \
        nsucc++;                                                     \
    } while (0)

#define TC_RANGE(A, V, X)                                            \
    do {                                                             \
        err->kind = 1; err->action = (A); err->var = (V);            \
        err->value = (X);                                            \
        return -1;                                                   \
    } while (0)

#define TC_OVERFLOW(A)                                               \
    do {                                                             \
        err->kind = 2; err->action = (A); err->var = -1;             \
        err->value = 0;                                              \
        return -1;                                                   \
    } while (0)
"""

RUNTIME_TAIL = r"""
static const uint64_t tc_per_state = (uint64_t)S + sizeof(uint32_t) + sizeof(act_t);
static const uint64_t tc_per_state_compact = sizeof(uint32_t) + sizeof(act_t);

/* Bytes held: per state (its bytes in exact mode; parent and action), the table, and in
   compact mode the two frontier buffers, with ``cap``, ``tsize`` and ``nxt_cap`` as given. */
static uint64_t tc_bytes(const tc_ctx *c, uint64_t cap, uint64_t tsize, uint64_t nxt_cap) {
    if (!c->compact) return cap * tc_per_state + tsize * 8;
    return cap * tc_per_state_compact + tsize * 8 + (c->cur_cap + nxt_cap) * (uint64_t)S;
}

static int tc_reserve(tc_ctx *c) {
    uint64_t need = c->n + (uint64_t)NACT;
    if (need > TC_MAX_STATES) return 4;
    if (c->mem_fail) return 2;
    if (c->compact && c->n - c->level_end + (uint64_t)NACT > c->nxt_cap) {
        uint64_t nn = c->nxt_cap;
        while (nn < c->n - c->level_end + (uint64_t)NACT) nn *= 2;
        uint64_t want = tc_bytes(c, c->cap, c->tsize, nn);
        if (want > c->mem_cap) { c->mem_want = want; return 2; }
        uint8_t *b = realloc(c->nxt, nn * (uint64_t)S);
        if (!b) { c->mem_want = want; return 2; }
        c->nxt = b;
        c->nxt_cap = nn;
    }
    if (need > c->cap) {
        uint64_t ncap = c->cap;
        while (ncap < need) ncap *= 2;
        if (ncap > TC_MAX_STATES) ncap = TC_MAX_STATES;
        uint64_t want = tc_bytes(c, ncap, c->tsize, c->nxt_cap);
        if (want > c->mem_cap) { c->mem_want = want; return 2; }
        if (!c->compact) {
            uint8_t *a = realloc(c->arena, ncap * (uint64_t)S);
            if (!a) { c->mem_want = want; return 2; }
            c->arena = a;
        }
        uint32_t *p = realloc(c->parent, ncap * sizeof(uint32_t));
        if (!p) { c->mem_want = want; return 2; }
        c->parent = p;
        act_t *q = realloc(c->act, ncap * sizeof(act_t));
        if (!q) { c->mem_want = want; return 2; }
        c->act = q;
        c->cap = ncap;
    }
    if (!c->compact && need * 4 > c->tsize * 3) {
        uint64_t nts = c->tsize;
        int nshift = c->tshift;
        while (need * 4 > nts * 3) { nts *= 2; nshift -= 1; }
        uint64_t want = tc_bytes(c, c->cap, c->tsize + nts, c->nxt_cap);
        if (want > c->mem_cap) { c->mem_want = want; return 2; }
        uint64_t *nt = calloc(nts, 8);
        if (!nt) { c->mem_want = want; return 2; }
        uint64_t mask = nts - 1;
        for (uint64_t i = 0; i < c->n; i++) {
            uint64_t h = tc_hash(c->arena + i * (uint64_t)S);
            uint64_t pos = h >> nshift;
            while (nt[pos]) pos = (pos + 1) & mask;
            nt[pos] = (h << 32) | (i + 1);
        }
        free(c->table);
        c->table = nt;
        c->tsize = nts;
        c->tshift = nshift;
    }
    return 0;
}

void *tc_new(uint64_t undecided, uint64_t mem_cap, tc_flags_fn flags, int compact) {
    tc_ctx *c = calloc(1, sizeof(tc_ctx));
    if (!c) return NULL;
    c->compact = compact;
    c->cap = 1024;
    while (c->cap < 2 * (uint64_t)NACT) c->cap *= 2;
    c->tsize = 4 * c->cap;
    c->tshift = 64 - __builtin_ctzll(c->tsize);
    int ok = 1;
    if (compact) {
        c->cur_cap = c->nxt_cap = c->cap;
        c->cur = malloc(c->cur_cap * (uint64_t)S);
        c->nxt = malloc(c->nxt_cap * (uint64_t)S);
        /* a segment 3/4 full still has room for the successors of many states */
        uint64_t size = 64;
        while (size < 8 * (uint64_t)NACT) size *= 2;
        c->tsize = TC_NSUB * size;
        for (int k = 0; k < TC_NSUB; k++) {
            c->seg[k].t = calloc(size, 8);
            c->seg[k].size = size;
            ok = ok && c->seg[k].t;
        }
        ok = ok && c->cur && c->nxt;
    } else {
        c->arena = malloc(c->cap * (uint64_t)S);
        c->table = calloc(c->tsize, 8);
        ok = c->arena && c->table;
    }
    c->parent = malloc(c->cap * sizeof(uint32_t));
    c->act = malloc(c->cap * sizeof(act_t));
    c->succ = malloc((uint64_t)NACT * S);
    c->succ_act = malloc((uint64_t)NACT * sizeof(int32_t));
    if (!ok || !c->parent || !c->act || !c->succ || !c->succ_act) {
        for (int k = 0; k < TC_NSUB; k++) free(c->seg[k].t);
        free(c->arena); free(c->cur); free(c->nxt); free(c->parent); free(c->act);
        free(c->table); free(c->succ); free(c->succ_act); free(c);
        return NULL;
    }
    c->undecided = flags ? undecided : 0;
    c->mem_cap = mem_cap;
    c->flags = flags;
    return c;
}

void tc_free(void *vc) {
    tc_ctx *c = vc;
    if (!c) return;
    for (int k = 0; k < TC_NSUB; k++) free(c->seg[k].t);
    free(c->arena); free(c->cur); free(c->nxt); free(c->parent); free(c->act);
    free(c->table); free(c->succ); free(c->succ_act); free(c);
}

/* The bytes of state idx: in compact mode only those of the level being expanded are kept. */
static inline uint8_t *tc_at(tc_ctx *c, uint64_t idx) {
    if (c->compact) return c->cur + (idx - c->level_begin) * (uint64_t)S;
    return c->arena + idx * (uint64_t)S;
}

int tc_add_initial(void *vc, const uint8_t *s) {
    tc_ctx *c = vc;
    int r = tc_reserve(c);
    if (r) return r;
    tc_insert(c, s, c->compact ? tc_fp(s) : tc_hash(s), TC_ROOT, 0);
    if (c->mem_fail && !c->err.kind) return 2;
    return c->err.kind ? 3 : 0;
}

void tc_begin_level(void *vc) {
    tc_ctx *c = vc;
    c->level_begin = c->level_end;
    c->level_end = c->n;
    c->next = c->level_begin;
    if (c->compact) {  /* the new level becomes the current one; the old one is dropped */
        uint8_t *b = c->cur; c->cur = c->nxt; c->nxt = b;
        uint64_t k = c->cur_cap; c->cur_cap = c->nxt_cap; c->nxt_cap = k;
    }
}

int tc_run(void *vc, uint64_t budget, uint64_t max_states) {
    tc_ctx *c = vc;
    uint64_t done = 0;
    while (c->next < c->level_end) {
        int r = tc_reserve(c);
        if (r) return r;
        uint64_t self = c->next;
        /* All successors first, then their hash slots prefetched, then inserted in order:
           the cache misses of the probes overlap, the discovery order is unchanged. */
        int64_t k = tc_body(tc_at(c, self), 1, c, (uint32_t)self, c->succ,
                            c->succ_act, &c->err);
        if (k < 0) return 3;
        uint64_t hs[NACT];
        for (int64_t i = 0; i < k; i++) {
            const uint8_t *t = c->succ + (uint64_t)i * S;
            if (c->compact) {
                uint64_t h = hs[i] = tc_fp(t);
                const tc_seg *g = &c->seg[h >> 56];
                __builtin_prefetch(&g->t[tc_home(h, g->size)]);
            } else {
                hs[i] = tc_hash(t);
                __builtin_prefetch(&c->table[hs[i] >> c->tshift]);
            }
        }
        for (int64_t i = 0; !c->compact && i < k; i++) {
            uint64_t e = c->table[hs[i] >> c->tshift];
            if (e && (e & 0xFFFFFFFF00000000ull) == (hs[i] << 32))
                __builtin_prefetch(c->arena + ((e & 0xFFFFFFFFull) - 1) * (uint64_t)S);
        }
        for (int64_t i = 0; i < k; i++)
            tc_insert(c, c->succ + (uint64_t)i * S, hs[i], (uint32_t)self, c->succ_act[i]);
        if (c->err.kind) return 3;
        c->transitions += (uint64_t)k;
        c->next = self + 1;
        done++;
        if (((self - c->level_begin) & 1023) == 1023) {
            if (c->n >= max_states || done >= budget) return 1;
        }
    }
    return 0;
}

"""

RUNTIME_STATES = r"""
/* The state at index idx (exact mode; compact mode keeps no states: out is left as it is);
   returns its parent (-1 for an initial state) and action. */
int64_t tc_state(void *vc, uint64_t idx, uint8_t *out, int64_t *action) {
    tc_ctx *c = vc;
    if (!c->compact) memcpy(out, c->arena + idx * (uint64_t)S, S);
    *action = (int64_t)c->act[idx];
    return c->parent[idx] == TC_ROOT ? -1 : (int64_t)c->parent[idx];
}

int64_t tc_hit(void *vc, int i) {
    tc_ctx *c = vc;
    return (int64_t)c->hit[i];
}

int64_t tc_successors(const uint8_t *s, uint8_t *out, int32_t *acts, int64_t *err) {
    tc_err e = {0, 0, 0, 0};
    int64_t n = tc_body(s, 1, NULL, 0, out, acts, &e);
    err[0] = e.kind; err[1] = e.action; err[2] = e.var; err[3] = e.value;
    return n;
}
"""


def _lit(v: int) -> str:
    """A C literal of type int64_t for ``v`` (which must fit in 64 bits)."""
    if v == I64_MIN:
        return "(-INT64_C(9223372036854775807) - 1)"
    if I64_MIN < v <= I64_MAX:
        return f"INT64_C({v})"
    if 0 <= v < 2**64:
        return f"((int64_t)UINT64_C({v}))"  # a Seq(64) bit pattern
    raise NativeError(
        f"the native engine computes with 64-bit integers and cannot hold the constant {v}; "
        "use --engine explicit"
    )


def _mask(t: SeqType) -> str:
    return f"UINT64_C({t.mask})"


def _fits(r: Interval | None) -> bool:
    return r is not None and r[0] >= -_SAFE and r[1] <= _SAFE


class _Expr:
    """C source of expressions over locals ``v<i>`` (the value of variable ``i``).

    ``checked`` records whether any checked arithmetic (which sets the local ``ovf``) was
    emitted since it was last cleared.
    """

    def __init__(self, system: System) -> None:
        self.system = system
        self.checked = False

    def c(self, e: Expr) -> str:
        return self._c(e)[0]

    def _c(self, e: Expr) -> tuple[str, Interval | None]:
        if isinstance(e, Const):
            v = int(e.value)
            return _lit(v), ((v, v) if isinstance(e.const_sort, IntSort) else None)
        if isinstance(e, Var):
            i = self.system.index[e.name]
            vt = e.vtype
            return f"v{i}", ((vt.lo, vt.hi) if isinstance(vt, IntType) else None)
        assert isinstance(e, Op)
        op = e.op
        parts = [self._c(x) for x in e.args]
        a = [p[0] for p in parts]
        r = [p[1] for p in parts]
        if op == "not":
            return f"(!{a[0]})", None
        if op == "and":
            return "(" + " && ".join(a) + ")", None
        if op == "or":
            return "(" + " || ".join(a) + ")", None
        if op == "implies":
            return f"(!{a[0]} || {a[1]})", None
        binop = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
        if op in binop:
            return f"({a[0]} {binop[op]} {a[1]})", None
        if op in ("add", "sub", "mul"):
            s = e.op_sort
            if isinstance(s, SeqType):
                sym = "+" if op == "add" else "-"
                return (
                    f"((int64_t)(((uint64_t){a[0]} {sym} (uint64_t){a[1]}) & {_mask(s)}))",
                    None,
                )
            out: Interval | None = None
            if r[0] is not None and r[1] is not None:
                (a0, a1), (b0, b1) = r[0], r[1]
                if op == "add":
                    out = (a0 + b0, a1 + b1)
                elif op == "sub":
                    out = (a0 - b1, a1 - b0)
                else:
                    ps = (a0 * b0, a0 * b1, a1 * b0, a1 * b1)
                    out = (min(ps), max(ps))
            if _fits(r[0]) and _fits(r[1]) and _fits(out):
                sym = {"add": "+", "sub": "-", "mul": "*"}[op]
                return f"({a[0]} {sym} {a[1]})", out
            self.checked = True
            return f"tc_{op}({a[0]}, {a[1]}, &ovf)", None
        if op == "neg":
            if _fits(r[0]):
                assert r[0] is not None
                return f"(-{a[0]})", (-r[0][1], -r[0][0])
            self.checked = True
            return f"tc_sub(0, {a[0]}, &ovf)", None
        if op in ("mod", "div"):
            d = e.args[1]
            assert isinstance(d, Const)
            dv = int(d.value)
            if op == "mod":
                return f"tc_mod({a[0]}, {a[1]})", (0, dv - 1)
            q = None if r[0] is None else (r[0][0] // dv, r[0][1] // dv)
            return f"tc_div({a[0]}, {a[1]})", q
        if op == "ite":
            u: Interval | None = None
            if r[1] is not None and r[2] is not None:
                u = (min(r[1][0], r[2][0]), max(r[1][1], r[2][1]))
            return f"({a[0]} ? {a[1]} : {a[2]})", u
        if op in ("seq_lt", "seq_le", "in_window"):
            s = e.args[0].sort
            assert isinstance(s, SeqType)
            m = _mask(s)
            if op == "seq_lt":
                diff = f"(((uint64_t){a[1]} - (uint64_t){a[0]}) & {m})"
                return f"tc_seq_lt({diff}, UINT64_C({s.half}))", None
            if op == "seq_le":
                return f"((((uint64_t){a[1]} - (uint64_t){a[0]}) & {m}) < UINT64_C({s.half}))", None
            diff = f"(((uint64_t){a[0]} - (uint64_t){a[1]}) & {m})"
            return f"tc_in_win({diff}, {a[2]})", None
        if op == "seq_to_int":
            s = e.args[0].sort
            assert isinstance(s, SeqType)
            if s.bits >= 64:
                raise NativeError(
                    "the native engine cannot convert a Seq(64) to an Int exactly; "
                    "use --engine explicit"
                )
            return a[0], (0, s.mask)
        if op == "int_to_seq":
            s = e.op_sort
            assert isinstance(s, SeqType)
            return f"((int64_t)((uint64_t){a[0]} & {_mask(s)}))", None
        raise ModelError(f"cannot compile operator {op!r}")


def _check_types(system: System) -> None:
    for v in system.variables:
        vt = v.vtype
        if isinstance(vt, IntType) and not (vt.lo >= I64_MIN and vt.hi <= I64_MAX):
            raise NativeError(
                f"variable {v.name} is {vt.describe()}, beyond the 64-bit integers of the "
                "native engine; use --engine explicit"
            )
        if isinstance(vt, EnumType | BoolType) and vt.size > 2**32:
            raise NativeError(f"variable {v.name}: type too large for the native engine")


class _Generator:
    def __init__(self, system: System, layout: Layout) -> None:
        self.system = system
        self.layout = layout
        self.ex = _Expr(system)

    def _decode(self, i: int) -> str:
        o, w = self.layout.offsets[i], self.layout.widths[i]
        vt = self.system.variables[i].vtype
        code = " | ".join(f"((uint64_t)s[{o + j}] << {8 * (w - 1 - j)})" for j in range(w))
        if w == 1:
            code = f"(uint64_t)s[{o}]"
        lo = vt.lo if isinstance(vt, IntType) else 0
        if lo:
            return f"(int64_t)(({code}) + (uint64_t){_lit(lo)})"
        return f"(int64_t)({code})"

    def _unpack(self, exprs: Sequence[Expr]) -> str:
        used: set[int] = set()
        for e in exprs:
            used |= {self.system.index[n] for n in e.variables()}
        return "".join(f"    const int64_t v{i} = {self._decode(i)};\n" for i in sorted(used))

    def _write(self, i: int, value: str) -> list[str]:
        o, w = self.layout.offsets[i], self.layout.widths[i]
        vt = self.system.variables[i].vtype
        lo = vt.lo if isinstance(vt, IntType) else 0
        code = f"((uint64_t){value} - (uint64_t){_lit(lo)})" if lo else f"(uint64_t){value}"
        if w == 1:
            return [f"t[{o}] = (uint8_t){code};"]
        lines = [f"{{ uint64_t k = {code};"]
        lines += [f" t[{o + j}] = (uint8_t)(k >> {8 * (w - 1 - j)});" for j in range(w)]
        lines.append(" }")
        return ["".join(lines)]

    def _arrays(self) -> list[tuple[int, int, int, frozenset[int]]]:
        """Per unordered array: byte offset, capacity, slot size, variable indices."""
        out: list[tuple[int, int, int, frozenset[int]]] = []
        for arr in self.system.arrays:
            if arr.ordered:
                continue
            idx = [self.system.index[vn] for k in range(arr.capacity) for vn in arr.slot_vars(k)]
            off = self.layout.offsets[idx[0]]
            total = sum(self.layout.widths[i] for i in idx)
            if idx != list(range(idx[0], idx[0] + len(idx))) or total % arr.capacity:
                raise NativeError(f"array {arr.name}: slots are not contiguous")
            out.append((off, arr.capacity, total // arr.capacity, frozenset(idx)))
        return out

    def body(self) -> str:
        system = self.system
        arrays = self._arrays()
        plans: list[tuple[int, Expr, list[tuple[int, Expr]]]] = []
        for ai, a in enumerate(system.actions):
            ups: list[tuple[int, Expr]] = []
            for vn, e in a.updates:
                i = system.index[vn]
                se = simplify(e)
                if isinstance(se, Var) and se.name == vn:
                    continue
                ups.append((i, se))
            ups.sort(key=lambda x: x[0])
            plans.append((ai, simplify(a.guard), ups))
        groups: list[list[tuple[int, Expr, list[tuple[int, Expr]]]]] = []
        for plan in plans:
            if groups and groups[-1][0][1] == plan[1]:
                groups[-1].append(plan)
            else:
                groups.append([plan])
        size = PART_GROUPS if PART_GROUPS > 0 else max(1, len(groups))
        parts = [groups[k : k + size] for k in range(0, len(groups), size)]
        out: list[str] = []
        for n, part in enumerate(parts):
            out.append(self._part(n, part, arrays))
        calls = "".join(
            f"    nsucc = tc_part{n}(s, mode, c, self, out, acts, err, nsucc);\n"
            "    if (nsucc < 0) return -1;\n"
            for n in range(len(parts))
        )
        out.append(
            "static int64_t tc_body(const uint8_t *s, int mode, tc_ctx *c, uint32_t self,\n"
            "                       uint8_t *out, int32_t *acts, tc_err *err) {\n"
            "    int64_t nsucc = 0;\n" + calls + "    return nsucc;\n}\n"
        )
        return "".join(out)

    def _part(
        self,
        n: int,
        groups: list[list[tuple[int, Expr, list[tuple[int, Expr]]]]],
        arrays: list[tuple[int, int, int, frozenset[int]]],
    ) -> str:
        """One function of the successor function: the actions of ``groups`` in order, each
        group's actions sharing one guard; returns the successor count so far, -1 on error."""
        system = self.system
        exprs = [grp[0][1] for grp in groups] + [
            e for grp in groups for _, _, ups in grp for _, e in ups
        ]
        lines = [
            f"static __attribute__((noinline)) int64_t tc_part{n}(const uint8_t *s, int mode, "
            "tc_ctx *c, uint32_t self,\n"
            "        uint8_t *out, int32_t *acts, tc_err *err, int64_t nsucc) {\n",
            "    (void)c; (void)self; (void)out; (void)acts; (void)mode;\n",
            "    int ovf = 0;\n",
            "    uint8_t t[S];\n",
            self._unpack(exprs),
        ]
        for group in groups:
            guard = group[0][1]
            labels = ", ".join(system.actions[ai].label for ai, _, _ in group)
            lines.append(f"    /* {_comment(labels)} */\n")
            if isinstance(guard, Const) and not guard.value:
                lines.append("    /* never enabled */\n")
                continue
            self.ex.checked = False
            g = self.ex.c(guard)
            if self.ex.checked:
                lines.append(f"    {{ int g = {g}; if (ovf) TC_OVERFLOW({group[0][0]});\n")
                lines.append("    if (g) {\n")
                close = "    }}\n"
            else:
                lines.append(f"    if ({g}) {{\n")
                close = "    }\n"
            for ai, _, ups in group:
                a = system.actions[ai]
                lines.append(f"        /* {_comment(a.label)}: {_comment(a.rule)} */\n")
                lines.append("        memcpy(t, s, S);\n")
                self.ex.checked = False
                for i, e in ups:
                    vt = system.variables[i].vtype
                    val = self.ex.c(e)
                    if isinstance(vt, IntType):
                        lines.append(
                            f"        {{ const int64_t u = {val};\n"
                            f"          if (u < {_lit(vt.lo)} || u > {_lit(vt.hi)}) "
                            f"TC_RANGE({ai}, {i}, u);\n"
                        )
                        lines += [f"          {w}\n" for w in self._write(i, "u")]
                        lines.append("        }\n")
                    else:
                        lines.append(f"        {{ const int64_t u = {val};\n")
                        lines += [f"          {w}\n" for w in self._write(i, "u")]
                        lines.append("        }\n")
                if self.ex.checked:
                    lines.append(f"        if (ovf) TC_OVERFLOW({ai});\n")
                written = {i for i, _ in ups}
                for off, cap, size, members in arrays:
                    if cap > 1 and written & members:
                        lines.append(f"        tc_sort_desc(t + {off}, {cap}, {size});\n")
                lines.append(f"        TC_EMIT({ai});\n")
            lines.append(close)
        lines.append("    return nsucc;\n}\n")
        return "".join(lines)

    def flags(self, preds: Sequence[Expr]) -> str:
        simple = [simplify(p) for p in preds]
        lines = [
            "uint64_t tc_flags(const uint8_t *s, int *ovfp) {\n",
            "    (void)s;\n",
            "    int ovf = 0;\n",
            "    uint64_t f = 0;\n",
            self._unpack(simple),
        ]
        for i, p in enumerate(simple):
            if isinstance(p, Const):
                if p.value:
                    lines.append(f"    f |= UINT64_C(1) << {i};\n")
                continue
            lines.append(f"    if ({self.ex.c(p)}) f |= UINT64_C(1) << {i};\n")
        lines.append("    *ovfp = ovf;\n    return f;\n}\n")
        return "".join(lines)


def _comment(text: str) -> str:
    return text.replace("*/", "* /").replace("\n", " ")


def _head(system: System, what: str) -> str:
    layout = layout_of(system)
    n_act = len(system.actions)
    act_t = "uint16_t" if n_act < 2**16 else "uint32_t"
    return (
        f"/* tcpmodel native explorer, {what}: {_comment(system.name)} */\n"
        "#include <stdint.h>\n#include <stdlib.h>\n#include <string.h>\n"
        f"#define S {max(layout.size, 1)}\n"
        f"#define NACT {max(n_act, 1)}\n"
        f"typedef {act_t} act_t;\n"
    )


def c_source(system: System) -> str:
    """The C translation unit of ``system``: successors and the BFS driver."""
    _check_types(system)
    gen = _Generator(system, layout_of(system))
    return (
        _head(system, "successors")
        + HELPERS
        + RUNTIME_HEAD
        + gen.body()
        + RUNTIME_TAIL
        + info_source()
        + RUNTIME_STATES
    )


def flags_source(system: System, preds: Sequence[Expr]) -> str:
    """The C translation unit of ``tc_flags``: bit ``i`` set iff ``preds[i]`` holds."""
    if len(preds) > MAX_PREDICATES:
        raise NativeError(
            f"the native engine checks at most {MAX_PREDICATES} properties in one exploration, "
            f"got {len(preds)}; select fewer with --property or use --engine explicit"
        )
    _check_types(system)
    gen = _Generator(system, layout_of(system))
    return _head(system, "predicates") + HELPERS + gen.flags(preds)


def cache_dir() -> Path:
    env = os.environ.get("TCPMODEL_CACHE")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "tcpmodel"


def library(source: str) -> Path:
    """Where the shared library of ``source`` is (or will be) in the cache."""
    key = hashlib.sha256(("\0".join(CFLAGS) + "\0" + source).encode()).hexdigest()[:32]
    return cache_dir() / f"tcpm_{key}.so"


def cached(source: str) -> bool:
    """Whether ``source`` is compiled already (its library is complete: it is renamed into
    place only once gcc has finished)."""
    return library(source).exists()


def _prepare(source: str) -> tuple[str, Path, Path]:
    """gcc's path, and the C file (written) and library of ``source``; a `NativeError` if gcc
    is missing or the cache folder cannot be created."""
    gcc = shutil.which("gcc")
    lib = library(source)
    folder = lib.parent
    if gcc is None:
        raise NativeError(
            "the native engine needs the C compiler gcc, which is not on PATH; install it "
            "(e.g. `apt-get install gcc`) or use --engine explicit"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise NativeError(
            f"the native engine cannot create its cache folder {folder}: {e.strerror}; "
            "set TCPMODEL_CACHE to a writable folder or use --engine explicit"
        ) from None
    src = lib.with_suffix(".c")
    write_atomic(src, source)
    return gcc, src, lib


def _gcc_failed(src: Path, stderr: str) -> NativeError:
    detail = (stderr.strip().splitlines() or ["no message"])[:5]
    return NativeError(
        f"gcc failed to compile the native explorer ({src}): {' | '.join(detail)}; "
        "use --engine explicit"
    )


def build(source: str) -> Path:
    """Compile ``source`` to a shared library in the cache (once per distinct source)."""
    lib = library(source)
    if lib.exists():
        return lib
    gcc, src, lib = _prepare(source)
    fd, tmp = tempfile.mkstemp(prefix=f"{lib.stem}.", suffix=".so.tmp", dir=lib.parent)
    os.close(fd)
    try:
        proc = subprocess.run(
            [gcc, *CFLAGS, "-o", tmp, str(src)], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise _gcc_failed(src, proc.stderr)
        os.replace(tmp, lib)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return lib


# One shell runs the compilations of a background build in turn: each to a temporary file
# that `mv` renames into place (an atomic rename in the same folder) only once gcc succeeded,
# so the library is complete or absent, even if this process has ended meanwhile.  The
# arguments: gcc's path, the number of flags, the flags, then (C file, temporary, library)
# triples.  gcc's messages go to an anonymous temporary file, which `Background` reads.
_BACKGROUND = """
gcc=$1; n=$2; shift 2
flags=""
i=0
while [ "$i" -lt "$n" ]; do flags="$flags $1"; shift; i=$((i + 1)); done
status=0
while [ "$#" -ge 3 ]; do
  src=$1; tmp=$2; lib=$3; shift 3
  if [ "$status" -eq 0 ] && "$gcc" $flags -o "$tmp" "$src"; then
    mv -f "$tmp" "$lib"
  else
    status=1
  fi
  rm -f "$tmp"
done
exit $status
"""


class Background:
    """The compilation of several sources by gcc in a background process (`start_build`),
    running on another core while this process works.  `done` polls it (cheaply: the
    explorers ask at every check point); `result` says whether it succeeded; `cancel` stops it
    and leaves no temporary behind; `detach` lets it finish after this process is gone.

    One compilation runs at a time: one started while a detached one still runs (the previous
    configuration's) is queued and launched by the first `done` or `start_build` that finds
    the other finished, so configurations checked one after another do not pile up compilers
    on the cores the explorer needs.  A queued compilation this process never launched leaves
    only its C files."""

    def __init__(self, sources: Sequence[str]) -> None:
        self.sources = tuple(sources)
        self._gcc = "gcc"
        self._files: list[tuple[Path, Path]] = []
        for source in self.sources:
            self._gcc, src, lib = _prepare(source)
            self._files.append((src, lib))
        self._temps: list[str] = []
        self._messages = tempfile.TemporaryFile()  # noqa: SIM115 - closed by result/cancel/detach
        self.proc: subprocess.Popen[bytes] | None = None

    def launch(self) -> None:
        """Start gcc (once)."""
        if self.proc is not None:
            return
        triples: list[str] = []
        for src, lib in self._files:
            fd, tmp = tempfile.mkstemp(prefix=f"{lib.stem}.", suffix=".so.tmp", dir=lib.parent)
            os.close(fd)
            self._temps.append(tmp)
            triples += [str(src), tmp, str(lib)]
        self.proc = subprocess.Popen(
            ["sh", "-c", _BACKGROUND, "sh", self._gcc, str(len(CFLAGS)), *CFLAGS, *triples],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            # detached before it was launched: nobody reads gcc's messages
            stderr=subprocess.DEVNULL if self._messages.closed else self._messages,
        )

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def done(self) -> bool:
        if self.proc is None:
            if _busy():
                return False
            self.launch()
        assert self.proc is not None
        return self.proc.poll() is not None

    def result(self) -> NativeError | None:
        """Once `done`: ``None`` if every library is in the cache, else gcc's failure."""
        self._messages.seek(0)
        err = self._messages.read().decode(errors="replace")
        self._messages.close()
        if self.proc is not None and self.proc.returncode == 0 and all(map(cached, self.sources)):
            return None
        return _gcc_failed(self._files[0][0], err)

    def cancel(self) -> None:
        """Stop the compilation; no library is left half-written (none is renamed into place
        unfinished) and the temporaries are removed."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._messages.close()
        for tmp in self._temps:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def detach(self) -> None:
        """Let the compilation finish on its own, filling the cache (`wait_detached` waits
        for it; a process that ends first leaves it running)."""
        self._messages.close()  # gcc's messages are not read: nobody waits for them
        _DETACHED.append(self)
        _advance()


_DETACHED: list[Background] = []


def _busy() -> bool:
    """Whether a detached compilation is still running."""
    return any(b.running() for b in _DETACHED)


def _advance() -> None:
    """Forget the detached compilations that ended; launch the first queued one if none
    runs."""
    _DETACHED[:] = [b for b in _DETACHED if b.proc is None or b.running()]
    if _DETACHED and not _busy():
        _DETACHED[0].launch()


def wait_detached() -> None:
    """Wait for the background compilations `Background.detach` let go, launching the queued
    ones in turn (tests, benchmarks)."""
    while _DETACHED:
        _advance()
        for b in _DETACHED:
            if b.proc is not None:
                b.proc.wait()
        _advance()


def start_build(sources: Sequence[str]) -> Background | None:
    """Compile the sources not yet in the cache in the background (`Background`; queued
    while a detached compilation runs), or ``None`` if all are cached."""
    _advance()
    missing = [s for s in dict.fromkeys(sources) if not cached(s)]
    if not missing:
        return None
    build = Background(missing)
    if not _busy():
        build.launch()
    return build


def _load(path: Path) -> ctypes.CDLL:
    lib = ctypes.CDLL(str(path))
    vp, u64, i64, i32 = ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int64, ctypes.c_int32
    p_i64 = ctypes.POINTER(ctypes.c_int64)
    lib.tc_new.argtypes = [u64, u64, vp, ctypes.c_int]
    lib.tc_new.restype = vp
    lib.tc_free.argtypes = [vp]
    lib.tc_free.restype = None
    lib.tc_add_initial.argtypes = [vp, ctypes.c_char_p]
    lib.tc_add_initial.restype = ctypes.c_int
    lib.tc_begin_level.argtypes = [vp]
    lib.tc_begin_level.restype = None
    lib.tc_run.argtypes = [vp, u64, u64]
    lib.tc_run.restype = ctypes.c_int
    lib.tc_info.argtypes = [vp, p_i64]
    lib.tc_info.restype = None
    lib.tc_state.argtypes = [vp, u64, ctypes.c_char_p, p_i64]
    lib.tc_state.restype = i64
    lib.tc_hit.argtypes = [vp, ctypes.c_int]
    lib.tc_hit.restype = i64
    lib.tc_successors.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(i32), p_i64]
    lib.tc_successors.restype = i64
    return lib


class Flags:
    """The compiled ``tc_flags`` of a list of predicates (its own small library)."""

    def __init__(self, native: Native, preds: Sequence[Expr]) -> None:
        self.native = native
        self.count = len(preds)
        self.source = flags_source(native.system, preds)
        self.path = build(self.source)
        self.lib = ctypes.CDLL(str(self.path))
        self.lib.tc_flags.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
        self.lib.tc_flags.restype = ctypes.c_uint64
        address = ctypes.cast(self.lib.tc_flags, ctypes.c_void_p).value
        assert address is not None
        self.address: int = address

    def __call__(self, s: bytes) -> int:
        ovf = ctypes.c_int(0)
        f = int(self.lib.tc_flags(self.native.padded(s), ctypes.byref(ovf)))
        if ovf.value:
            self.native.raise_error(ERR_OVERFLOW_PREDICATE, -1, -1, 0)
        return f


class Native(StateCodec):
    """The compiled C successor function and BFS driver of ``system``, loaded with ctypes."""

    def __init__(self, system: System, source: str | None = None) -> None:
        """``source``: ``c_source(system)`` when the caller has it already."""
        self.system = system
        self.layout = layout_of(system)
        self.size = max(self.layout.size, 1)
        self.source = c_source(system) if source is None else source
        self.path = build(self.source)
        self.lib = _load(self.path)

    def flags(self, preds: Sequence[Expr]) -> Flags:
        """A function giving the bitmask of which of ``preds`` hold in a state."""
        return Flags(self, preds)

    # -- per-state calls (tests, tools) ------------------------------------------------------

    def successors(self, s: bytes) -> list[tuple[int, bytes]]:
        """Every transition from the canonical state ``s``, labelled, in action order (with
        buffers of its own: safe from any thread; `successor_function` for many calls)."""
        return self.successor_function()(s)

    def successor_function(self) -> Callable[[bytes], list[tuple[int, bytes]]]:
        """`successors` with its buffers allocated once (many calls from one thread: the
        buffers are the function's own, so it must not run in two threads at once)."""
        n_act = max(len(self.system.actions), 1)
        out = ctypes.create_string_buffer(n_act * self.size)
        acts = (ctypes.c_int32 * n_act)()
        err = (ctypes.c_int64 * 4)()
        size, width = self.size, self.layout.size
        call, padded = self.lib.tc_successors, self.padded

        def successors(s: bytes) -> list[tuple[int, bytes]]:
            n = call(padded(s), out, acts, err)
            if n < 0:
                self.raise_error(int(err[0]), int(err[1]), int(err[2]), int(err[3]))
            raw = ctypes.string_at(out, n * size)
            return [(a, raw[k * size : k * size + width]) for k, a in enumerate(acts[:n])]

        return successors

    def padded(self, s: bytes) -> bytes:
        """``s`` as the C code reads a state: at least one byte (zeros appended)."""
        return s if len(s) == self.size else s.ljust(self.size, b"\0")

    def raise_error(self, kind: int, action: int, var: int, value: int) -> None:
        if kind == ERR_RANGE:
            a = self.system.actions[action]
            v = self.system.variables[var]
            raise ModelError(
                f"action {a.label} sets {v.name} to {value}, outside {v.vtype.describe()}; "
                "widen the variable's range or strengthen the action's guard"
            )
        if kind == ERR_OVERFLOW_ACTION:
            a = self.system.actions[action]
            raise NativeError(
                f"action {a.label}: an integer result exceeds the 64 bits of the native engine; "
                "use --engine explicit"
            )
        raise NativeError(
            "a property's integer arithmetic exceeds the 64 bits of the native engine; "
            "use --engine explicit"
        )
