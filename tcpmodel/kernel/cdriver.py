"""The fixed C of the native explorer: its breadth-first driver and arithmetic helpers.

`tcpmodel.kernel.cgen` puts these texts around the successor function it generates for a
system (``HELPERS``, the generated ``tc_pack``/``tc_unpack``, ``RUNTIME_HEAD``, the generated
``tc_body``, ``RUNTIME_TAIL``, `info_source`, ``RUNTIME_STATES``).  The driver keeps an arena
of packed states (``P`` bytes each, `tcpmodel.kernel.cgen.pack_source`) in discovery order (a
BFS level is a range of indices), an open-addressing hash set of indices into it (or, in hash
compaction, of 64-bit fingerprints in 256 segments), and per state its parent and the action
that found it.  A state is unpacked (``S`` bytes, `tcpmodel.kernel.compile.Layout`) to compute
its successors, and each successor packed before it is hashed and looked up; states are
expanded ``TC_BATCH`` at a time, so that the cache misses of many lookups overlap.  Python reads
its status through `SearchInfo` (``tc_info``) and its return codes ``TC_*``
(`tcpmodel.engines.native`).
"""

from __future__ import annotations

from typing import NamedTuple

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
    err_kind: int  # ERR_RANGE, ERR_OVERFLOW_ACTION, ERR_OVERFLOW_PREDICATE, ERR_PACK; 0 if none
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
ERR_PACK = 4  # a code that does not fit its packed bits (an internal error)

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

# The error kinds as C names, from the constants above: the driver and Python read one table.
_ERRORS_C = "".join(
    f"#define {name} {value}\n"
    for name, value in (
        ("ERR_RANGE", ERR_RANGE),
        ("ERR_OVERFLOW_ACTION", ERR_OVERFLOW_ACTION),
        ("ERR_OVERFLOW_PREDICATE", ERR_OVERFLOW_PREDICATE),
        ("ERR_PACK", ERR_PACK),
    )
)

RUNTIME_HEAD = (
    _ERRORS_C
    + r"""
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
    uint8_t *arena;      /* packed states in discovery (BFS) order, P bytes each (exact mode) */
    int compact;         /* hash compaction: the table holds 64-bit fingerprints, no states */
    uint8_t *cur, *nxt;  /* compact: the level being expanded, the next level (P bytes each) */
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
    uint8_t *succ;       /* the successors of the states being expanded (S bytes each) */
    uint8_t *psucc;      /* the same, packed (P bytes each) */
    int32_t *succ_act;   /* the action that gave each, */
    uint32_t *succ_parent; /* the state it came from, */
    uint64_t *succ_hash; /* and its hash or fingerprint */
    tc_flags_fn flags;   /* compiled separately, per list of predicates */
    tc_err err;
} tc_ctx;

/* Ask for transparent huge pages for a large table (Linux, where THP is "madvise"): its
   random accesses then miss the TLB far less often, and it is faulted in 2 MiB at a time. */
static void tc_huge(void *p, uint64_t bytes) {
#ifdef MADV_HUGEPAGE
    uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
    uintptr_t e = ((uintptr_t)p + bytes) & ~(uintptr_t)4095;
    if (p && e > a + (UINT64_C(1) << 21)) madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)p; (void)bytes;
#endif
}

#define TC_ROOT 0xFFFFFFFFu
#define TC_BATCH 16  /* states expanded together by tc_run */
#define TC_MAX_STATES 0xFFFFFFFEull

/* memcmp's order of n bytes, inline: slots are a few bytes, shorter than a call. */
static inline int tc_cmp(const uint8_t *a, const uint8_t *b, int n) {
    for (int i = 0; i < n; i++)
        if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    return 0;
}

static inline void tc_sort_desc(uint8_t *a, int n, int sz) {
    uint8_t tmp[S];
    for (int i = 1; i < n; i++) {
        if (tc_cmp(a + (i - 1) * sz, a + i * sz, sz) >= 0) continue;
        memcpy(tmp, a + i * sz, sz);
        int j = i;
        while (j > 0 && tc_cmp(a + (j - 1) * sz, tmp, sz) < 0) {
            memcpy(a + j * sz, a + (j - 1) * sz, sz);
            j--;
        }
        memcpy(a + j * sz, tmp, sz);
    }
}

static inline uint64_t tc_hash(const uint8_t *p) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)P;
    size_t i = 0;
    for (; i + 8 <= (size_t)P; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        h = (h ^ x) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
    }
    if (i < (size_t)P) {
        uint64_t x = 0;
        memcpy(&x, p + i, (size_t)P - i);
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
    uint64_t h = 0x27D4EB2F165667C5ull + (uint64_t)P;
    size_t i = 0;
    for (; i + 8 <= (size_t)P; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        h ^= tc_rotl(x * P2, 31) * P1;
        h = tc_rotl(h, 27) * P1 + P4;
    }
    if (i < (size_t)P) {
        uint64_t x = 0;
        memcpy(&x, p + i, (size_t)P - i);
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
                    + (c->cur_cap + c->nxt_cap) * (uint64_t)P;
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

/* Whether packed states a and b are equal (inline, unlike a call of memcmp). */
static inline int tc_same(const uint8_t *a, const uint8_t *b) {
    size_t i = 0;
    for (; i + 8 <= (size_t)P; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y) return 0;
    }
    for (; i < (size_t)P; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

/* Insert the packed state pk (hash or fingerprint h) unless present; t is its unpacked
   bytes, for the predicates. */
static inline void tc_insert(tc_ctx *c, const uint8_t *pk, const uint8_t *t, uint64_t h,
                             uint32_t parent, int64_t a) {
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
        memcpy(c->nxt + (idx - c->level_end) * (uint64_t)P, pk, P);
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
                && tc_same(c->arena + ((e & 0xFFFFFFFFull) - 1) * (uint64_t)P, pk))
                return;
            pos = (pos + 1) & mask;
        }
        idx = c->n++;
        memcpy(c->arena + idx * (uint64_t)P, pk, P);
        c->table[pos] = tag | (idx + 1);
    }
    c->parent[idx] = parent;
    c->act[idx] = (act_t)a;
    if (c->undecided) {
        int ovf = 0;
        uint64_t f = c->flags(t, &ovf) & c->undecided;
        if (ovf && c->err.kind == 0) {
            c->err.kind = ERR_OVERFLOW_PREDICATE;
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
        memcpy(out + (uint64_t)nsucc * S, t, S);                     \
        acts[nsucc] = (A);                                           \
        nsucc++;                                                     \
    } while (0)

#define TC_RANGE(A, V, X)                                            \
    do {                                                             \
        err->kind = ERR_RANGE; err->action = (A); err->var = (V);    \
        err->value = (X);                                            \
        return -1;                                                   \
    } while (0)

#define TC_OVERFLOW(A)                                               \
    do {                                                             \
        err->kind = ERR_OVERFLOW_ACTION; err->action = (A);          \
        err->var = -1;                                               \
        err->value = 0;                                              \
        return -1;                                                   \
    } while (0)
"""
)

RUNTIME_TAIL = r"""
static const uint64_t tc_per_state = (uint64_t)P + sizeof(uint32_t) + sizeof(act_t);
static const uint64_t tc_per_state_compact = sizeof(uint32_t) + sizeof(act_t);

/* Bytes held: per state (its bytes in exact mode; parent and action), the table, and in
   compact mode the two frontier buffers, with ``cap``, ``tsize`` and ``nxt_cap`` as given. */
static uint64_t tc_bytes(const tc_ctx *c, uint64_t cap, uint64_t tsize, uint64_t nxt_cap) {
    if (!c->compact) return cap * tc_per_state + tsize * 8;
    return cap * tc_per_state_compact + tsize * 8 + (c->cur_cap + nxt_cap) * (uint64_t)P;
}

/* Room for ``extra`` more states: 0, or 4 past TC_MAX_STATES, or 2 (memory). */
static int tc_reserve(tc_ctx *c, uint64_t extra) {
    uint64_t need = c->n + extra;
    if (need > TC_MAX_STATES) return 4;
    if (c->mem_fail) return 2;
    if (c->compact && c->n - c->level_end + extra > c->nxt_cap) {
        uint64_t nn = c->nxt_cap;
        while (nn < c->n - c->level_end + extra) nn *= 2;
        uint64_t want = tc_bytes(c, c->cap, c->tsize, nn);
        if (want > c->mem_cap) { c->mem_want = want; return 2; }
        uint8_t *b = realloc(c->nxt, nn * (uint64_t)P);
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
            uint8_t *a = realloc(c->arena, ncap * (uint64_t)P);
            if (!a) { c->mem_want = want; return 2; }
            c->arena = a;
            tc_huge(a, ncap * (uint64_t)P);
        }
        uint32_t *p = realloc(c->parent, ncap * sizeof(uint32_t));
        if (!p) { c->mem_want = want; return 2; }
        c->parent = p;
        tc_huge(p, ncap * sizeof(uint32_t));
        act_t *q = realloc(c->act, ncap * sizeof(act_t));
        if (!q) { c->mem_want = want; return 2; }
        c->act = q;
        tc_huge(q, ncap * sizeof(act_t));
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
        tc_huge(nt, nts * 8);
        uint64_t mask = nts - 1;
        for (uint64_t i = 0; i < c->n; i++) {
            uint64_t h = tc_hash(c->arena + i * (uint64_t)P);
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

void tc_free(void *vc) {
    tc_ctx *c = vc;
    if (!c) return;
    for (int k = 0; k < TC_NSUB; k++) free(c->seg[k].t);
    free(c->arena); free(c->cur); free(c->nxt); free(c->parent); free(c->act);
    free(c->table); free(c->succ); free(c->psucc); free(c->succ_act); free(c->succ_parent);
    free(c->succ_hash); free(c);
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
        c->cur = malloc(c->cur_cap * (uint64_t)P);
        c->nxt = malloc(c->nxt_cap * (uint64_t)P);
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
        c->arena = malloc(c->cap * (uint64_t)P);
        c->table = calloc(c->tsize, 8);
        ok = c->arena && c->table;
    }
    c->parent = malloc(c->cap * sizeof(uint32_t));
    c->act = malloc(c->cap * sizeof(act_t));
    uint64_t most = (uint64_t)TC_BATCH * NACT;  /* successors of a batch */
    c->succ = malloc(most * S);
    c->psucc = malloc(most * P);
    c->succ_act = malloc(most * sizeof(int32_t));
    c->succ_parent = malloc(most * sizeof(uint32_t));
    c->succ_hash = malloc(most * sizeof(uint64_t));
    if (!ok || !c->parent || !c->act || !c->succ || !c->psucc || !c->succ_act
        || !c->succ_parent || !c->succ_hash) {
        tc_free(c);
        return NULL;
    }
    c->undecided = flags ? undecided : 0;
    c->mem_cap = mem_cap;
    c->flags = flags;
    return c;
}

/* The packed bytes of state idx: in compact mode only those of the level being expanded
   are kept. */
static inline uint8_t *tc_at(tc_ctx *c, uint64_t idx) {
    if (c->compact) return c->cur + (idx - c->level_begin) * (uint64_t)P;
    return c->arena + idx * (uint64_t)P;
}

/* A code that does not fit its bits (`tc_pack`): an internal error, never a state. */
static inline void tc_pack_error(tc_ctx *c, int64_t a) {
    if (c->err.kind) return;
    c->err.kind = ERR_PACK; c->err.action = a; c->err.var = -1; c->err.value = 0;
}

int tc_add_initial(void *vc, const uint8_t *s) {
    tc_ctx *c = vc;
    int r = tc_reserve(c, 1);
    if (r) return r;
    uint8_t pk[P];
    if (tc_pack(s, pk)) { tc_pack_error(c, -1); return 3; }
    tc_insert(c, pk, s, c->compact ? tc_fp(pk) : tc_hash(pk), TC_ROOT, 0);
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

/* Expand the states of the level from c->next on, TC_BATCH at a time: all their successors
   first (packed, hashed, their hash slots prefetched, then the states of the slots whose tags
   match), then inserted in order, so that the cache misses of many probes overlap and the
   discovery order is that of one state at a time.  Returns at the end of the level
   (TC_LEVEL), or at a check point (every 1024 states of the level) once ``budget`` states are
   expanded or ``max_states`` stored (TC_CHECK), or on an error. */
int tc_run(void *vc, uint64_t budget, uint64_t max_states) {
    tc_ctx *c = vc;
    uint64_t done = 0;
    while (c->next < c->level_end) {
        uint64_t first = c->next;
        uint64_t nb = c->level_end - first;
        uint64_t to_check = 1024 - ((first - c->level_begin) & 1023);
        if (nb > TC_BATCH) nb = TC_BATCH;
        if (nb > to_check) nb = to_check;
        int r = tc_reserve(c, nb * (uint64_t)NACT);
        if (r) return r;
        int64_t k = 0;
        for (uint64_t j = 0; j < nb; j++) {
            uint8_t u[S];
            tc_unpack(tc_at(c, first + j), u);
            int64_t m = tc_body(u, c->succ + (uint64_t)k * S, c->succ_act + k, &c->err);
            if (m < 0) return 3;
            for (int64_t i = k; i < k + m; i++) c->succ_parent[i] = (uint32_t)(first + j);
            k += m;
        }
        uint64_t *hs = c->succ_hash;
        for (int64_t i = 0; i < k; i++) {
            uint8_t *t = c->psucc + (uint64_t)i * P;
            if (tc_pack(c->succ + (uint64_t)i * S, t)) {
                tc_pack_error(c, c->succ_act[i]);
                return 3;
            }
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
                __builtin_prefetch(c->arena + ((e & 0xFFFFFFFFull) - 1) * (uint64_t)P);
        }
        for (int64_t i = 0; i < k; i++)
            tc_insert(c, c->psucc + (uint64_t)i * P, c->succ + (uint64_t)i * S, hs[i],
                      c->succ_parent[i], c->succ_act[i]);
        if (c->err.kind) return 3;
        c->transitions += (uint64_t)k;
        c->next = first + nb;
        done += nb;
        if (((c->next - c->level_begin) & 1023) == 0) {
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
    if (!c->compact) tc_unpack(c->arena + idx * (uint64_t)P, out);
    *action = (int64_t)c->act[idx];
    return c->parent[idx] == TC_ROOT ? -1 : (int64_t)c->parent[idx];
}

int64_t tc_hit(void *vc, int i) {
    tc_ctx *c = vc;
    return (int64_t)c->hit[i];
}

/* A state's packed form (nonzero: a code does not fit its bits), and back. */
int tc_pack_state(const uint8_t *s, uint8_t *p) { return tc_pack(s, p); }
void tc_unpack_state(const uint8_t *p, uint8_t *s) { tc_unpack(p, s); }

int64_t tc_successors(const uint8_t *s, uint8_t *out, int32_t *acts, int64_t *err) {
    tc_err e = {0, 0, 0, 0};
    int64_t n = tc_body(s, out, acts, &e);
    err[0] = e.kind; err[1] = e.action; err[2] = e.var; err[3] = e.value;
    return n;
}
"""
