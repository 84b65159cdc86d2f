#!/usr/bin/env python3
"""Hand computation of Burstprop's and EDN's training steps on tiny networks, in plain Python
(double precision, no libraries), straight from REFERENCE.md §6.2 and §7.3-7.4 and written
without looking at the Rust engine. tests/burstprop.rs and tests/edn.rs embed what this prints.

Run: python3 tests/reference/comparison_models.py
"""

import math


def sig(z):
    return 1.0 / (1.0 + math.exp(-z))


def matvec(m, x):
    """m: rows of weights (n_out lists of n_in); x: n_in values -> n_out values."""
    return [sum(w * v for w, v in zip(row, x)) for row in m]


def vecmat(z, m):
    """z (n_rows values) times m (n_rows x n_cols) -> n_cols values."""
    return [sum(z[i] * m[i][j] for i in range(len(z))) for j in range(len(m[0]))]


def show(name, values):
    flat = []
    for v in values:
        if isinstance(v, list):
            flat.extend(v)
        else:
            flat.append(v)
    print(f"{name}: [{', '.join(f'{v:.9f}' for v in flat)}]")


# --------------------------------------------------------------------- Burstprop (§6.2)
# 2-3-2, one sample per step, batch_size (B_cfg) 2, recurrent input on the hidden layer,
# Y learning, momentum and the authors' weight decay; two steps (the second uses momentum).

def burstprop():
    print("# Burstprop 2-3-2: p_b 0.2, lr 0.1, lr_recurrent 0.05, momentum 0.5, weight_decay 0.01, B_cfg 2")
    pb, lr, lr_r, mu, lam, b_cfg = 0.2, 0.1, 0.05, 0.5, 0.01, 2.0
    w1 = [[0.1, -0.2], [0.4, 0.3], [-0.5, 0.6]]
    c1 = [0.0, 0.1, -0.1]
    w2 = [[0.7, -0.3, 0.2], [-0.4, 0.5, 0.9]]
    c2 = [0.05, -0.05]
    y2 = [[0.3, -0.6, 0.1], [0.2, 0.4, -0.5]]  # carries layer 2's bursts down to layer 1
    r1 = [[0.02, -0.01, 0.03], [0.01, 0.04, -0.02], [-0.03, 0.02, 0.01]]
    vel = {"w1": [[0.0] * 2 for _ in range(3)], "c1": [0.0] * 3, "w2": [[0.0] * 3 for _ in range(2)],
           "c2": [0.0] * 2, "y2": [[0.0] * 3 for _ in range(2)]}
    samples = [([0.5, 1.0], 1), ([0.9, 0.2], 0)]
    for step, (x, label) in enumerate(samples):
        e1 = [sig(v + c) for v, c in zip(matvec(w1, x), c1)]
        e2 = [sig(v + c) for v, c in zip(matvec(w2, e1), c2)]
        t = [1.0 if j == label else 0.0 for j in range(2)]
        # Output: baseline p̄ = p_b, teacher p = p_b((t − e)(1 − e) + 1).
        p2 = [pb * ((tj - ej) * (1 - ej) + 1) for tj, ej in zip(t, e2)]
        bbar2 = [pb * ej for ej in e2]
        b2 = [pj * ej for pj, ej in zip(p2, e2)]
        d2 = [bt - bb for bt, bb in zip(b2, bbar2)]
        # Hidden: a = b̄ Y, aᵗ = b Y; r = σ(a)e; ū = a(1−e) − r Rᵀ; uᵗ = aᵗ(1−e) − r Rᵀ.
        a1 = vecmat(bbar2, y2)
        at1 = vecmat(b2, y2)
        r = [sig(a) * e for a, e in zip(a1, e1)]
        rr = matvec(r1, r)  # (r Rᵀ)_i = Σ_j R_ij r_j
        ubar1 = [a * (1 - e) - c for a, e, c in zip(a1, e1, rr)]
        ut1 = [a * (1 - e) - c for a, e, c in zip(at1, e1, rr)]
        pbar1 = [sig(u) for u in ubar1]
        p1 = [sig(u) for u in ut1]
        d1 = [(pt - p0) * e for pt, p0, e in zip(p1, pbar1, e1)]
        if step == 0:
            show("e1", e1)
            show("e2", e2)
            show("p2 (teacher)", p2)
            show("a1 (baseline input)", a1)
            show("r1 (provisional burst rate)", r)
            show("ubar1", ubar1)
            show("ut1", ut1)
            show("pbar1", pbar1)
            show("p1 (teacher)", p1)
            show("delta1", d1)
        # Plasticity: ΔW ← η δᵀx/B_cfg + μ ΔW; W ← W + ΔW − λW; Δc ← η Σδ/B_cfg + μ Δc; c += Δc.
        for i in range(3):
            for j in range(2):
                vel["w1"][i][j] = lr * d1[i] * x[j] / b_cfg + mu * vel["w1"][i][j]
                w1[i][j] += vel["w1"][i][j] - lam * w1[i][j]
            vel["c1"][i] = lr * d1[i] / b_cfg + mu * vel["c1"][i]
            c1[i] += vel["c1"][i]
        for i in range(2):
            for j in range(3):
                g = lr * d2[i] * e1[j] / b_cfg
                vel["w2"][i][j] = g + mu * vel["w2"][i][j]
                w2[i][j] += vel["w2"][i][j] - lam * w2[i][j]
                # Y learning: the same update as W, its own momentum and decay.
                vel["y2"][i][j] = g + mu * vel["y2"][i][j]
                y2[i][j] += vel["y2"][i][j] - lam * y2[i][j]
            vel["c2"][i] = lr * d2[i] / b_cfg + mu * vel["c2"][i]
            c2[i] += vel["c2"][i]
        # R += η_r ūᵀ r (a sum over the batch, here one sample): R_ij += η_r ū_i r_j.
        for i in range(3):
            for j in range(3):
                r1[i][j] += lr_r * ubar1[i] * r[j]
        show(f"step {step + 1} W1", w1)
        show(f"step {step + 1} b1", c1)
        show(f"step {step + 1} W2", w2)
        show(f"step {step + 1} b2", c2)
        show(f"step {step + 1} Y", y2)
        show(f"step {step + 1} R", r1)


# --------------------------------------------------------------------- EDN (§7.3-7.4)
# 2-3-2, one sample per step, λ_out 0.2, λ_int 0.3, λ_hid 0.4, lr 0.1, η_PI = η_IP = 0.2,
# momentum 0.5, weight decay 0.01; two steps.

def edn():
    print("# EDN 2-3-2: lambda_output 0.2, lambda_interneuron 0.3, lambda_hidden 0.4, lr 0.1, lr_interneuron 0.2, momentum 0.5, weight_decay 0.01")
    lo, li, lh, lr, lri, mu, lam = 0.2, 0.3, 0.4, 0.1, 0.2, 0.5, 0.01
    w1 = [[0.1, -0.2], [0.4, 0.3], [-0.5, 0.6]]
    c1 = [0.0, 0.1, -0.1]
    w2 = [[0.7, -0.3, 0.2], [-0.4, 0.5, 0.9]]
    c2 = [0.05, -0.05]
    y1 = [[0.3, -0.6, 0.1], [0.2, 0.4, -0.5]]  # pyramids of layer 2 -> apical dendrites of layer 1
    w_pi = [[0.6, -0.2, 0.3], [-0.3, 0.45, 0.8]]  # layer 1 pyramids -> interneurons
    c_pi = [0.02, -0.04]
    w_ip = [[0.25, -0.5, 0.15], [0.1, 0.35, -0.45]]  # interneurons -> layer 1 apical dendrites
    m = {"w1": [[0.0] * 2 for _ in range(3)], "c1": [0.0] * 3, "w2": [[0.0] * 3 for _ in range(2)], "c2": [0.0] * 2}
    samples = [([0.5, 1.0], 1), ([0.9, 0.2], 0)]
    for step, (x, label) in enumerate(samples):
        v1 = [v + c for v, c in zip(matvec(w1, x), c1)]
        e1 = [sig(v) for v in v1]
        v2 = [v + c for v, c in zip(matvec(w2, e1), c2)]
        e2 = [sig(v) for v in v2]
        vi = [v + c for v, c in zip(matvec(w_pi, e1), c_pi)]
        # Output nudged towards logit(0.2 + 0.6 t).
        target = [math.log(s / (1 - s)) for s in [0.2 + 0.6 * (1.0 if j == label else 0.0) for j in range(2)]]
        vt2 = [(1 - lo) * v + lo * tv for v, tv in zip(v2, target)]
        et2 = [sig(v) for v in vt2]
        # Interneurons nudged towards the layer above's nudged potentials.
        ri = [sig((1 - li) * a + li * b) for a, b in zip(vi, vt2)]
        apical = [p - q for p, q in zip(vecmat(et2, y1), vecmat(ri, w_ip))]
        vt1 = [v + lh * a for v, a in zip(v1, apical)]
        et1 = [sig(v) for v in vt1]
        d1 = [a - b for a, b in zip(et1, e1)]
        d2 = [a - b for a, b in zip(et2, e2)]
        if step == 0:
            show("v1", v1)
            show("e1", e1)
            show("e2", e2)
            show("interneuron potential", vi)
            show("vt2", vt2)
            show("et2", et2)
            show("interneuron rate", ri)
            show("apical", apical)
            show("et1", et1)
        # Pyramids: g = −δᵀx/B (B = 1); m ← μ m + g; W ← W − η m − λW; c likewise (decays too).
        for i in range(3):
            for j in range(2):
                m["w1"][i][j] = mu * m["w1"][i][j] - d1[i] * x[j]
                w1[i][j] += -lr * m["w1"][i][j] - lam * w1[i][j]
            m["c1"][i] = mu * m["c1"][i] - d1[i]
            c1[i] += -lr * m["c1"][i] - lam * c1[i]
        for i in range(2):
            for j in range(3):
                m["w2"][i][j] = mu * m["w2"][i][j] - d2[i] * e1[j]
                w2[i][j] += -lr * m["w2"][i][j] - lam * w2[i][j]
            m["c2"][i] = mu * m["c2"][i] - d2[i]
            c2[i] += -lr * m["c2"][i] - lam * c2[i]
        # Interneurons (no momentum, no decay): W^PI += η (rᴵ − σ(vᴵ))ᵀ eᵗ_1 (the nudged rate);
        # c^PI += η (rᴵ − σ(vᴵ)); W^IP += η rᴵᵀ a.
        dpi = [r - sig(v) for r, v in zip(ri, vi)]
        for i in range(2):
            for j in range(3):
                w_pi[i][j] += lri * dpi[i] * et1[j]
                w_ip[i][j] += lri * ri[i] * apical[j]
            c_pi[i] += lri * dpi[i]
        show(f"step {step + 1} W1", w1)
        show(f"step {step + 1} b1", c1)
        show(f"step {step + 1} W2", w2)
        show(f"step {step + 1} b2", c2)
        show(f"step {step + 1} W_PI", w_pi)
        show(f"step {step + 1} c_PI", c_pi)
        show(f"step {step + 1} W_IP", w_ip)


if __name__ == "__main__":
    burstprop()
    print()
    edn()
