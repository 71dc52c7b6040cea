"""The Rosenbrock integrator of nonlinear PK models, compiled (see
:class:`her2sim.trials.pk._Nonlinear`).

ROS4 of Hairer & Wanner (Solving ODEs II, 1996; coefficients as in the Kinetic PreProcessor):
4 stages, order 4, L-stable, with an embedded order-3 error estimate. Each patient is integrated
with its own step size, controlled by its largest scaled error, so a patient's concentrations do
not depend on who else is in the batch. The flows are the linear ones of a matrix per patient
plus Michaelis-Menten elimination from the central compartment and saturable transfer to the
first peripheral (and back, when the model has no first-order return).

Compiled, a step of a three-compartment model costs about 0.3 us; the NumPy version it replaced
made some 40 array calls a step, which all patients had to share.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GAMMA = 0.5728200000000000
_A = np.array([[0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [1.867943637803922, 0.2344449711399156, 0.0],
               [1.867943637803922, 0.2344449711399156, 0.0]])  # fmt: skip
_C = np.array([[0.0, 0.0, 0.0], [-7.137615036412310, 0.0, 0.0], [2.580708087951457, 0.6515950076447975, 0.0],
               [-2.137148994382534, -0.3214669691237626, -0.6949742501781779]])  # fmt: skip
_M = np.array([2.255570073418735, 0.2870493262186792, 0.4353179431840180, 1.093502252409163])
_E = np.array([-0.2815431932141155, -0.07276199124938920, -0.1082196201495311, -1.093502252409163])


@njit(cache=True, inline="always")
def _flow(f, jac, with_jac, source, target, rate, slope):
    """Move ``rate`` from compartment ``source`` to ``target`` (-1: out of the body)."""
    f[source] -= rate
    if with_jac:
        jac[source, source] -= slope
    if target >= 0:
        f[target] += rate
        if with_jac:
            jac[target, source] += slope


@njit(cache=True, inline="always")
def _rhs(i, y, f, jac, with_jac, linear, params, layout, rate, with_rate):
    """d(amounts)/dt of patient ``i`` at ``y`` into ``f``; its Jacobian into ``jac`` when asked.

    ``params`` rows: V1, V2, Vmax, Km, Vmax_tr, Km_tr (NaN where the model has none);
    ``layout``: central, first peripheral (-1: none), saturable return (1/0); ``rate`` is
    read only ``with_rate`` (an infusion running)."""
    size = y.shape[0]
    for a in range(size):
        total = 0.0
        for b in range(size):
            total += linear[i, a, b] * y[b]
        f[a] = total
        if with_jac:
            for b in range(size):
                jac[a, b] = linear[i, a, b]
    central, p1 = layout[0], layout[1]
    v1 = params[0, i]
    c = max(y[central], 0.0) / v1
    vm, km = params[2, i], params[3, i]
    if not np.isnan(vm):
        _flow(f, jac, with_jac, central, -1, vm * c / (km + c), vm * km / (km + c) ** 2 / v1)
    vm, km = params[4, i], params[5, i]
    if not np.isnan(vm) and p1 >= 0:
        _flow(f, jac, with_jac, central, p1, vm * c / (km + c), vm * km / (km + c) ** 2 / v1)
        if layout[2]:
            v2 = params[1, i]
            c1 = max(y[p1], 0.0) / v2
            _flow(f, jac, with_jac, p1, central, vm * c1 / (km + c1), vm * km / (km + c1) ** 2 / v2)
    if with_rate:
        f[central] += rate[i]


@njit(cache=True, inline="always")
def _solve(lu, b, x):
    """Solve ``(L U) x = b`` (unit lower L and U stored together, no pivoting)."""
    size = b.shape[0]
    for a in range(size):
        x[a] = b[a]
    for a in range(1, size):
        total = 0.0
        for k in range(a):
            total += lu[a, k] * x[k]
        x[a] -= total
    for a in range(size - 1, -1, -1):
        total = 0.0
        for k in range(a + 1, size):
            total += lu[a, k] * x[k]
        x[a] = (x[a] - total) / lu[a, a]


@njit(cache=True, inline="always")
def _step(i, y, h, linear, params, layout, rate, with_rate, atol, rtol, work):
    """One ROS4 step of patient ``i`` into ``work``'s last array; returns its largest scaled error."""
    size = y.shape[1]
    f, jac, lu, stages, point, rhs, y_new = work
    _rhs(i, y[i], f, jac, True, linear, params, layout, rate, with_rate)
    # I/(h gamma) - J, factorised in place without pivoting (I - gamma h J of a compartment
    # model is diagonally dominant by columns, so elimination without pivoting is stable)
    for a in range(size):
        for b in range(size):
            lu[a, b] = (1.0 / (h * _GAMMA) if a == b else 0.0) - jac[a, b]
    for k in range(size - 1):
        for a in range(k + 1, size):
            lu[a, k] /= lu[k, k]
        for a in range(k + 1, size):
            for b in range(k + 1, size):
                lu[a, b] -= lu[a, k] * lu[k, b]
    for s in range(4):
        if 0 < s < 3:  # stage 4 reuses stage 3's derivative
            for a in range(size):
                total = 0.0
                for j in range(s):
                    total += _A[s, j] * stages[j, a]
                point[a] = y[i, a] + total
            _rhs(i, point, f, jac, False, linear, params, layout, rate, with_rate)
        for a in range(size):
            total = 0.0
            for j in range(s):
                total += (_C[s, j] / h) * stages[j, a]
            rhs[a] = f[a] + total
        _solve(lu, rhs, stages[s])
    error = 0.0
    for a in range(size):
        step = 0.0
        estimate = 0.0
        for j in range(4):
            step += _M[j] * stages[j, a]
            estimate += _E[j] * stages[j, a]
        y_new[a] = y[i, a] + step
        scale = atol + rtol * max(abs(y[i, a]), abs(y_new[a]))
        error = max(error, abs(estimate) / scale)
    return error


@njit(cache=True)
def advance(y, dt, h, linear, params, layout, rate, with_rate, atol, rtol):
    """Advance every patient's amounts ``y`` (patients x compartments, in place) by ``dt`` days,
    each patient from its own proposed step ``h[i]`` (updated in place) with its own absolute
    tolerance ``atol[i]``; ``rate`` (per patient) flows into the central compartment when
    ``with_rate``."""
    n, size = y.shape
    work = (np.empty(size), np.empty((size, size)), np.empty((size, size)), np.empty((4, size)),
            np.empty(size), np.empty(size), np.empty(size))  # fmt: skip
    y_new = work[-1]
    for i in range(n):
        t, proposed = 0.0, h[i]
        while dt - t > 1e-12 * dt:
            step = min(proposed, dt - t)  # a step cut short to land on dt does not shrink the next one
            error = _step(i, y, step, linear, params, layout, rate, with_rate, atol[i], rtol, work)
            grow = min(6.0, max(0.2, 0.9 * error**-0.25)) if error > 0 else 6.0
            if error <= 1.0:
                t += step
                for a in range(size):
                    y[i, a] = y_new[a]
                proposed = max(proposed, step * grow) if step < proposed else step * grow
            else:
                proposed = step * min(grow, 1.0)
        h[i] = proposed
