#!/usr/bin/env python3
"""Coefficients of VectorAngles (src/Pipeline.Driving/Geometry/VectorAngles.cs): atan(t) = t + t z P(z), z = t^2,
|t| <= tan(pi/8), with P of degree 10 the Chebyshev interpolant (11 Chebyshev nodes of the first kind on
[0, tan^2(pi/8)]) of g(z) = (atan(sqrt z)/sqrt z - 1)/z, computed in 50-digit mpmath, monomial coefficients rounded
to double. Prints them (lowest first) and the largest relative error of t + t z P(z) evaluated in double (Horner,
as the C# code does with fused multiply-adds) against mpmath's atan on 20,001 points of [-tan(pi/8), tan(pi/8)].

    /usr/bin/python3 make_atan_coefficients.py
"""
import mpmath as mp

mp.mp.dps = 50
DEGREE = 10
T = mp.tan(mp.pi / 8)
Z = T * T


def g(z):
    if z == 0:
        return mp.mpf(-1) / 3
    t = mp.sqrt(z)
    return (mp.atan(t) / t - 1) / z


nodes = [Z / 2 + Z / 2 * mp.cos(mp.pi * (k + mp.mpf(1) / 2) / (DEGREE + 1)) for k in range(DEGREE + 1)]
V = mp.matrix([[x ** j for j in range(DEGREE + 1)] for x in nodes])
c = mp.lu_solve(V, mp.matrix([g(x) for x in nodes]))
coef = [float(c[j]) for j in range(DEGREE + 1)]

worst = 0.0
for i in range(20001):
    t = float(-T + 2 * T * i / 20000)
    z = t * t
    p = coef[-1]
    for cj in reversed(coef[:-1]):
        p = p * z + cj
    a = t + (t * z) * p
    if t != 0:
        worst = max(worst, abs((mp.mpf(a) - mp.atan(t)) / t))
for j, cj in enumerate(coef):
    print(f"C{j} = {cj!r}")
print(f"max relative error {float(worst):.3g}")
