"""The timing run compiled: the processes of :mod:`~chipsim.timing.units` and
:mod:`~chipsim.timing.host`, the buffers of :mod:`~chipsim.timing.ports` and the link calendars
of :mod:`~chipsim.timing.links` as one Numba function over integer tables.

It is the same discrete-event simulation as the SimPy engine, event for event: a calendar of
``(time, priority, sequence)`` entries served in that order (SimPy's), a process resumed by
the same entries (its start, a wait until a time, a buffer's signal), every buffer's credits,
window and waiters kept as :class:`~chipsim.timing.ports.Port` keeps them, so that where two
units compete for a link or a buffer slot they are served in the same order and every time
stamp comes out the same, integer picosecond for integer picosecond
(``tests/timing/test_compiled.py`` runs the golden harness through both).

It covers every plan: both transports (in off-chip transport the host's feeders wait for
the host's events — a layer's sources' outputs of an inference, the previous inference —
which are then signals, or no-op entries where no feeder waits, made where SimPy makes
them), GDPU slices (each serves its queue of gate vectors), attention units (each stage its
tokens) and GDC (its daemons' entries too, and the no-op entries SimPy makes for process
ends, since a daemon stops when SimPy's calendar is empty). The processes are numbered as
SimPy makes them: cores, GDPU slices, attention stages, host feeders.
:func:`~chipsim.timing.engine.run_plan` runs on the SimPy engine a run that deadlocks (for
that engine's message, which names who waits for what) or that still overflows a table.

Every table is made by the caller and the kernel allocates nothing, so it is compiled without
Numba's reference counting (``_nrt=False``): the atomic counts of the many arrays handed to each
helper took half the run's time, and for the same reason the vectors in flight are found
through hash tables in arrays rather than typed dictionaries.
"""

from __future__ import annotations

from array import array

import numpy as np
from numba import njit

from .calendar import Calendars, transfer_tree
from .config import TransportMode
from .links import HOST, attention_node, gdpu_node
from .plan import LSTM_GROUP
from .state import SimState
from .stream import gdpu_times

__all__ = ["run_compiled"]

# ---------------------------------------------------------------------------- table columns
# cores (one row per process of a core, in plan.cores order): its schedule, input port,
# needs and residual ranges, partial-sum port, LDPU span, its one send template (a chain's
# inner core) or the first of its templates by (vector, phase)
(C_CORE, C_VECS, C_I0, C_I1, C_ISTEP, C_K0, C_K1, C_MVMONLY, C_INP, C_N0, C_N1, C_PSUM,
 C_N, C_SPAN, C_R0, C_R1, C_FIXED, C_T0, C_ROWS, C_COLS, C_CHAIN) = range(21)
# needs (on-chip input edges of a core): port, recurrent, line length, line offset, windows
(N_PORT, N_REC, N_DL, N_OFF, N_WIN) = range(5)
# residual inputs of a chain's last core: port, delivered per inference, windows
(R_PORT, R_DL, R_WIN) = range(3)
# templates: range of sends
(TP_S0, TP_S1) = range(2)
# sends: kind, keyed by g, values, key stride, key offset, recurrent, tree, ports, host layer,
# host position
(S_KIND, S_BYG, S_NV, S_MULT, S_J, S_REC, S_TREE, S_P0, S_P1, S_LAYER, S_TO) = range(11)
K_DATA, K_HOST, K_GDPU = 0, 1, 2  # K_GDPU: S_LAYER is the slice's row
# feeders: layer, vectors, schedule, starts an inference, feeds, waits for the previous
# inference (off-chip), host outputs it waits for, residuals it sends
(F_LAYER, F_VECS, F_I0, F_I1, F_ISTEP, F_K0, F_K1, F_START, F_E0, F_E1, F_SEQ, F_W0, F_W1,
 F_R0, F_R1) = range(15)
# a feeder's waits (host outputs of a source layer): layer, recurrent
(W_LAYER, W_REC) = range(2)
# a feeder's residual sends (per edge, then chain end): port, delivered per inference,
# windows, values, tree, the end's position in it
(X_PORT, X_DL, X_WIN, X_N, X_TREE, X_AT) = range(6)
# feeds: tree, values, ports
(E_TREE, E_N, E_P0, E_P1) = range(4)
# attention stages: unit, tokens, attention, causal, fed by the host, input port, destinations
# (a row per replica of the layer), owners (per vector), durations (per token)
(A_UNIT, A_VECS, A_ATTN, A_CAUSAL, A_HOSTFED, A_PORT, A_D0, A_OWN0, A_DUR0) = range(9)
# a stage's destinations for one replica of its layer: groups, the line's offset and length
(AD_G0, AD_G1, AD_OFF, AD_LEN) = range(4)
# a destination group: ports (rows of the stage's port list), values, tree
(AG_Q0, AG_Q1, AG_N, AG_TREE) = range(4)
# GDPU slices: gate vectors, their queue's first row, input port; the chains they serve: the
# first of their send templates, their first vector index, vectors per inference
(G_COUNT, G_FIFO0, G_PORT) = range(3)
(GC_T0, GC_K0, GC_VECS) = range(3)
# a queued gate vector: chain, vector, first and last arrival, values
(GF_CHAIN, GF_G, GF_FIRST, GF_LAST, GF_N) = range(5)
# trees: links
(T_L0, T_L1) = range(2)
# ports: windowed, capacity (-1: none), pieces, ring offset (windowed), pending offset (credits)
(P_WINDOW, P_CAP, P_PIECES, P_RING, P_PEND) = range(5)
# layers (host receipts): vectors, pieces per vector, a sink sent to the host
(L_VECS, L_PIECES, L_SINK) = range(3)

# calendar entry kinds and priorities (SimPy's URGENT, NORMAL)
_RESUME, _SIGNAL, _WAKE, _END, _NOOP, _STOP = 0, 1, 2, 3, 4, 5
_URGENT, _NORMAL = 0, 1
# run status
# (_GDC_FULL: the GDC log overflowed; _CAL_FULL: a link's calendar row)
_DONE, _DEADLOCK, _OVERFLOW, _GDC_FULL, _CAL_FULL = 0, 1, 2, 3, 4
_NONE = -1
# the run's header: calendar entries, entries made, status, time now, free signals, free rows,
# GDC calibrations recorded
_H_N, _H_EID, _H_STATUS, _H_NOW, _H_SIGTOP, _H_SLOTTOP, _H_GDCN = range(7)


# ------------------------------------------------------------------------------ the calendar
# an entry is a row (time, order, kind, x) of the heap ``hq``, ``order`` = priority · _PRIO +
# the entry's number (below 2^56: 7·10^16 entries, far beyond any run); the root is row 1, so
# that the children of row r (2r, 2r + 1) share a cache line (``hq`` starts on one:
# :func:`_aligned`), and a sift step reads one line
_PRIO = 1 << 56


@njit(cache=True, nogil=True, _nrt=False)
def _push(h, hq, t, prio, kind, x):
    """Schedule entry ``kind, x`` at ``(t, prio)``, after every entry made before it."""
    n = h[_H_N]
    if n + 1 == hq.shape[0]:
        h[_H_STATUS] = _OVERFLOW
        return
    eid = h[_H_EID]
    h[_H_EID] = eid + 1
    order = prio * _PRIO + eid
    i = n + 1
    while i > 1:
        par = i >> 1
        if hq[par, 0] < t or (hq[par, 0] == t and hq[par, 1] < order):
            break
        hq[i, 0], hq[i, 1], hq[i, 2], hq[i, 3] = hq[par, 0], hq[par, 1], hq[par, 2], hq[par, 3]
        i = par
    hq[i, 0], hq[i, 1], hq[i, 2], hq[i, 3] = t, order, kind, x
    h[_H_N] = n + 1


@njit(cache=True, nogil=True, _nrt=False)
def _pop(h, hq):
    """The first entry: ``(t, kind, x)``."""
    t, kind, x = hq[1, 0], hq[1, 2], hq[1, 3]
    n = h[_H_N] - 1
    h[_H_N] = n
    lt, lo, lk, lx = hq[n + 1, 0], hq[n + 1, 1], hq[n + 1, 2], hq[n + 1, 3]
    i = 1
    while True:
        c = 2 * i
        if c > n:
            break
        if c < n and (hq[c + 1, 0] < hq[c, 0] or (hq[c + 1, 0] == hq[c, 0]
                                                  and hq[c + 1, 1] < hq[c, 1])):
            c += 1
        if lt < hq[c, 0] or (lt == hq[c, 0] and lo < hq[c, 1]):
            break
        hq[i, 0], hq[i, 1], hq[i, 2], hq[i, 3] = hq[c, 0], hq[c, 1], hq[c, 2], hq[c, 3]
        i = c
    hq[i, 0], hq[i, 1], hq[i, 2], hq[i, 3] = lt, lo, lk, lx
    return t, kind, x


# ------------------------------------------------------------------------- signals, buffers
# dynamic state of a port
(D_BASE, D_USED, D_PEAK, D_VALUES, D_WAKE, D_NHELD, D_CWH, D_CWT, D_KWH, D_PENDN, D_ADVH,
 D_ADVN, D_SEQ, D_READY) = range(14)  # D_READY: vectors someone waits to be complete
# a process's links: next waiter of the signal it waits for, next in a port's credit or key
# waiters, its key and order there (windowed ports), the signal it waits for
(Q_NEXT, Q_WNEXT, Q_KEY, Q_SEQ, Q_SIG) = range(5)
_ADV = 64  # pending window moves a port holds


@njit(cache=True, nogil=True, _nrt=False)
def _signal(h, sig_free, sig):
    """A new signal (no waiter yet)."""
    top = h[_H_SIGTOP]
    if top == 0:
        h[_H_STATUS] = _OVERFLOW
        return 0
    top -= 1
    h[_H_SIGTOP] = top
    s = sig_free[top]
    sig[s, 0] = _NONE
    sig[s, 1] = _NONE
    return s


@njit(cache=True, nogil=True, _nrt=False)
def _succeed(H, s):
    """Fire signal ``s`` now: its waiters resume in this time step, after what is scheduled."""
    h = H[0]
    _push(h, H[1], h[_H_NOW], _NORMAL, _SIGNAL, s)


@njit(cache=True, nogil=True, _nrt=False)
def _wait(sig, proc, s, p):
    """Process ``p`` waits for signal ``s`` (after those already waiting)."""
    proc[p, Q_NEXT] = _NONE
    if sig[s, 0] == _NONE:
        sig[s, 0] = p
    else:
        proc[sig[s, 1], Q_NEXT] = p
    sig[s, 1] = p


@njit(cache=True, nogil=True, _nrt=False)
def _pend_push(pend, off, n, t):
    i = n
    while i > 0:
        par = (i - 1) >> 1
        if pend[off + par] <= t:
            break
        pend[off + i] = pend[off + par]
        i = par
    pend[off + i] = t


@njit(cache=True, nogil=True, _nrt=False)
def _pend_pop(pend, off, n):
    """Remove the smallest of the heap ``pend[off:off + n]`` (n >= 1)."""
    n -= 1
    last = pend[off + n]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and pend[off + c + 1] < pend[off + c]:
            c += 1
        if last <= pend[off + c]:
            break
        pend[off + i] = pend[off + c]
        i = c
    pend[off + i] = last


@njit(cache=True, nogil=True, _nrt=False)
def _return_one(H, pd, proc, port):
    """A credit back: to the first waiter, or free."""
    w = pd[port, D_CWH]
    if w != _NONE:
        pd[port, D_CWH] = proc[w, Q_WNEXT]
        if proc[w, Q_WNEXT] == _NONE:
            pd[port, D_CWT] = _NONE
        _succeed(H, proc[w, Q_SIG])
    else:
        pd[port, D_USED] -= 1


@njit(cache=True, nogil=True, _nrt=False)
def _schedule_wake(H, pt, pd, pend, adv_t, port):
    """:meth:`Port._schedule_wake`: a wake at the port's next due credit or window move."""
    h = H[0]
    po = pt[port, P_PEND]
    if pd[port, D_PENDN] > 0:
        t = pend[po]
        if pd[port, D_ADVN] > 0:
            a = adv_t[port * _ADV + pd[port, D_ADVH]]
            if a < t:
                t = a
    elif pd[port, D_ADVN] > 0:
        t = adv_t[port * _ADV + pd[port, D_ADVH]]
    else:
        return
    if pd[port, D_WAKE] != _NONE and pd[port, D_WAKE] <= t:
        return
    if t < h[_H_NOW]:  # SimPy would refuse a negative delay
        h[_H_STATUS] = _OVERFLOW
        return
    pd[port, D_WAKE] = t
    _push(h, H[1], t, _NORMAL, _WAKE, port)


@njit(cache=True, nogil=True, _nrt=False)
def _hold(pt, pd, ring, port, key):
    """Windowed port: vector ``key`` has a slot (counted once however many pieces)."""
    base = pd[port, D_BASE]
    if key >= base:
        r = pt[port, P_RING] + key % pt[port, P_CAP]
        if ring[r, 5] != key:
            ring[r, 5] = key
            pd[port, D_NHELD] += 1
            if pd[port, D_NHELD] > pd[port, D_PEAK]:
                pd[port, D_PEAK] = pd[port, D_NHELD]


@njit(cache=True, nogil=True, _nrt=False)
def _advance(H, pt, pd, proc, ring, port, base):
    """:meth:`Port._advance`: forget the vectors below ``base``; grant the key waiters that
    now fit, in key order (then the order they came)."""
    old = pd[port, D_BASE]
    if base <= old:
        return
    pd[port, D_BASE] = base
    cap = pt[port, P_CAP]
    ro = pt[port, P_RING]
    stop = base if base - old < cap else old + cap
    for key in range(old, stop):
        r = ro + key % cap
        if ring[r, 0] == key:  # an item
            ring[r, 0] = _NONE - 1
        if ring[r, 5] == key:  # held
            ring[r, 5] = _NONE - 1
            pd[port, D_NHELD] -= 1
    limit = base + cap
    while pd[port, D_KWH] != _NONE:
        # the waiter of the smallest (key, order)
        best = _NONE
        prev_best = _NONE
        prev = _NONE
        w = pd[port, D_KWH]
        while w != _NONE:
            if best == _NONE or proc[w, Q_KEY] < proc[best, Q_KEY] or (
                    proc[w, Q_KEY] == proc[best, Q_KEY] and proc[w, Q_SEQ] < proc[best, Q_SEQ]):
                best = w
                prev_best = prev
            prev = w
            w = proc[w, Q_WNEXT]
        if proc[best, Q_KEY] >= limit:
            break
        if prev_best == _NONE:
            pd[port, D_KWH] = proc[best, Q_WNEXT]
        else:
            proc[prev_best, Q_WNEXT] = proc[best, Q_WNEXT]
        _hold(pt, pd, ring, port, proc[best, Q_KEY])
        _succeed(H, proc[best, Q_SIG])


@njit(cache=True, nogil=True, _nrt=False)
def _mature(H, pt, pd, proc, pend, adv_t, adv_b, ring, port):
    """:meth:`Port._mature`: the credit returns and window moves that are due."""
    now = H[0][_H_NOW]
    po = pt[port, P_PEND]
    while pd[port, D_PENDN] > 0 and pend[po] <= now:
        _pend_pop(pend, po, pd[port, D_PENDN])
        pd[port, D_PENDN] -= 1
        _return_one(H, pd, proc, port)
    _due_moves(H, pt, pd, proc, adv_t, adv_b, ring, port)


@njit(cache=True, nogil=True, _nrt=False)
def _due_moves(H, pt, pd, proc, adv_t, adv_b, ring, port):
    """The window moves of ``port`` that are due: only the last counts."""
    now = H[0][_H_NOW]
    if pd[port, D_ADVN] > 0 and adv_t[port * _ADV + pd[port, D_ADVH]] <= now:
        base = 0
        while pd[port, D_ADVN] > 0 and adv_t[port * _ADV + pd[port, D_ADVH]] <= now:
            base = adv_b[port * _ADV + pd[port, D_ADVH]]
            pd[port, D_ADVH] = (pd[port, D_ADVH] + 1) % _ADV
            pd[port, D_ADVN] -= 1
        _advance(H, pt, pd, proc, ring, port, base)


@njit(cache=True, nogil=True, _nrt=False)
def _on_wake(H, pt, pd, proc, pend, adv_t, adv_b, ring, port):
    pd[port, D_WAKE] = _NONE
    _mature(H, pt, pd, proc, pend, adv_t, adv_b, ring, port)
    if pd[port, D_CWH] != _NONE or pd[port, D_KWH] != _NONE:
        _schedule_wake(H, pt, pd, pend, adv_t, port)


@njit(cache=True, nogil=True, _nrt=False)
def _acquire(H, pt, pd, proc, sig, sig_free, pend, adv_t, adv_b, ring, port, key, p):
    """:meth:`Port.acquire` by process ``p``: -1 when granted now, else the signal it waits
    for (registered)."""
    h = H[0]
    now = h[_H_NOW]
    cap = pt[port, P_CAP]
    if pt[port, P_WINDOW]:
        _due_moves(H, pt, pd, proc, adv_t, adv_b, ring, port)  # _mature, without credits
        if key < pd[port, D_BASE] + cap:
            _hold(pt, pd, ring, port, key)
            return _NONE
        s = _signal(h, sig_free, sig)
        proc[p, Q_KEY] = key
        proc[p, Q_SEQ] = pd[port, D_SEQ]
        pd[port, D_SEQ] += 1
        proc[p, Q_SIG] = s
        proc[p, Q_WNEXT] = pd[port, D_KWH]
        pd[port, D_KWH] = p
        _schedule_wake(H, pt, pd, pend, adv_t, port)
        return s
    if cap == _NONE:
        pd[port, D_USED] += 1
        if pd[port, D_USED] > pd[port, D_PEAK]:
            pd[port, D_PEAK] = pd[port, D_USED]
        return _NONE
    if pd[port, D_PENDN] > 0 and pend[pt[port, P_PEND]] <= now:
        _mature(H, pt, pd, proc, pend, adv_t, adv_b, ring, port)
    if pd[port, D_USED] < cap and pd[port, D_CWH] == _NONE:
        pd[port, D_USED] += 1
        if pd[port, D_USED] > pd[port, D_PEAK]:
            pd[port, D_PEAK] = pd[port, D_USED]
        return _NONE
    s = _signal(h, sig_free, sig)
    proc[p, Q_SIG] = s
    proc[p, Q_WNEXT] = _NONE
    if pd[port, D_CWT] == _NONE:
        pd[port, D_CWH] = p
    else:
        proc[pd[port, D_CWT], Q_WNEXT] = p
    pd[port, D_CWT] = p
    _schedule_wake(H, pt, pd, pend, adv_t, port)
    return s


@njit(cache=True, nogil=True, _nrt=False)
def _release(H, pt, pd, proc, pend, adv_t, port, count, at):
    """:meth:`Port.release` of ``count`` credits at ``at``."""
    if pt[port, P_CAP] == _NONE:
        pd[port, D_USED] -= count
        return
    if at <= H[0][_H_NOW]:
        for _ in range(count):
            _return_one(H, pd, proc, port)
        return
    po = pt[port, P_PEND]
    for _ in range(count):
        if pd[port, D_PENDN] == pt[port, P_CAP]:
            H[0][_H_STATUS] = _OVERFLOW
            return
        _pend_push(pend, po, pd[port, D_PENDN], at)
        pd[port, D_PENDN] += 1
    if pd[port, D_CWH] != _NONE:
        _schedule_wake(H, pt, pd, pend, adv_t, port)


@njit(cache=True, nogil=True, _nrt=False)
def _advance_at(H, pt, pd, proc, adv_t, adv_b, pend, ring, port, base, at):
    """:meth:`Port.advance`: from time ``at`` the receiver needs no vector below ``base``."""
    now = H[0][_H_NOW]
    if at > now:
        # moves that are due wait (lazily, as the port's deque) for the next look at the port,
        # which applies the last of them: keep only that one
        while pd[port, D_ADVN] >= 2 and adv_t[port * _ADV + (pd[port, D_ADVH] + 1) % _ADV] <= now:
            pd[port, D_ADVH] = (pd[port, D_ADVH] + 1) % _ADV
            pd[port, D_ADVN] -= 1
        n = pd[port, D_ADVN]
        if n == _ADV:
            H[0][_H_STATUS] = _OVERFLOW
            return
        j = port * _ADV + (pd[port, D_ADVH] + n) % _ADV
        adv_t[j] = at
        adv_b[j] = base
        pd[port, D_ADVN] = n + 1
        if pd[port, D_KWH] != _NONE:
            _schedule_wake(H, pt, pd, pend, adv_t, port)
        return
    _advance(H, pt, pd, proc, ring, port, base)


# items: rows of ``items`` (key, pieces, first arrival, last arrival, delivery time, held key):
# a windowed port's vectors in its ring (row P_RING + key mod capacity), other ports' in rows
# found through the hash table ``where`` (:func:`_dict_key`)
(I_KEY, I_PIECES, I_FIRST, I_LAST, I_TDEL, I_HELD) = range(6)


@njit(cache=True, nogil=True, _nrt=False)
def _dict_key(pt, port, key):
    """The table key of vector ``key`` (>= 0) of ``port``: ``key · m + port`` with ``m`` the
    odd number of ports or one more (unique, >= 0)."""
    return key * (pt.shape[0] | 1) + port


_EMPTY = -1


@njit(cache=True, nogil=True, _nrt=False)
def _slot(table, key):
    """Where ``key`` is in the hash table ``table`` ((2, size + 1): keys, values; linear
    probing, ``size`` a power of two; ``table[0, size]`` counts the keys), or the empty slot
    where it would go."""
    mask = table.shape[1] - 2
    j = np.int64((np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(40)) & mask
    while table[0, j] != _EMPTY and table[0, j] != key:
        j = (j + 1) & mask
    return j


@njit(cache=True, nogil=True, _nrt=False)
def _get(table, key):
    """The value of ``key`` in ``table``, or -1."""
    j = _slot(table, key)
    return table[1, j] if table[0, j] == key else _NONE


@njit(cache=True, nogil=True, _nrt=False)
def _set(h, table, key, value):
    """``table[key] = value`` (a full table stops the run)."""
    j = _slot(table, key)
    if table[0, j] != key:
        size = table.shape[1] - 1
        if table[0, size] * 2 >= size:
            h[_H_STATUS] = _OVERFLOW
            return
        table[0, size] += 1
    table[0, j] = key
    table[1, j] = value


@njit(cache=True, nogil=True, _nrt=False)
def _delete(table, key):
    """Remove ``key`` (present) from ``table``, moving later entries of its probe run back."""
    mask = table.shape[1] - 2
    j = _slot(table, key)
    table[0, j] = _EMPTY
    table[0, mask + 1] -= 1
    i = j
    while True:
        i = (i + 1) & mask
        k = table[0, i]
        if k == _EMPTY:
            return
        home = np.int64((np.uint64(k) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(40)) & mask
        # move k back to the hole j when its home is not cyclically in (j, i]
        if (i > j and (home <= j or home > i)) or (i < j and (home <= j and home > i)):
            table[0, j] = k
            table[1, j] = table[1, i]
            table[0, i] = _EMPTY
            j = i


@njit(cache=True, nogil=True, _nrt=False)
def _item(pt, items, where, port, key):
    """The row of vector ``key`` of ``port`` in ``items``, or -1."""
    if pt[port, P_WINDOW]:
        r = pt[port, P_RING] + key % pt[port, P_CAP]
        return r if items[r, I_KEY] == key else _NONE
    return _get(where, _dict_key(pt, port, key))


@njit(cache=True, nogil=True, _nrt=False)
def _complete(pt, items, where, port, key):
    """The row of vector ``key`` when every piece of it is there, else -1."""
    r = _item(pt, items, where, port, key)
    if r != _NONE and items[r, I_PIECES] == pt[port, P_PIECES]:
        return r
    return _NONE


@njit(cache=True, nogil=True, _nrt=False)
def _ready(h, pt, pd, waiters, sig, sig_free, port, key):
    """:meth:`Port.ready` for a vector not complete: its signal (shared by its waiters)."""
    k = _dict_key(pt, port, key)
    s = _get(waiters, k)
    if s == _NONE:
        s = _signal(h, sig_free, sig)
        _set(h, waiters, k, s)
        pd[port, D_READY] += 1
    return s


@njit(cache=True, nogil=True, _nrt=False)
def _arrived(h, pt, pd, proc, items, where, waiters, sig, sig_free, port, key, c):
    """The row of vector ``key`` of ``port`` when it is complete; else -1, and process ``c``
    waits for it (the :func:`~chipsim.timing.units._arrival` of the SimPy engine)."""
    r = _complete(pt, items, where, port, key)
    if r == _NONE:
        _wait(sig, proc, _ready(h, pt, pd, waiters, sig, sig_free, port, key), c)
    return r


@njit(cache=True, nogil=True, _nrt=False)
def _put(H, pt, pd, items, where, free_rows, waiters, port, key, first, last, n):
    """:meth:`Port.put`: one piece of ``n`` values of vector ``key``."""
    h = H[0]
    pd[port, D_VALUES] += n
    r = _item(pt, items, where, port, key)
    if r == _NONE:
        if pt[port, P_WINDOW]:
            if key < pd[port, D_BASE]:  # no longer needed: not kept
                return
            r = pt[port, P_RING] + key % pt[port, P_CAP]
        else:
            top = h[_H_SLOTTOP]
            if top == 0:
                h[_H_STATUS] = _OVERFLOW
                return
            h[_H_SLOTTOP] = top - 1
            r = free_rows[top - 1]
            _set(h, where, _dict_key(pt, port, key), r)
        items[r, I_KEY] = key
        items[r, I_PIECES] = 1
        items[r, I_FIRST] = first
        items[r, I_LAST] = last
    else:
        if first > items[r, I_FIRST]:
            items[r, I_FIRST] = first
        if last > items[r, I_LAST]:
            items[r, I_LAST] = last
        items[r, I_PIECES] += 1
    items[r, I_TDEL] = h[_H_NOW]
    if key < pd[port, D_BASE]:
        items[r, I_KEY] = _NONE - 1
        return
    if items[r, I_PIECES] == pt[port, P_PIECES] and pd[port, D_READY]:
        k = _dict_key(pt, port, key)
        s = _get(waiters, k)
        if s != _NONE:
            _delete(waiters, k)
            pd[port, D_READY] -= 1
            _succeed(H, s)


@njit(cache=True, nogil=True, _nrt=False)
def _pop_item(H, pt, pd, proc, items, where, free_rows, pend, adv_t, port, key, at):
    """:meth:`Port.pop` of a credit port's vector ``key``: its credits back at ``at`` (the
    release of its pieces, which the Python port writes out inline)."""
    h = H[0]
    k = _dict_key(pt, port, key)
    r = _get(where, k)
    if r == _NONE:
        return
    _delete(where, k)
    free_rows[h[_H_SLOTTOP]] = r
    h[_H_SLOTTOP] += 1
    _release(H, pt, pd, proc, pend, adv_t, port, items[r, I_PIECES], at)


# ------------------------------------------------------------------------------ processes
# a core process's state
(CS_PC, CS_II, CS_KK, CS_G, CS_I, CS_K, CS_TIN, CS_END, CS_T, CS_NIN, CS_INF, CS_INL,
 CS_ND, CS_KEY, CS_S, CS_Q, CS_LATCH, CS_NOWL, CS_FREE, CS_BUSY, CS_DFIRST, CS_DLAST,
 CS_DONE, CS_TMPL, CS_R, CS_NSPAN, CS_NSTART) = range(27)
# a feeder's state
(FS_PC, FS_VI, FS_G, FS_E, FS_Q, FS_T, FS_W, FS_R, FS_KEY, FS_START) = range(10)
(PC_START, PC_VEC, PC_INP_GOT, PC_NEEDS, PC_NEEDS_GOT, PC_MVM, PC_PSUM_GOT, PC_RES,
 PC_RES_GOT, PC_SENDS, PC_ACQ0, PC_ACQ, PC_OUT, PC_NEXT, PC_DONE) = range(15)
# a feeder's own steps: the previous inference, the host's outputs, its time, its residuals
(PC_F_INF, PC_F_HOST, PC_F_AT, PC_F_RES, PC_F_RES_GOT) = range(15, 20)
# an attention stage's state and steps: the tokens it needs, its room at the destinations,
# its work and output
(SS_PC, SS_I, SS_K, SS_KEY, SS_CHECKED, SS_TMAX, SS_TK, SS_D, SS_GR, SS_Q) = range(10)
(PC_A_WIN, PC_A_WIN_GOT, PC_A_AT, PC_A_ACQ, PC_A_OUT) = range(20, 25)
# a GDPU slice's state and steps: its queue's next row and end, when it is free, the send
# template of the vector it works on, its acquire progress, its start
(GS_PC, GS_HEAD, GS_TAIL, GS_FREE, GS_TMPL, GS_SN, GS_Q, GS_START, GS_SIG) = range(9)
(PC_G_GOT, PC_G_ACQ, PC_G_AT, PC_G_OUT) = range(25, 29)
_WAITS, _ENDS = 0, 1
_FAR = 1 << 62


@njit(cache=True, nogil=True, _nrt=False)
def _send(H, cal, trees, tl_link, tl_feeder, tree_sent, value_bits, fs, ls, tree, now, first,
          last, n):
    """Book ``n`` values on ``tree``: arrivals into ``fs``/``ls``; the tree's number of
    links (a full calendar row stops the run)."""
    l0, l1 = trees[tree, T_L0], trees[tree, T_L1]
    got = transfer_tree(cal[0], cal[1], cal[2], cal[3], cal[4], cal[5], cal[6], cal[7],
                        cal[8], now, tl_link[l0:l1], tl_feeder[l0:l1], first, last, n, fs, ls)
    if got < 0:
        H[0][_H_STATUS] = _CAL_FULL
        return l1 - l0
    tree_sent[tree, 0] += 1
    tree_sent[tree, 1] += n * value_bits
    return l1 - l0


@njit(cache=True, nogil=True, _nrt=False)
def _host_receive(H, HOST_, layer, g, last):
    """:meth:`SimState.host_receive` of one chain's output of vector ``g`` of ``layer``: the
    events it fires are the signals of the feeders that wait for them, or entries that wake
    nobody, made as SimPy makes them."""
    layers, hc_count, hc_time, sink_left, inf_time, hd_sig, inf_sig, inf_fired = HOST_
    i = g // layers[layer, L_VECS]
    hc_count[layer, i] += 1
    if last > hc_time[layer, i]:
        hc_time[layer, i] = last
    if hc_count[layer, i] == layers[layer, L_PIECES]:
        _fire(H, hd_sig[layer, i])  # host_done
        if layers[layer, L_SINK]:
            sink_left[i] -= 1
            t = inf_time[i] if inf_time[i] != _NONE else 0
            inf_time[i] = t if t > hc_time[layer, i] else hc_time[layer, i]
            if sink_left[i] == 0:  # inf_done
                inf_fired[i] = 1
                _fire(H, inf_sig[i])


@njit(cache=True, nogil=True, _nrt=False)
def _fire(H, s):
    """An event of the host fires: signal ``s`` (its waiters), or an entry that wakes nobody
    (``s`` -1)."""
    if s != _NONE:
        _succeed(H, s)
    else:
        h = H[0]
        _push(h, H[1], h[_H_NOW], _NORMAL, _NOOP, 0)


@njit(cache=True, nogil=True, _nrt=False)
def _await(h, sig, sig_free, proc, table, j, p):
    """Process ``p`` waits for the host's event whose signal is ``table[j]`` (made now if it
    has none yet)."""
    if table[j] == _NONE:
        table[j] = _signal(h, sig_free, sig)
    _wait(sig, proc, table[j], p)


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _take_ports(H, P, ports, q0, q1, key, state, col_q, p):
    """Process ``p`` takes a credit or window slot for vector ``key`` at ports ``ports[q]``,
    ``q`` from ``state[col_q]`` (-1: from ``q0``) to ``q1``: True when it must wait (the next
    ``q`` kept in ``state``), False when done."""
    pt, pd, proc, sig, sig_free, pend, adv_t, adv_b, items, free_rows = P
    q = state[col_q]
    if q < 0:
        q = q0
    while q < q1:
        got = _acquire(H, pt, pd, proc, sig, sig_free, pend, adv_t, adv_b, items, ports[q],
                       key, p)
        q += 1
        if got != _NONE:
            _wait(sig, proc, got, p)
            state[col_q] = q
            return True
    return False


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _take_room(H, P, tmpls, sends, sp_port, state, col_sn, col_q, tm, i, g, n_inf, p):
    """Process ``p`` takes a credit or window slot at every port of the sends of template
    ``tm`` (vector ``g`` of inference ``i``; a recurrent send left out after the last
    inference), from send ``state[col_sn]`` and port ``state[col_q]`` (-1: its first) on:
    True when it must wait (where it stopped kept in ``state``), False when done."""
    sn = state[col_sn]
    while sn < tmpls[tm, TP_S1]:
        if sends[sn, S_REC] and i + 1 >= n_inf:
            sn += 1
            state[col_q] = -1
            continue
        key = g if sends[sn, S_BYG] else i * sends[sn, S_MULT] + sends[sn, S_J]
        if _take_ports(H, P, sp_port, sends[sn, S_P0], sends[sn, S_P1], key, state, col_q, p):
            state[col_sn] = sn
            return True
        sn += 1
        state[col_q] = -1
    return False


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _core_step(c, H, P, where, waiters, CAL, TR, T, D, HOST_, prm, GD):
    """Run core process ``c`` (:func:`~chipsim.timing.units.core_unit`) until it waits or
    ends: ``_WAITS`` or ``_ENDS``."""
    h = H[0]
    pt, pd, proc, sig, sig_free, pend, adv_t, adv_b, items, free_rows = P
    cores, needs, win_lo, win_m, res, tmpls, sends, sp_port, sp_pos = T
    cs_all, nd_checked, nd_tmax, mvm_free, spans, starts_out, timeline, tl_n, fs, ls = D
    trees, tl_link, tl_feeder, tree_sent = TR
    n_inf, period, mclk, t_mvm, dig, depth, vp, value_bits, record, _ = prm
    cs = cs_all[c]
    row = cores[c]
    core = row[C_CORE]
    vecs = row[C_VECS]
    i0, istep = row[C_I0], row[C_ISTEP]
    n_i = (row[C_I1] - i0 + istep - 1) // istep if row[C_I1] > i0 else 0
    k0, k1 = row[C_K0], row[C_K1]
    inp = row[C_INP]
    n0, n1 = row[C_N0], row[C_N1]
    psum = row[C_PSUM]
    i_last = i0 + (n_i - 1) * istep
    kf = k0 if k1 > k0 else 0  # the first vector index of each inference
    so = row[C_T0]
    while True:
        pc = cs[CS_PC]
        if pc == PC_START:
            for nd in range(n0, n1):  # the window starts at the first vector this core needs
                rec = needs[nd, N_REC]
                for ii in range(n_i):
                    i = i0 + ii * istep
                    if rec == 0 or i > 0:
                        _advance(H, pt, pd, proc, items, needs[nd, N_PORT],
                                 (i - rec) * needs[nd, N_DL] - needs[nd, N_OFF]
                                 + win_lo[needs[nd, N_WIN] + kf])
                        break
            cs[CS_II] = 0
            cs[CS_KK] = 0
            cs[CS_PC] = PC_VEC
            continue
        if pc == PC_VEC:
            if cs[CS_II] >= n_i or k1 <= k0:
                cs[CS_PC] = PC_DONE
                return _ENDS
            i = i0 + cs[CS_II] * istep
            k = k0 + cs[CS_KK]
            g = i * vecs + k
            cs[CS_I], cs[CS_K], cs[CS_G] = i, k, g
            cs[CS_TIN] = 0
            if inp != _NONE:
                r = _arrived(h, pt, pd, proc, items, where, waiters, sig, sig_free, inp, g, c)
                if r == _NONE:
                    cs[CS_PC] = PC_INP_GOT
                    return _WAITS
                cs[CS_TIN] = items[r, I_LAST]
            cs[CS_ND] = n0
            cs[CS_PC] = PC_NEEDS
            continue
        if pc == PC_INP_GOT:
            cs[CS_TIN] = items[_item(pt, items, where, inp, cs[CS_G]), I_LAST]
            cs[CS_ND] = n0
            cs[CS_PC] = PC_NEEDS
            continue
        if pc == PC_NEEDS or pc == PC_NEEDS_GOT:
            i, k = cs[CS_I], cs[CS_K]
            resumed = pc == PC_NEEDS_GOT
            nd = cs[CS_ND]
            while nd < n1:
                rec = needs[nd, N_REC]
                if i < rec:
                    nd += 1
                    continue
                port = needs[nd, N_PORT]
                wo = needs[nd, N_WIN]
                base = (i - rec) * needs[nd, N_DL] - needs[nd, N_OFF]
                hi = win_m[wo + k] + base
                if hi > nd_checked[nd]:
                    if resumed:
                        key = cs[CS_KEY]
                        r = _item(pt, items, where, port, key)
                        if items[r, I_LAST] > nd_tmax[nd]:
                            nd_tmax[nd] = items[r, I_LAST]
                        key += 1
                        resumed = False
                    else:
                        key = win_lo[wo + k] + base
                        if key < nd_checked[nd]:
                            key = nd_checked[nd]
                    while key < hi:
                        r = _arrived(h, pt, pd, proc, items, where, waiters, sig, sig_free,
                                     port, key, c)
                        if r == _NONE:
                            cs[CS_KEY] = key
                            cs[CS_ND] = nd
                            cs[CS_PC] = PC_NEEDS_GOT
                            return _WAITS
                        if items[r, I_LAST] > nd_tmax[nd]:
                            nd_tmax[nd] = items[r, I_LAST]
                        key += 1
                    nd_checked[nd] = hi
                if nd_tmax[nd] > cs[CS_TIN]:
                    cs[CS_TIN] = nd_tmax[nd]
                nd += 1
            cs[CS_PC] = PC_MVM
            continue
        if pc == PC_MVM:
            i, k, g = cs[CS_I], cs[CS_K], cs[CS_G]
            start = mvm_free[core]
            if cs[CS_LATCH] > start:
                start = cs[CS_LATCH]
            if cs[CS_TIN] > start:
                start = cs[CS_TIN]
            start = -(-start // mclk) * mclk
            end = start + t_mvm
            cs[CS_END] = end
            mvm_free[core] = end
            starts_out[cs[CS_NSTART]] = start
            cs[CS_NSTART] += 1
            spans[cs[CS_NSPAN]] = start
            spans[cs[CS_NSPAN] + 1] = end
            cs[CS_NSPAN] += 2
            if record:
                n = tl_n[0]
                timeline[n, 0], timeline[n, 1], timeline[n, 2], timeline[n, 3] = (
                    core, start, end, 0)
                tl_n[0] = n + 1
            cs[CS_DONE] += 1
            if inp != _NONE:
                _pop_item(H, pt, pd, proc, items, where, free_rows, pend, adv_t, inp, g, end)
            if n1 > n0:
                if k != k1 - 1:  # the window of the next vector: k + 1 ...
                    for nd in range(n0, n1):
                        rec = needs[nd, N_REC]
                        if i < rec:
                            new_lo = 0
                        else:
                            new_lo = ((i - rec) * needs[nd, N_DL] - needs[nd, N_OFF]
                                      + win_lo[needs[nd, N_WIN] + k + 1])
                        _advance_at(H, pt, pd, proc, adv_t, adv_b, pend, items,
                                    needs[nd, N_PORT], min(new_lo, nd_checked[nd]), end)
                elif i != i_last:  # ... or the first k of the replica's next inference
                    for nd in range(n0, n1):
                        rec = needs[nd, N_REC]
                        new_lo = ((i + istep - rec) * needs[nd, N_DL] - needs[nd, N_OFF]
                                  + win_lo[needs[nd, N_WIN] + k0])
                        _advance_at(H, pt, pd, proc, adv_t, adv_b, pend, items,
                                    needs[nd, N_PORT], min(new_lo, nd_checked[nd]), end)
                else:
                    for nd in range(n0, n1):
                        _advance_at(H, pt, pd, proc, adv_t, adv_b, pend, items,
                                    needs[nd, N_PORT], _FAR, end)
            if row[C_MVMONLY]:
                cs[CS_PC] = PC_NEXT
                continue
            t = end if end > cs[CS_NOWL] else cs[CS_NOWL]
            cs[CS_NIN] = 0
            cs[CS_INF] = 0
            cs[CS_INL] = 0
            if psum != _NONE:
                r = _arrived(h, pt, pd, proc, items, where, waiters, sig, sig_free, psum, g,
                             c)
                if r == _NONE:
                    cs[CS_T] = t
                    cs[CS_PC] = PC_PSUM_GOT
                    return _WAITS
                if items[r, I_TDEL] > t:
                    t = items[r, I_TDEL]
                cs[CS_NIN] = 1
                cs[CS_INF], cs[CS_INL] = items[r, I_FIRST], items[r, I_LAST]
            cs[CS_T] = t
            cs[CS_R] = row[C_R0]
            cs[CS_PC] = PC_RES
            continue
        if pc == PC_PSUM_GOT:
            r = _item(pt, items, where, psum, cs[CS_G])
            if items[r, I_TDEL] > cs[CS_T]:
                cs[CS_T] = items[r, I_TDEL]
            cs[CS_NIN] = 1
            cs[CS_INF], cs[CS_INL] = items[r, I_FIRST], items[r, I_LAST]
            cs[CS_R] = row[C_R0]
            cs[CS_PC] = PC_RES
            continue
        if pc == PC_RES or pc == PC_RES_GOT:
            i, k = cs[CS_I], cs[CS_K]
            resumed = pc == PC_RES_GOT
            ri = cs[CS_R]
            while ri < row[C_R1]:
                port = res[ri, R_PORT]
                base = i * res[ri, R_DL]
                wo = res[ri, R_WIN]
                key = base + win_lo[wo + k]
                if resumed:
                    key = cs[CS_KEY]
                stop = base + win_m[wo + k]
                while key < stop:
                    if resumed:
                        r = _item(pt, items, where, port, key)
                        resumed = False
                    else:
                        r = _arrived(h, pt, pd, proc, items, where, waiters, sig, sig_free,
                                     port, key, c)
                        if r == _NONE:
                            cs[CS_KEY] = key
                            cs[CS_R] = ri
                            cs[CS_PC] = PC_RES_GOT
                            return _WAITS
                    if items[r, I_TDEL] > cs[CS_T]:
                        cs[CS_T] = items[r, I_TDEL]
                    if cs[CS_NIN]:
                        if items[r, I_FIRST] > cs[CS_INF]:
                            cs[CS_INF] = items[r, I_FIRST]
                        if items[r, I_LAST] > cs[CS_INL]:
                            cs[CS_INL] = items[r, I_LAST]
                    else:
                        cs[CS_INF], cs[CS_INL] = items[r, I_FIRST], items[r, I_LAST]
                    cs[CS_NIN] += 1
                    key += 1
                ri += 1
            cs[CS_PC] = PC_SENDS
            continue
        if pc == PC_SENDS:
            if row[C_FIXED] != _NONE:
                cs[CS_TMPL] = row[C_FIXED]
            else:
                cs[CS_TMPL] = so + (cs[CS_K] - k0) * period + cs[CS_I] % period
            cs[CS_PC] = PC_ACQ0
            if cs[CS_T] > h[_H_NOW]:  # act at the LDPU's own time
                _push(h, H[1], cs[CS_T], _NORMAL, _RESUME, c)
                return _WAITS
            continue
        if pc == PC_ACQ0:
            cs[CS_S] = tmpls[cs[CS_TMPL], TP_S0]
            cs[CS_Q] = -1
            cs[CS_PC] = PC_ACQ
            continue
        if pc == PC_ACQ:
            if _take_room(H, P, tmpls, sends, sp_port, cs, CS_S, CS_Q, cs[CS_TMPL], cs[CS_I],
                          cs[CS_G], n_inf, c):
                return _WAITS
            cs[CS_PC] = PC_OUT
            continue
        if pc == PC_OUT:
            i, k, g = cs[CS_I], cs[CS_K], cs[CS_G]
            now = h[_H_NOW]
            end = cs[CS_END]
            start = now if now > end else end
            if cs[CS_FREE] > start:
                start = cs[CS_FREE]
            start = -(-start // dig) * dig
            cs[CS_LATCH] = start
            span = row[C_SPAN]
            first = start
            if cs[CS_NIN]:
                if cs[CS_INF] > first:
                    first = cs[CS_INF]
                last = first + span
                if cs[CS_INL] > last:
                    last = cs[CS_INL]
            else:
                last = first + span
            out_first, out_last = first + depth, last + depth
            consumed = last
            if psum != _NONE:
                _pop_item(H, pt, pd, proc, items, where, free_rows, pend, adv_t, psum, g,
                          consumed)
            for ri in range(row[C_R0], row[C_R1]):
                base = i * res[ri, R_DL]
                wo = res[ri, R_WIN]
                for key in range(base + win_lo[wo + k], base + win_m[wo + k]):
                    _pop_item(H, pt, pd, proc, items, where, free_rows, pend, adv_t,
                              res[ri, R_PORT], key, consumed)
            cs[CS_FREE] = consumed + vp
            cs[CS_BUSY] += out_last - start
            if record:
                n = tl_n[0]
                timeline[n, 0], timeline[n, 1], timeline[n, 2], timeline[n, 3] = (
                    core, start, out_last, 1)
                tl_n[0] = n + 1
            top = out_last
            tm = cs[CS_TMPL]
            for sn in range(tmpls[tm, TP_S0], tmpls[tm, TP_S1]):
                if sends[sn, S_REC] and i + 1 >= n_inf:
                    continue
                nv = sends[sn, S_NV]
                nl = _send(H, CAL, trees, tl_link, tl_feeder, tree_sent, value_bits, fs, ls,
                           sends[sn, S_TREE], now, out_first, out_last, nv)
                if sends[sn, S_KIND] == K_HOST:
                    _host_receive(H, HOST_, sends[sn, S_LAYER], g, ls[sends[sn, S_TO]])
                elif sends[sn, S_KIND] == K_GDPU:
                    x = sends[sn, S_TO]
                    _gdpu_put(H, GD, sends[sn, S_LAYER], row[C_CHAIN], g, fs[x], ls[x], nv)
                else:
                    key = g if sends[sn, S_BYG] else i * sends[sn, S_MULT] + sends[sn, S_J]
                    for q in range(sends[sn, S_P0], sends[sn, S_P1]):
                        x = sp_pos[q]
                        _put(H, pt, pd, items, where, free_rows, waiters, sp_port[q], key,
                             fs[x], ls[x], nv)
                for x in range(nl + 1):
                    if ls[x] > top:
                        top = ls[x]
            spans[cs[CS_NSPAN]] = start
            spans[cs[CS_NSPAN] + 1] = out_last
            cs[CS_NSPAN] += 2
            if cs[CS_DFIRST] == _NONE:
                cs[CS_DFIRST] = start
            if top > cs[CS_DLAST]:
                cs[CS_DLAST] = top
            cs[CS_NOWL] = now
            cs[CS_PC] = PC_NEXT
            continue
        if pc == PC_NEXT:
            cs[CS_KK] += 1
            if cs[CS_KK] == k1 - k0:
                cs[CS_KK] = 0
                cs[CS_II] += 1
            cs[CS_PC] = PC_VEC
            continue
        return _ENDS


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _feeder_step(f, p, H, P, where, waiters, CAL, TR, FD, HOST_, win_lo, win_m, inf_start, fs,
                 ls, value_bits):
    """Run feeder ``f`` (process ``p``, :func:`~chipsim.timing.host.feeder`) until it waits
    or ends."""
    h = H[0]
    pt, pd, proc, sig, sig_free, pend, adv_t, adv_b, items, free_rows = P
    trees, tl_link, tl_feeder, tree_sent = TR
    feeders, feeds, fp_port, fp_pos, fstate, fwait, fres, fres_sent = FD
    layers, hc_count, hc_time, sink_left, inf_time, hd_sig, inf_sig, inf_fired = HOST_
    fr = feeders[f]
    st = fstate[f]
    vecs = fr[F_VECS]
    i0, istep = fr[F_I0], fr[F_ISTEP]
    n_i = (fr[F_I1] - i0 + istep - 1) // istep if fr[F_I1] > i0 else 0
    nk = fr[F_K1] - fr[F_K0]
    while True:
        pc = st[FS_PC]
        if pc == PC_START or pc == PC_VEC:
            if pc == PC_START:
                st[FS_VI] = 0
            vi = st[FS_VI]
            if nk <= 0 or vi >= n_i * nk:
                st[FS_PC] = PC_DONE
                return _ENDS
            i = i0 + (vi // nk) * istep
            st[FS_G] = i * vecs + fr[F_K0] + vi % nk
            st[FS_T] = h[_H_NOW]
            st[FS_PC] = PC_F_INF
            if fr[F_SEQ] and i > 0:  # off-chip: after the previous inference
                if not inf_fired[i - 1]:
                    _await(h, sig, sig_free, proc, inf_sig, i - 1, p)
                    return _WAITS
            continue
        i = st[FS_G] // vecs
        if pc == PC_F_INF:
            if fr[F_SEQ] and i > 0:
                t = inf_time[i - 1] if inf_time[i - 1] != _NONE else 0
                if t > st[FS_T]:
                    st[FS_T] = t
            st[FS_W] = fr[F_W0]
            st[FS_PC] = PC_F_HOST
            continue
        if pc == PC_F_HOST:  # the host's outputs of the sources, for this inference
            w = st[FS_W]
            while w < fr[F_W1]:
                layer = fwait[w, W_LAYER]
                ii = i - fwait[w, W_REC]
                if ii >= 0:
                    if hc_count[layer, ii] != layers[layer, L_PIECES]:
                        st[FS_W] = w
                        _await(h, sig, sig_free, proc, hd_sig[layer], ii, p)
                        return _WAITS
                    if hc_time[layer, ii] > st[FS_T]:
                        st[FS_T] = hc_time[layer, ii]
                w += 1
            st[FS_PC] = PC_F_AT
            if st[FS_T] > h[_H_NOW]:
                _push(h, H[1], st[FS_T], _NORMAL, _RESUME, p)
                return _WAITS
            continue
        if pc == PC_F_AT:
            now = h[_H_NOW]
            if fr[F_START] and (inf_start[i] == _NONE or now < inf_start[i]):
                inf_start[i] = now
            st[FS_E] = fr[F_E0]
            st[FS_Q] = -1
            st[FS_PC] = PC_ACQ
            continue
        if pc == PC_ACQ:
            e = st[FS_E]
            while e < fr[F_E1]:
                # keyed by the vector: an attention unit's buffer is a window of tokens
                if _take_ports(H, P, fp_port, feeds[e, E_P0], feeds[e, E_P1], st[FS_G], st,
                               FS_Q, p):
                    st[FS_E] = e
                    return _WAITS
                now = h[_H_NOW]
                n = feeds[e, E_N]
                _send(H, CAL, trees, tl_link, tl_feeder, tree_sent, value_bits, fs, ls,
                      feeds[e, E_TREE], now, now, now, n)
                for q in range(feeds[e, E_P0], feeds[e, E_P1]):
                    x = fp_pos[q]
                    _put(H, pt, pd, items, where, free_rows, waiters, fp_port[q], st[FS_G],
                         fs[x], ls[x], n)
                e += 1
                st[FS_Q] = -1
            st[FS_R] = fr[F_R0]
            st[FS_KEY] = -1
            st[FS_PC] = PC_F_RES
            continue
        if pc == PC_F_RES or pc == PC_F_RES_GOT:  # residuals the host adds, in order
            k = st[FS_G] % vecs
            granted = pc == PC_F_RES_GOT
            r = st[FS_R]
            while r < fr[F_R1]:
                base = i * fres[r, X_DL]
                stop = base + win_m[fres[r, X_WIN] + k]
                key = st[FS_KEY]
                if key < 0:
                    key = base + win_lo[fres[r, X_WIN] + k]
                    if fres_sent[r] > key:
                        key = fres_sent[r]
                    st[FS_START] = key
                port = fres[r, X_PORT]
                while key < stop:
                    if not granted:
                        got = _acquire(H, pt, pd, proc, sig, sig_free, pend, adv_t, adv_b,
                                       items, port, 0, p)
                        if got != _NONE:
                            _wait(sig, proc, got, p)
                            st[FS_R] = r
                            st[FS_KEY] = key
                            st[FS_PC] = PC_F_RES_GOT
                            return _WAITS
                    granted = False
                    now = h[_H_NOW]
                    n = fres[r, X_N]
                    _send(H, CAL, trees, tl_link, tl_feeder, tree_sent, value_bits, fs, ls,
                          fres[r, X_TREE], now, now, now, n)
                    x = fres[r, X_AT]
                    _put(H, pt, pd, items, where, free_rows, waiters, port, key, fs[x], ls[x],
                         n)
                    key += 1
                fres_sent[r] = stop if stop > st[FS_START] else st[FS_START]
                st[FS_KEY] = -1
                r += 1
            st[FS_VI] += 1
            st[FS_PC] = PC_VEC
            continue
        return _ENDS


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _stage_step(j, p, H, P, where, waiters, CAL, TR, AS, fs, ls, value_bits, n_inf, period):
    """Run attention stage ``j`` (process ``p``, :func:`~chipsim.timing.units.attention_stage`)
    until it waits or ends; each token's work is logged ``(stage, token, start, end, last
    arrival of its output)`` for the counts and busy spans made after the run."""
    h = H[0]
    pt, pd, proc, sig, sig_free, pend, adv_t, adv_b, items, free_rows = P
    trees, tl_link, tl_feeder, tree_sent = TR
    stages, adest, agrp, aport, apos, owner, dur, sstate, unit_free, alog, alog_n = AS
    row = stages[j]
    st = sstate[j]
    vecs, port, u = row[A_VECS], row[A_PORT], row[A_UNIT]
    while True:
        pc = st[SS_PC]
        if pc == PC_START or pc == PC_VEC:
            if st[SS_I] >= n_inf or vecs <= 0:
                st[SS_PC] = PC_DONE
                return _ENDS
            i, k = st[SS_I], st[SS_K]
            lo = k if not row[A_ATTN] else 0
            key = i * vecs + lo
            if st[SS_CHECKED] > key:
                key = st[SS_CHECKED]
            st[SS_KEY] = key
            st[SS_PC] = PC_A_WIN
            continue
        i, k = st[SS_I], st[SS_K]
        g = i * vecs + k
        if pc == PC_A_WIN or pc == PC_A_WIN_GOT:  # the tokens of its window
            hi = k + 1 if (not row[A_ATTN] or row[A_CAUSAL]) else vecs
            stop = i * vecs + hi
            key = st[SS_KEY]
            if pc == PC_A_WIN_GOT:
                r = _item(pt, items, where, port, key)
                if items[r, I_LAST] > st[SS_TMAX]:
                    st[SS_TMAX] = items[r, I_LAST]
                st[SS_CHECKED] = key + 1
                key += 1
            while key < stop:
                r = _arrived(h, pt, pd, proc, items, where, waiters, sig, sig_free, port, key,
                             p)
                if r == _NONE:
                    st[SS_KEY] = key
                    st[SS_PC] = PC_A_WIN_GOT
                    return _WAITS
                if items[r, I_LAST] > st[SS_TMAX]:
                    st[SS_TMAX] = items[r, I_LAST]
                st[SS_CHECKED] = key + 1
                key += 1
            st[SS_PC] = PC_A_AT
            if st[SS_TMAX] > h[_H_NOW]:
                _push(h, H[1], st[SS_TMAX], _NORMAL, _RESUME, p)
                return _WAITS
            continue
        if pc == PC_A_AT:
            d = row[A_D0] + owner[row[A_OWN0] + g]
            st[SS_D] = d
            st[SS_TK] = g if row[A_HOSTFED] else i * adest[d, AD_LEN] + k - adest[d, AD_OFF]
            st[SS_GR] = adest[d, AD_G0]
            st[SS_Q] = -1
            st[SS_PC] = PC_A_ACQ
            continue
        if pc == PC_A_ACQ:  # room for the output at every destination
            d = st[SS_D]
            gr = st[SS_GR]
            while gr < adest[d, AD_G1]:
                if _take_ports(H, P, aport, agrp[gr, AG_Q0], agrp[gr, AG_Q1], st[SS_TK], st,
                               SS_Q, p):
                    st[SS_GR] = gr
                    return _WAITS
                gr += 1
                st[SS_Q] = -1
            st[SS_PC] = PC_A_OUT
            continue
        if pc == PC_A_OUT:
            now = h[_H_NOW]
            start = now if now > unit_free[u] else unit_free[u]
            start = -(-start // period) * period
            end = start + dur[row[A_DUR0] + k]
            unit_free[u] = end
            if not row[A_ATTN] or k == vecs - 1:  # an attention keeps its inference's tokens
                _advance_at(H, pt, pd, proc, adv_t, adv_b, pend, items, port, g + 1, end)
            last = end
            d = st[SS_D]
            tk = st[SS_TK]
            for gr in range(adest[d, AD_G0], adest[d, AD_G1]):
                n = agrp[gr, AG_N]
                nl = _send(H, CAL, trees, tl_link, tl_feeder, tree_sent, value_bits, fs, ls,
                           agrp[gr, AG_TREE], now, end, end, n)
                for q in range(agrp[gr, AG_Q0], agrp[gr, AG_Q1]):
                    x = apos[q]
                    _put(H, pt, pd, items, where, free_rows, waiters, aport[q], tk, fs[x],
                         ls[x], n)
                for x in range(nl + 1):
                    if ls[x] > last:
                        last = ls[x]
            n = alog_n[0]
            alog[n, 0], alog[n, 1], alog[n, 2], alog[n, 3], alog[n, 4] = j, k, start, end, last
            alog_n[0] = n + 1
            st[SS_K] = k + 1
            if st[SS_K] == vecs:
                st[SS_K] = 0
                st[SS_I] = i + 1
            st[SS_PC] = PC_VEC
            continue
        return _ENDS


@njit(cache=True, nogil=True, _nrt=False)
def _gdpu_put(H, GD, s, chain, g, first, last, n):
    """:meth:`~chipsim.timing.ports.Fifo.put` of GDPU slice ``s``: a gate vector queued; the
    slice, if it waits for one, resumes."""
    slices, gstate, fifo = GD[0], GD[2], GD[3]
    st = gstate[s]
    r = slices[s, G_FIFO0] + st[GS_TAIL]
    fifo[r, GF_CHAIN], fifo[r, GF_G], fifo[r, GF_FIRST], fifo[r, GF_LAST], fifo[r, GF_N] = (
        chain, g, first, last, n)
    st[GS_TAIL] += 1
    if st[GS_SIG] != _NONE:
        sig = st[GS_SIG]
        st[GS_SIG] = _NONE
        _succeed(H, sig)


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _gdpu_step(j, p, H, P, where, waiters, CAL, TR, T, GD, HOST_, fs, ls, value_bits, n_inf,
               period):
    """Run GDPU slice ``j`` (process ``p``, :func:`~chipsim.timing.units.gdpu_slice`) until
    it waits or ends; each gate vector's work is logged ``(slice, start, end, last arrival
    of its output, inputs, outputs)`` for the counts and busy spans made after the run."""
    h = H[0]
    pt, pd, proc, sig, sig_free, pend, adv_t, adv_b, items, free_rows = P
    trees, tl_link, tl_feeder, tree_sent = TR
    tmpls, sends, sp_port, sp_pos = T[5], T[6], T[7], T[8]
    slices, gchains, gstate, fifo, glog, glog_n, gpar = GD
    dig, in_ps, out_ps, depth = gpar[0], gpar[1], gpar[2], gpar[3]
    row = slices[j]
    st = gstate[j]
    while True:
        pc = st[GS_PC]
        if pc == PC_START or pc == PC_VEC:
            if st[GS_HEAD] >= row[G_COUNT]:
                st[GS_PC] = PC_DONE
                return _ENDS
            st[GS_PC] = PC_G_GOT
            if st[GS_HEAD] == st[GS_TAIL]:  # no gate vector queued: wait for one
                s = _signal(h, sig_free, sig)
                st[GS_SIG] = s
                _wait(sig, proc, s, p)
                return _WAITS
            continue
        r = row[G_FIFO0] + st[GS_HEAD]
        chain, g = fifo[r, GF_CHAIN], fifo[r, GF_G]
        vecs = gchains[chain, GC_VECS]
        i, k = g // vecs, g % vecs
        if pc == PC_G_GOT:
            tm = gchains[chain, GC_T0] + (k - gchains[chain, GC_K0]) * period + i % period
            st[GS_TMPL] = tm
            st[GS_SN] = tmpls[tm, TP_S0]
            st[GS_Q] = -1
            st[GS_PC] = PC_G_ACQ
            continue
        if pc == PC_G_ACQ:  # room at every destination
            if _take_room(H, P, tmpls, sends, sp_port, st, GS_SN, GS_Q, st[GS_TMPL], i, g,
                          n_inf, p):
                return _WAITS
            now = h[_H_NOW]
            start = now if now > st[GS_FREE] else st[GS_FREE]
            start = -(-start // dig) * dig
            st[GS_START] = start
            st[GS_PC] = PC_G_OUT
            if start > now:
                _push(h, H[1], start, _NORMAL, _RESUME, p)
                return _WAITS
            continue
        if pc == PC_G_OUT:
            now = h[_H_NOW]
            start = st[GS_START]
            n = fifo[r, GF_N]
            o_first, o_last, n_out, last_in = gdpu_times(
                start, fifo[r, GF_FIRST], fifo[r, GF_LAST], n, LSTM_GROUP, in_ps, out_ps, depth)
            _release(H, pt, pd, proc, pend, adv_t, row[G_PORT], 1, last_in)
            st[GS_FREE] = last_in + in_ps
            last = o_last
            tm = st[GS_TMPL]
            for sn in range(tmpls[tm, TP_S0], tmpls[tm, TP_S1]):
                if sends[sn, S_REC] and i + 1 >= n_inf:
                    continue
                nv = sends[sn, S_NV]
                _send(H, CAL, trees, tl_link, tl_feeder, tree_sent, value_bits, fs, ls,
                      sends[sn, S_TREE], now, o_first, o_last, nv)
                if sends[sn, S_KIND] == K_HOST:
                    x = sends[sn, S_TO]
                    _host_receive(H, HOST_, sends[sn, S_LAYER], g, ls[x])
                    if ls[x] > last:
                        last = ls[x]
                else:
                    key = g if sends[sn, S_BYG] else i * sends[sn, S_MULT] + sends[sn, S_J]
                    for q in range(sends[sn, S_P0], sends[sn, S_P1]):
                        x = sp_pos[q]
                        _put(H, pt, pd, items, where, free_rows, waiters, sp_port[q], key,
                             fs[x], ls[x], nv)
                        if ls[x] > last:
                            last = ls[x]
            m = glog_n[0]
            glog[m, 0], glog[m, 1], glog[m, 2], glog[m, 3] = j, start, o_last, last
            glog[m, 4], glog[m, 5] = n, n_out
            glog_n[0] = m + 1
            st[GS_HEAD] += 1
            st[GS_PC] = PC_VEC
            continue
        return _ENDS


# a GDC daemon's state, and what it recorded: per calibration its core, start, end and the
# number of the core's own busy spans before it (they interleave in that order)
(G_K, G_STARTED) = range(2)


@njit(cache=True, nogil=True, _nrt=False)
def _gdc_step(j, p, H, cores, cs, mvm_free, gstate, gdc_log, gdc_par, stopping):
    """Run GDC daemon ``j`` (process ``p``; :func:`~chipsim.timing.units.gdc` driven as
    :meth:`~chipsim.timing.kernel.Env.daemon` drives it) until its next wait, or its end
    when nothing else is scheduled (the run is deadlocked)."""
    h = H[0]
    interval, n_cal, mclk, t_mvm, record_span_at = gdc_par
    now = h[_H_NOW]
    st = gstate[j]
    if st[G_STARTED]:
        core = cores[j, C_CORE]
        start = now if now > mvm_free[core] else mvm_free[core]
        start = -(-start // mclk) * mclk
        end = start + n_cal * t_mvm
        mvm_free[core] = end
        n = h[_H_GDCN]
        if n == gdc_log.shape[0]:
            h[_H_STATUS] = _GDC_FULL
            return
        gdc_log[n, 0], gdc_log[n, 1], gdc_log[n, 2] = j, start, end
        gdc_log[n, 3] = cs[j, CS_NSPAN] - record_span_at[j]
        h[_H_GDCN] = n + 1
        k = st[G_K] + 1
        later = -(-end // interval)
        st[G_K] = k if k > later else later
    st[G_STARTED] = 1
    if not stopping and h[_H_N] == 0:
        _push(h, H[1], now, _NORMAL, _NOOP, 0)  # the daemon's end
        return
    t = st[G_K] * interval
    _push(h, H[1], t if t > now else now, _NORMAL, _RESUME, p)


@njit(cache=True, nogil=True, _nrt=False)
def _run(H, P, where, waiters, CAL, TR, T, D, HOST_, prm, GD, FD, AS, inf_start, gstate,
         gdc_log, gdc_par):
    """The event loop: serve the calendar in (time, priority, order) until the condition
    that every process has ended is served, as SimPy's ``run(until=...)``; the run's
    status."""
    h = H[0]
    sig, sig_free = P[3], P[4]
    proc = P[2]
    n_cores = T[0].shape[0]
    n_slices = GD[0].shape[0]
    n_stages = AS[7].shape[0]
    n_units = n_cores + n_slices  # then the stages, then the feeders
    n_procs = n_units + n_stages + FD[0].shape[0]
    attention_ps = prm[9]
    fs, ls = D[8], D[9]
    value_bits = prm[7]
    for p in range(n_procs):  # each process starts at time 0, in the order made
        _push(h, H[1], 0, _URGENT, _RESUME, p)
    for j in range(gstate.shape[0]):  # then the daemons
        _push(h, H[1], 0, _URGENT, _RESUME, n_procs + j)
    left = n_procs
    stopping = False
    while True:
        if h[_H_STATUS] != _DONE:
            return h[_H_STATUS]
        if h[_H_N] == 0:
            return _DEADLOCK
        t, kind, x = _pop(h, H[1])
        h[_H_NOW] = t
        if kind == _WAKE:
            _on_wake(H, P[0], P[1], proc, P[5], P[6], P[7], P[8], x)
            continue
        if kind == _END:  # a process's end: the last one fulfils the run's condition
            left -= 1
            if left == 0:
                stopping = True
                _push(h, H[1], t, _NORMAL, _STOP, 0)
            continue
        if kind == _STOP:
            return h[_H_STATUS]
        if kind == _NOOP:
            continue
        if kind == _RESUME:
            if x >= n_procs:
                _gdc_step(x - n_procs, x, H, T[0], D[0], D[3], gstate, gdc_log, gdc_par,
                          stopping)
                continue
            first = x
            one = True
        else:  # a signal: its waiters, in the order they came
            first = sig[x, 0]
            sig_free[h[_H_SIGTOP]] = x
            h[_H_SIGTOP] += 1
            one = False
        p = first
        while p != _NONE:
            nxt = _NONE if one else proc[p, Q_NEXT]
            if p < n_cores:
                done = _core_step(p, H, P, where, waiters, CAL, TR, T, D, HOST_, prm, GD)
            elif p < n_units:
                done = _gdpu_step(p - n_cores, p, H, P, where, waiters, CAL, TR, T, GD, HOST_,
                                  fs, ls, value_bits, prm[0], prm[1])
            elif p < n_units + n_stages:
                done = _stage_step(p - n_units, p, H, P, where, waiters, CAL, TR, AS, fs, ls,
                                   value_bits, prm[0], attention_ps)
            else:
                done = _feeder_step(p - n_units - n_stages, p, H, P, where, waiters, CAL, TR,
                                    FD, HOST_, T[2], T[3], inf_start, fs, ls, value_bits)
            if done == _ENDS:  # SimPy schedules the end of a process as an entry
                _push(h, H[1], h[_H_NOW], _NORMAL, _END, p)
            p = nxt


# ------------------------------------------------------------------------------ the tables
class _Tables:
    """Integer tables of a :class:`SimState` for :func:`_run` (ports, trees, processes)."""

    def __init__(self, st: SimState):
        self.st = st
        net = st.net
        self.links = list(net.links.values()) + [net.to_chip, net.from_chip]
        self.link_id = {id(lk): i for i, lk in enumerate(self.links)}
        self.ports: list = []
        self.port_id: dict[int, int] = {}
        for group in (st.inp, st.psum, st.act, st.res, st.unit_port, st.gdpu_port):
            for port in group.values():
                self.port_id[id(port)] = len(self.ports)
                self.ports.append(port)
        self.trees: list = []
        self.tree_id: dict[int, int] = {}
        self._sent_to: dict[tuple, tuple] = {}
        self.wins: list[tuple] = []
        # GDPU slices by number, each a row of the run's slice tables (its process's order)
        self.slices = sorted(set(st.plan.gdpu_of.values()))
        self.slice_row = {s: r for r, s in enumerate(self.slices)}
        self.win_at: dict[int, int] = {}
        self.win_len = 0

    def tree(self, tree: tuple) -> int:
        key = id(tree)
        if key not in self.tree_id:
            self.tree_id[key] = len(self.trees)
            self.trees.append(tree)
        return self.tree_id[key]

    def windows(self, edge) -> int:
        """Offset of edge ``edge``'s windows (``lo``, ``m`` by consumer vector)."""
        if edge.index not in self.win_at:
            lo, m = edge.windows()
            self.win_at[edge.index] = self.win_len
            self.wins.append((lo, m))
            self.win_len += len(lo)
        return self.win_at[edge.index]

    def build(self):
        st, plan, net, lat = self.st, self.st.plan, self.st.net, self.st.lat
        cores, needs, res, tmpls, sends, sp = [], [], [], [], [], []
        layer_ix = {name: j for j, name in enumerate(plan.layers)}
        for core in plan.cores:
            b = plan.blocks[core]
            lp = plan.layers[b.layer]
            infs, ks = lp.schedule(b.replica, st.n_inf)
            row = [0] * 21
            row[C_CHAIN] = _NONE
            row[C_CORE], row[C_VECS] = core, lp.vectors
            row[C_I0], row[C_I1], row[C_ISTEP] = infs.start, infs.stop, infs.step
            row[C_K0], row[C_K1] = ks.start, ks.stop
            row[C_MVMONLY] = int(lp.mvm_only)
            inp = st.inp.get(core)
            row[C_INP] = _NONE if inp is None else self.port_id[id(inp)]
            row[C_N0] = len(needs)
            for ei in lp.in_edges:
                e = plan.edges[ei]
                if not e.onchip:  # the host's feeder brings it
                    continue
                off, length = plan.line(ei, b.replica)
                needs.append((self.port_id[id(st.act[(core, ei)])],
                              int(e.kind == "recurrent"), length, off, self.windows(e)))
            row[C_N1] = len(needs)
            row[C_PSUM] = row[C_FIXED] = row[C_T0] = _NONE
            row[C_R0] = row[C_R1] = len(res)
            row[C_ROWS], row[C_COLS] = b.rows[1] - b.rows[0], b.cols[1] - b.cols[0]
            if not lp.mvm_only:
                chain, pos = plan.chain_of[core]
                row[C_CHAIN] = chain
                ch = plan.chains[chain]
                is_end = pos == len(ch.cores) - 1
                n = b.cols[1] - b.cols[0]
                row[C_N], row[C_SPAN] = n, lat.ldpu_span_ps(n)
                psum = st.psum.get(core)
                row[C_PSUM] = _NONE if psum is None else self.port_id[id(psum)]
                if is_end:
                    for ei in lp.res_edges:
                        e = plan.edges[ei]
                        res.append((self.port_id[id(st.res[(core, ei)])], e.delivered,
                                    self.windows(e)))
                row[C_R1] = len(res)
                if not is_end:
                    nxt = ch.cores[pos + 1]
                    row[C_FIXED] = len(tmpls)
                    self._template(core, (("psum", (nxt,), (st.psum[nxt],), n, lp.vectors, 0,
                                           False),), tmpls, sends, sp, layer_ix, lp)
                elif lp.gdpu:  # the gates to the chain's GDPU slice, which sends the output
                    gs = plan.gdpu_of[chain]
                    row[C_FIXED] = len(tmpls)
                    self._template(core, (("gdpu", (gdpu_node(gs),), (st.gdpu_port[gs],), n,
                                           lp.vectors, 0, False),), tmpls, sends, sp,
                                   layer_ix, lp)
                else:
                    row[C_T0] = len(tmpls)
                    for k in ks:
                        for ph in range(st.send_period):
                            self._template(core, st.send_template(chain, k, ph), tmpls, sends,
                                           sp, layer_ix, lp)
            cores.append(row)
        gdpu = self._gdpu(tmpls, sends, sp, layer_ix)
        feeders, feeds, fp, fwait, fres = [], [], [], [], []
        sequential = plan.transport is TransportMode.OFFCHIP
        for name in plan.order:
            lp = plan.layers[name]
            if not lp.host_input:
                continue
            host_in = [plan.edges[ei] for ei in lp.in_edges if not plan.edges[ei].onchip]
            host_res = [plan.edges[ei] for ei in lp.res_edges if not plan.edges[ei].onchip]
            for rep in range(lp.replicas):
                infs, ks = lp.schedule(rep, st.n_inf)
                f = [0] * 15
                f[F_LAYER], f[F_VECS] = layer_ix[name], lp.vectors
                f[F_I0], f[F_I1], f[F_ISTEP] = infs.start, infs.stop, infs.step
                f[F_K0], f[F_K1] = ks.start, ks.stop
                f[F_START] = int(not lp.in_edges)
                f[F_SEQ] = int(sequential and not lp.in_edges)
                f[F_W0] = len(fwait)
                fwait.extend((layer_ix[e.src], int(e.kind == "recurrent"))
                             for e in host_in + host_res)
                f[F_W1] = len(fwait)
                f[F_R0] = len(fres)
                for e in host_res:
                    for c in lp.chains[rep]:
                        ch = plan.chains[c]
                        end = ch.cores[-1]
                        tree = net.tree(HOST, (end,))
                        fres.append((self.port_id[id(st.res[(end, e.index)])], e.delivered,
                                     self.windows(e), ch.cols[1] - ch.cols[0], self.tree(tree),
                                     net.positions(tree)[0]))
                f[F_R1] = len(fres)
                f[F_E0] = len(feeds)
                si = plan.stage_of.get(name)
                groups = lp.row_groups[rep]
                if si is not None and plan.stages[si].edge is None:  # to the attention unit
                    stage = plan.stages[si]
                    tree = net.tree(HOST, (attention_node(stage.unit),))
                    fp.append((self.port_id[id(st.unit_port[si])], net.positions(tree)[0]))
                    feeds.append((self.tree(tree), stage.values_in, len(fp) - 1, len(fp)))
                    groups = ()
                for rows, group in groups:
                    tree = net.tree(HOST, group)
                    at = net.positions(tree)
                    p0 = len(fp)
                    fp.extend((self.port_id[id(st.inp[c])], x)
                              for c, x in zip(group, at, strict=True))
                    feeds.append((self.tree(tree), rows[1] - rows[0], p0, len(fp)))
                f[F_E1] = len(feeds)
                feeders.append(f)
        layers = []
        for name, lp in plan.layers.items():
            layers.append((lp.vectors, lp.vectors * len(lp.chains[0]),
                           int(name in plan.sinks and lp.to_host)))
        return (cores, needs, res, tmpls, sends, sp, feeders, feeds, fp, layers, fwait, fres,
                self._stages(), gdpu)

    def _gdpu(self, tmpls, sends, sp, layer_ix) -> tuple:
        """The GDPU slices' tables (:data:`G_COUNT` ...): per slice (in number order, as the
        processes are made) its gate vectors, its queue's first row and its input port; per
        chain that feeds one, its send templates from the slice (:meth:`SimState.
        send_template`, by vector index and phase, as a chain's last core has them)."""
        st, plan = self.st, self.st.plan
        count: dict[int, int] = {}
        gchains = [(0, 0, 1)] * len(plan.chains)
        for chain, gs in plan.gdpu_of.items():
            ch = plan.chains[chain]
            lp = plan.layers[ch.layer]
            count[gs] = count.get(gs, 0) + lp.count_vectors(ch.replica, st.n_inf)
            _, ks = lp.schedule(ch.replica, st.n_inf)
            gchains[chain] = (len(tmpls), ks.start, lp.vectors)
            for k in ks:
                for ph in range(st.send_period):
                    self._template(gdpu_node(gs), st.send_template(chain, k, ph), tmpls, sends,
                                   sp, layer_ix, lp)
        slices, fifo0 = [], 0
        for gs in self.slices:
            slices.append((count[gs], fifo0, self.port_id[id(st.gdpu_port[gs])]))
            fifo0 += count[gs]
        return slices, gchains

    def _stages(self) -> tuple:
        """The attention stages' tables (:data:`A_UNIT` ...): stages, destinations per
        replica, destination groups, their ports and positions, owners, durations."""
        st, plan = self.st, self.st.plan
        stages, adest, agrp, aq, owner, dur = [], [], [], [], [], []
        for stage in plan.stages:
            si = stage.index
            lp = plan.layers[stage.layer]
            attn = stage.attention
            stages.append((stage.unit, stage.vectors, int(attn is not None),
                           int(attn is not None and bool(attn[2])), int(stage.edge is None),
                           self.port_id[id(st.unit_port[si])], len(adest), len(owner),
                           len(dur)))
            for rep in range(lp.replicas):
                off, length = (0, 0) if stage.edge is None else plan.line(stage.edge, rep)
                g0 = len(agrp)
                for ports, n, tree, at in st.stage_dests(si, rep):
                    q0 = len(aq)
                    aq.extend((self.port_id[id(port)], x)
                              for port, x in zip(ports, at, strict=True))
                    agrp.append((q0, len(aq), n, self.tree(tree)))
                adest.append((g0, len(agrp), off, length))
            owner.extend(lp.owner(g) for g in range(st.n_inf * stage.vectors))
            dur.extend(st.stage_ps[si])
        return stages, adest, agrp, aq, owner, dur

    def _template(self, core, template, tmpls, sends, sp, layer_ix, lp):
        """Append the sends of one :meth:`SimState.send_template` of ``core``."""
        s0 = len(sends)
        for kind, dsts, ports, nv, mult, j, rec in template:
            tree, at, p0, p1 = self._destinations(core, dsts, ports, sp)
            if kind == "host":
                sends.append((K_HOST, 0, nv, mult, j, int(rec), tree, p0, p0,
                              layer_ix[lp.name], at))
                continue
            if kind == "gdpu":
                gs = self.st.plan.gdpu_of[self.st.plan.chain_of[core][0]]
                sends.append((K_GDPU, 1, nv, mult, j, int(rec), tree, p0, p1,
                              self.slice_row[gs], at))
                continue
            sends.append((K_DATA, int(kind in ("psum", "gdpu")), nv, mult, j, int(rec), tree,
                          p0, p1, 0, 0))
        tmpls.append((s0, len(sends)))

    def _destinations(self, core, dsts: tuple, ports: tuple, sp: list) -> tuple:
        """The tree id of a send from ``core`` to ``dsts``, the host's position in it, and the
        rows ``[p0, p1)`` of ``sp`` that hold the ``(port id, position)`` of each of ``ports``
        (the same sends recur: written once)."""
        key = (core, dsts, ports)
        hit = self._sent_to.get(key)
        if hit is None:
            tree = self.st.net.tree(core, dsts)
            at = self.st.net.positions(tree)
            p0 = len(sp)
            sp.extend((self.port_id[id(p)], x) for p, x in zip(ports, at, strict=False))
            hit = self._sent_to[key] = (self.tree(tree), at[0], p0, len(sp))
        return hit


def _table(size: int) -> np.ndarray:
    """An empty hash table of ``size`` slots (:func:`_slot`)."""
    table = np.full((2, size + 1), _EMPTY, dtype=np.int64)
    table[0, size] = 0
    return table


def _aligned(rows: int, width: int) -> np.ndarray:
    """A zeroed int64 array of ``rows`` × ``width`` whose first row starts on a 64-byte cache
    line."""
    buf = np.zeros(rows * width + 8, dtype=np.int64)
    skip = (-buf.ctypes.data) % 64 // 8
    return buf[skip:skip + rows * width].reshape(rows, width)


def _int_table(rows, width: int) -> np.ndarray:
    """``rows`` of ``width`` integers as an int64 array (``(0, width)`` for none)."""
    return np.array(rows, dtype=np.int64).reshape(-1, width)


def run_compiled(st: SimState) -> bool:
    """Run ``st`` compiled and leave its counters, ports, links and
    inference times as the SimPy run would; False (``st`` untouched) when the run deadlocks or
    still overflows a table at 256 times its first size (the GDC log: at
    :data:`_GDC_ROWS_MAX` rows): then run it on SimPy.

    The tables of vectors in flight, waiters and calendar entries start small (they then
    stay in the cache) and grow sixteenfold for a run that fills one, which starts again from
    the beginning. Two grow alone: the links' calendar rows (fourfold; a slow chip-to-chip
    link may hold thousands of bookings, one row per link) and the log of GDC calibrations,
    whose length grows with the simulated time (sequential off-chip inferences calibrate
    often)."""
    tb = _Tables(st)
    tables = tb.build()
    scale, bookings, gdc_rows = 1, 256, 1024
    while scale <= 256 and bookings <= _BOOKINGS_MAX and gdc_rows <= _GDC_ROWS_MAX:
        status, got = _attempt(st, tb, tables, scale, bookings, gdc_rows)
        if status == _DONE:
            _fill(st, tb, *got)
            return True
        if status == _DEADLOCK:
            return False
        if status == _GDC_FULL:
            gdc_rows *= 16
        elif status == _CAL_FULL:
            bookings *= 4
        else:
            scale *= 16
    return False


#: the longest GDC log of a compiled run (rows of 32 bytes: 128 MiB)
_GDC_ROWS_MAX = 1 << 22
#: the most bookings a link's calendar row holds
_BOOKINGS_MAX = 1 << 16


def _attempt(st: SimState, tb: _Tables, tables: tuple, scale: int, bookings: int,
             gdc_rows: int) -> tuple[int, tuple]:
    """One compiled run with tables ``scale`` times their first size, link calendar rows of
    ``bookings`` and a GDC log of ``gdc_rows`` calibrations: its status and what
    :func:`_fill` needs."""
    (cores, needs, res, tmpls, sends, sp, feeders, feeds, fp, layers, fwait, fres,
     (stages, adest, agrp, aq, owner, dur), (slices, gchains)) = tables
    plan, cfg, lat, n_inf = st.plan, st.cfg, st.lat, st.n_inf
    # ports
    pt = np.zeros((max(len(tb.ports), 1), 5), dtype=np.int64)
    ring = pend = 0
    for j, port in enumerate(tb.ports):
        cap = _NONE if port.capacity is None else port.capacity
        pt[j] = (int(port.window), cap, port.pieces, ring, pend)
        if port.window:
            ring += cap
        elif cap != _NONE:
            pend += cap
    slots = 4096 * scale
    items = np.full((ring + slots, 6), _NONE - 1, dtype=np.int64)
    free_rows = np.arange(ring + slots - 1, ring - 1, -1, dtype=np.int64)
    pd = np.zeros((len(pt), 14), dtype=np.int64)
    pd[:, [D_WAKE, D_CWH, D_CWT, D_KWH]] = _NONE
    n_procs = len(cores) + len(slices) + len(stages) + len(feeders)
    proc = np.zeros((max(n_procs, 1), 5), dtype=np.int64)
    n_sig = (4 * n_procs + 16) * scale
    sig = np.zeros((n_sig, 2), dtype=np.int64)
    sig_free = np.arange(n_sig, dtype=np.int64)
    heap = (16 * (n_procs + len(pt)) + 1024) * scale
    h = np.zeros(7, dtype=np.int64)
    h[_H_SIGTOP], h[_H_SLOTTOP] = n_sig, slots
    H = (h, _aligned(heap + 1, 4))
    P = (pt, pd, proc, sig, sig_free, np.zeros(max(pend, 1), np.int64),
         np.zeros(len(pt) * _ADV, np.int64), np.zeros(len(pt) * _ADV, np.int64), items,
         free_rows)
    where = _table(2 * slots)
    waiters = _table(max(64, 1 << (2 * n_sig - 1).bit_length()))
    cal = Calendars(np.array([lk.value_ps for lk in tb.links]),
                    np.array([lk.latency_ps for lk in tb.links]), capacity=bookings)
    CAL = (cal.starts, cal.ends, cal.head, cal.size, cal.busy_ps, cal.peak, cal.last_end,
           cal.value_ps, cal.latency_ps)
    tl_link, tl_feeder, trees = [], [], []
    for tree in tb.trees:
        trees.append((len(tl_link), len(tl_link) + len(tree[0])))
        tl_link.extend(tb.link_id[id(lk)] for lk in tree[0])
        tl_feeder.extend(par + 1 for par in tree[1])
    TR = (_int_table(trees, 2), np.array(tl_link, dtype=np.int64),
          np.array(tl_feeder, dtype=np.int64), np.zeros((max(len(trees), 1), 2), np.int64))
    win_lo = np.array([x for lo, _ in tb.wins for x in lo] or [0], dtype=np.int64)
    win_m = np.array([x for _, m in tb.wins for x in m] or [0], dtype=np.int64)
    spt = _int_table(sp, 2) if sp else np.zeros((1, 2), np.int64)
    T = (_int_table(cores, 21), _int_table(needs, 5), win_lo, win_m, _int_table(res, 3),
         _int_table(tmpls, 2), _int_table(sends, 11), spt[:, 0].copy(), spt[:, 1].copy())
    # per core: its vectors' spans and MVM starts
    counts = []
    for core in plan.cores:
        b = plan.blocks[core]
        counts.append(plan.layers[b.layer].count_vectors(b.replica, n_inf))
    span_at = np.concatenate([[0], np.cumsum([4 * c for c in counts])]).astype(np.int64)
    start_at = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    cs = np.zeros((len(cores), 27), dtype=np.int64)
    cs[:, CS_DFIRST] = _NONE
    cs[:, CS_DLAST] = -1
    cs[:, CS_NSPAN] = span_at[:-1]
    cs[:, CS_NSTART] = start_at[:-1]
    record = bool(cfg.timeline)
    widest = max([len(t[0]) for t in tb.trees] or [0]) + 1
    D = (cs, np.zeros(max(len(needs), 1), np.int64), np.zeros(max(len(needs), 1), np.int64),
         np.zeros(st.chip.n_cores, np.int64), np.zeros(max(int(span_at[-1]), 1), np.int64),
         np.zeros(max(int(start_at[-1]), 1), np.int64),
         np.zeros((2 * int(start_at[-1]) if record else 1, 4), np.int64),
         np.zeros(1, np.int64), np.zeros(widest, np.int64), np.zeros(widest, np.int64))
    ly = _int_table(layers, 3)
    inf_time = np.full(n_inf, _NONE, dtype=np.int64)
    sinks = len(plan.sinks) if any(plan.layers[s].to_host for s in plan.sinks) else 0
    HOST_ = (ly, np.zeros((len(ly), n_inf), np.int64), np.zeros((len(ly), n_inf), np.int64),
             np.full(n_inf, sinks, dtype=np.int64), inf_time,
             np.full((len(ly), n_inf), _NONE, np.int64), np.full(n_inf, _NONE, np.int64),
             np.zeros(n_inf, np.int64))
    prm = (n_inf, st.send_period, lat.mvm_clock_ps, lat.mvm_ps, lat.digital_ps,
           lat.ldpu_depth_ps, lat.ldpu_value_ps(), lat.value_bits, int(record),
           lat.attention_ps)
    fpt = _int_table(fp, 2) if fp else np.zeros((1, 2), np.int64)
    inf_start = np.full(n_inf, _NONE, dtype=np.int64)
    daemons = len(cores) if cfg.gdc_interval_us is not None else 0
    gstate = np.zeros((daemons, 2), dtype=np.int64)
    gstate[:, G_K] = 1
    gdc_log = np.zeros((gdc_rows if daemons else 1, 4), dtype=np.int64)
    interval = max(1, round(cfg.gdc_interval_us * 1e6)) if daemons else 1
    gdc_par = (interval, st.chip.core.gdc_calibration_mvms, lat.mvm_clock_ps, lat.mvm_ps,
               span_at)
    tokens = n_inf * sum(stage.vectors for stage in plan.stages)
    alog, alog_n = np.zeros((max(tokens, 1), 5), np.int64), np.zeros(1, np.int64)
    aqt = _int_table(aq, 2) if aq else np.zeros((1, 2), np.int64)
    AS = (_int_table(stages, 9),
          _int_table(adest, 4) if adest else np.zeros((1, 4), np.int64),
          _int_table(agrp, 4) if agrp else np.zeros((1, 4), np.int64),
          aqt[:, 0].copy(), aqt[:, 1].copy(), np.array(owner or [0], np.int64),
          np.array(dur or [0], np.int64), np.zeros((len(stages), 10), np.int64),
          np.zeros(max(len(st.unit_free), 1), np.int64), alog, alog_n)
    # the GDPU slices: their states, queues and log of gate vectors
    gates = max(sum(sl[G_COUNT] for sl in slices), 1)
    glog, glog_n = np.zeros((gates, 6), np.int64), np.zeros(1, np.int64)
    gd_state = np.zeros((len(slices), 9), np.int64)
    gd_state[:, GS_SIG] = _NONE
    GD = (_int_table(slices, 3), _int_table(gchains, 3) if gchains else np.zeros((1, 3), np.int64),
          gd_state, np.zeros((gates, 5), np.int64), glog, glog_n,
          np.array([lat.digital_ps, lat.gdpu_in_ps, lat.gdpu_out_ps, lat.gdpu_depth_ps],
                   np.int64))
    status = _run(H, P, where, waiters, CAL, TR, T, D, HOST_, prm, GD,
                  (_int_table(feeders, 15), _int_table(feeds, 4), fpt[:, 0].copy(),
                   fpt[:, 1].copy(), np.zeros((max(len(feeders), 1), 10), np.int64),
                   _int_table(fwait, 2) if fwait else np.zeros((1, 2), np.int64),
                   _int_table(fres, 6) if fres else np.zeros((1, 6), np.int64),
                   np.zeros(max(len(fres), 1), np.int64)),
                  AS, inf_start, gstate, gdc_log, gdc_par)
    gdc = gdc_log[:H[0][_H_GDCN]]
    return status, (cores, cs, D, span_at, start_at, cal, TR, pd, inf_time, inf_start, record,
                    gdc, alog[:alog_n[0]], glog[:glog_n[0]])


#: the timeline's actions by their number in the run's records (0, 1) and the GDC log (2)
_ACTIONS = np.array(["mvm", "ldpu", "gdc"], dtype=object)


def _timeline(records: np.ndarray, gdc: np.ndarray, core_of: np.ndarray) -> list[tuple]:
    """The timeline entries ``(core, start, end, action)`` of the run's records (rows
    ``(core, start, end, 0: mvm / 1: ldpu)``) and its GDC calibrations (rows ``(process,
    start, end, ...)``), in the order Python sorts such tuples (sorted here as arrays: the
    caller's ``sorted`` then finds them in order, and a long run's timeline is not compared
    tuple by tuple)."""
    core = np.concatenate([records[:, 0], core_of[gdc[:, 0]]])
    start = np.concatenate([records[:, 1], gdc[:, 1]])
    end = np.concatenate([records[:, 2], gdc[:, 2]])
    action = np.concatenate([records[:, 3], np.full(len(gdc), 2, np.int64)])
    rank = np.array([2, 1, 0])[action]  # "gdc" < "ldpu" < "mvm"
    order = np.lexsort((rank, end, start, core))
    return list(zip(core[order].tolist(), start[order].tolist(), end[order].tolist(),
                    _ACTIONS[action[order]].tolist(), strict=True))


def _q_array(values: np.ndarray) -> array:
    """``values`` (int64) as an ``array("q")``, copied as bytes."""
    out = array("q")
    out.frombytes(values.tobytes())
    return out


def _fill(st, tb, cores, cs, D, span_at, start_at, cal, TR, pd, inf_time, inf_start, record,
          gdc, tokens, gates):
    """Leave the compiled run's results in ``st`` as the SimPy processes leave theirs."""
    cnt, chip, lat = st.count, st.chip, st.lat
    spans, starts_out, timeline, tl_n = D[4], D[5], D[6], D[7]
    phases = chip.core.phases
    n_cal = chip.core.gdc_calibration_mvms
    calibrations: list[list] = [[] for _ in cores]  # per core: (own spans before, start, end)
    for j, start, end, before in gdc.tolist():
        calibrations[j].append((before, start, end))
        cnt.gdc_spans.append((start, end))
    for ci, row in enumerate(cores):
        core = row[C_CORE]
        done = int(cs[ci, CS_DONE])
        rows, cols = row[C_ROWS], row[C_COLS]
        cnt.mvms[core] += done
        cnt.ops[core] += done * 2 * rows * cols
        cnt.pwm_row_phases[core] += done * rows * phases
        cnt.array_cell_phases[core] += done * rows * cols * phases
        cnt.adc_conversions[core] += done * chip.core.cols * phases
        cnt.mvm_busy_ps[core] += done * lat.mvm_ps
        own = spans[span_at[ci]:cs[ci, CS_NSPAN]]
        if calibrations[ci]:  # the daemon's spans where they came among the core's own
            merged, at = [], 0
            for before, start, end in calibrations[ci]:
                merged += own[at:before].tolist() + [start, end]
                at = before
                cnt.gdc_mvms[core] += n_cal
                cnt.pwm_row_phases[core] += n_cal * rows * phases
                cnt.array_cell_phases[core] += n_cal * rows * cols * phases
                cnt.adc_conversions[core] += n_cal * chip.core.cols * phases
                cnt.mvm_busy_ps[core] += end - start
            cnt.spans[core] = array("q", merged + own[at:].tolist())
        else:
            cnt.spans[core] = _q_array(own)
        cnt.mvm_starts[core] = _q_array(starts_out[start_at[ci]:cs[ci, CS_NSTART]])
        if not row[C_MVMONLY] and done:
            cnt.ldpu_values[core] += done * row[C_N]
            cnt.ldpu_busy_ps[core] += int(cs[ci, CS_BUSY])
            cnt.digital[core] = True
            cnt.digital_span(int(cs[ci, CS_DFIRST]), int(cs[ci, CS_DLAST]))
    if record:
        cnt.timeline = _timeline(timeline[:tl_n[0]], gdc,
                                 np.array([r[C_CORE] for r in cores], dtype=np.int64))
    for j, start, end, last, n_in, n_out in gates.tolist():  # the GDPU slices' work, in order
        s = tb.slices[j]
        cnt.gdpu_inputs[s] += n_in
        cnt.gdpu_outputs[s] += n_out
        cnt.gdpu_busy_ps[s] += end - start
        cnt.gdpu_busy[s].add(start, end)
        cnt.digital_span(start, last)
    stages = st.plan.stages
    for j, k, start, end, last in tokens.tolist():  # the attention units' work, in order
        stage = stages[j]
        u, w = stage.unit, stage.work[k]
        cnt.unit_vectors[u] += 1
        cnt.unit_macs[u] += w.macs
        cnt.unit_ops[u] += w.ops
        cnt.unit_bytes[u] += w.memory_bytes
        cnt.unit_busy[u].add(start, end)
        cnt.digital_span(start, last)
    tree_sent = TR[3]
    for j, tree in enumerate(tb.trees):
        n, bits = int(tree_sent[j, 0]), int(tree_sent[j, 1])
        if n:
            for lk in tree[0]:
                lk.transfers += n
                lk.bits += bits
    for j, lk in enumerate(tb.links):
        lk.busy_ps = int(cal.busy_ps[j])
        lk.peak_queue = int(cal.peak[j])
        lk._starts[:], lk._ends[:] = cal.bookings(j)
        lk._last_end = int(cal.last_end[j])
    for j, port in enumerate(tb.ports):
        port.values = int(pd[j, D_VALUES])
        port.peak = int(pd[j, D_PEAK])
    st.inf_time = [None if v == _NONE else int(v) for v in inf_time.tolist()]
    st.inf_start = [None if v == _NONE else int(v) for v in inf_start.tolist()]
