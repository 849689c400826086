namespace Pipeline.Imaging.Synthetic;

/// <summary>
/// Procedural "for presentation" mammogram. The breast is drawn with the chest wall at x = 0 and mirrored for the right
/// side (so R images have the chest wall on the right, as stored by most FFDM units). Layers, in display-value units
/// v in [0, 1] (brighter = more attenuating):
/// <list type="bullet">
/// <item>breast outline: a perturbed half-ellipse from the chest wall, with a nipple bump; MLO adds the axillary tail
/// and the pectoral muscle (a slightly convex triangle at the top of the chest wall);</item>
/// <item>thickness fall-off over the outer ~20 mm (the compressed breast's rounded edge), a bright skin line and a
/// fatty subcutaneous band;</item>
/// <item>fibroglandular tissue: a soft threshold of power-law noise, partly sampled in polar coordinates about the
/// nipple so that structure converges on it as ducts do, concentrated in the central and retro-areolar region;
/// Cooper's ligaments as ridged noise in the fatty periphery;</item>
/// <item>lesions (masses, spiculated masses, calcification clusters, asymmetries), then quantum noise.</item>
/// </list>
/// Values map to 14-bit stored values; air is 0 (declared as Pixel Padding Value).
/// </summary>
public static class MammoPhantom
{
    private const double StoredOffset = 600, StoredScale = 12500;

    public static MammoPhantomImage Render(MammoImageSpec spec)
    {
        int w = spec.Columns, h = spec.Rows;
        if (w < 64 || h < 64) throw new ArgumentOutOfRangeException(nameof(spec), $"phantom size must be at least 64x64, got {w}x{h}");
        var rng = PhantomRandom.For(spec.Seed, 1);
        var noise = new GradientNoise(PhantomRandom.For(spec.Seed, 2));
        var noise2 = new GradientNoise(PhantomRandom.For(spec.Seed, 3));
        double mm = 1.0 / spec.PixelSpacingMm; // pixels per mm
        bool mlo = spec.View == MammoView.MLO;

        // ---- outline ----
        double depth = w * (mlo ? rng.Uniform(0.62, 0.78) : rng.Uniform(0.66, 0.84));
        double cy = h * (mlo ? rng.Uniform(0.54, 0.6) : rng.Uniform(0.47, 0.53));
        double aBottom = h * (mlo ? rng.Uniform(0.36, 0.41) : rng.Uniform(0.36, 0.44));
        double aTop = mlo ? cy * rng.Uniform(1.0, 1.08) : h * rng.Uniform(0.36, 0.44);
        double tilt = mlo ? rng.Uniform(0.08, 0.2) : rng.Uniform(-0.04, 0.04); // nipple points slightly down in MLO
        double cosT = Math.Cos(tilt), sinT = Math.Sin(tilt);
        var harmonics = new (double A, double Phase)[5];
        for (int k = 0; k < harmonics.Length; k++) harmonics[k] = (rng.Uniform(0.005, 0.03) / (1 + 0.5 * k), rng.Uniform(0, 2 * Math.PI));
        double nippleBump = rng.Uniform(0.015, 0.035);
        double squareness = rng.Uniform(2.0, 2.6); // superellipse exponent: fuller near the chest wall

        // pectoral muscle (MLO): x_edge(y) = pw * (1 - y/ph)^gamma
        double pw = mlo ? w * rng.Uniform(0.2, 0.34) : 0, ph = mlo ? h * rng.Uniform(0.38, 0.62) : 1, gamma = rng.Uniform(0.8, 1.15);

        var t = new float[w * h];      // normalised radius: < 1 inside the breast
        var inside = new bool[w * h];
        var pect = new float[w * h];   // pectoral membership with a 2-px soft edge
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                double dx = x + 0.5, dy = y + 0.5 - cy;
                double xr = dx * cosT + dy * sinT, yr = -dx * sinT + dy * cosT;
                double u = xr / depth, v = yr / (yr < 0 ? aTop : aBottom);
                double theta = Math.Atan2(v, Math.Max(u, 1e-6));
                double rho = Math.Pow(Math.Pow(Math.Abs(u), squareness) + Math.Pow(Math.Abs(v), 2), 1.0 / squareness);
                if (u < 0) rho = Math.Abs(v) + 4 * Math.Abs(u); // behind the tilted axis (MLO): close the outline at the chest wall
                double r = 1.0 + nippleBump * Math.Exp(-Math.Pow(theta / 0.07, 2));
                for (int k = 0; k < harmonics.Length; k++) r += harmonics[k].A * Math.Sin((k + 2) * theta + harmonics[k].Phase);
                double tv = rho / r;
                double pm = 0;
                if (mlo)
                {
                    double edge = y < ph ? pw * Math.Pow(1 - (y + 0.5) / ph, gamma) : 0;
                    edge += 3 * noise2.Sample(y * 0.02, 3.7);
                    pm = Math.Clamp((edge - x) / 2.0 + 0.5, 0, 1);
                    if (pm > 0.5) tv = Math.Min(tv, 0.6);
                    // axillary tail: tissue continues to the top edge just outside the muscle
                    if (y < ph && x < edge + w * 0.12 * (1 - y / ph) + 6) tv = Math.Min(tv, 0.97);
                }
                int i = y * w + x;
                t[i] = (float)tv; inside[i] = tv < 1; pect[i] = (float)pm;
            }
        }
        var dist = ChamferDistance(inside, w, h); // pixels to the skin surface

        // ---- parenchyma ----
        double nx = depth, ny = cy + depth * sinT; // nipple
        double density = Math.Clamp(spec.Density, 0, 1);
        double threshold = 0.32 - 0.55 * density;
        double isoScale = 1.0 / (0.22 * w), anisoR = 1.0 / (0.13 * w), anisoT = 1.0 / (0.03 * w);
        var v0 = new float[w * h];
        var gland = new float[w * h];
        double subcutMm = rng.Uniform(3, 7);
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                int i = y * w + x;
                if (!inside[i]) continue;
                double dmm = dist[i] / mm;
                double ddx = nx - x, ddy = y - ny;
                double rN = Math.Sqrt(ddx * ddx + ddy * ddy);
                double phi = Math.Atan2(ddy, ddx);
                // tangential coordinate measured as arc length (offset so structure converges gently, not to a point)
                double aniso = noise.Fractal(rN * anisoR, phi * (rN + 0.25 * w) * anisoT + 11.0, 6, 0.45);
                double iso = noise.Fractal(x * isoScale + 31, y * isoScale - 7, 7, 0.42);
                double envelope = SmoothStep(subcutMm, subcutMm + 12, dmm)        // subcutaneous fat
                                  * SmoothStep(0.02, 0.2, x / depth)                // retromammary fat
                                  * (1 - 0.5 * t[i] * t[i])                          // denser centrally
                                  * (0.7 + 0.3 * noise2.Fractal(x * isoScale * 0.5, y * isoScale * 0.5, 3));
                double g = 0.4 * aniso + 0.6 * iso + 0.3 * (envelope - 0.5);
                double gl = envelope * SmoothStep(threshold - 0.28, threshold + 0.22, g);
                gland[i] = (float)gl;

                // Cooper's ligaments: faint thin arcs in the fatty periphery, elongated along the skin
                double lig = noise2.Ridge((x * 0.6 + y * 0.8) * isoScale * 2.5 + 5, (x * 0.8 - y * 0.6) * isoScale * 4.5, 24)
                             * (1 - envelope) * SmoothStep(1, 5, dmm) * (1 - SmoothStep(15, 30, dmm));
                double fine = noise.Fractal(x * isoScale * 10 + 3, y * isoScale * 10, 3, 0.5);
                double thickness = dmm < 20 ? Math.Sqrt(1 - Math.Pow(1 - dmm / 20, 2)) : 1; // rounded compressed edge
                double eq = 0.5 + 0.5 * thickness; // partial peripheral equalisation, as processed images show
                double val = eq * (0.30 + 0.28 * gl + 0.04 * gl * fine + 0.025 * lig + 0.03 * iso + 0.01 * fine);
                val += 0.06 * Math.Exp(-Math.Pow((dmm - 0.6) / 0.5, 2)); // skin line
                if (pect[i] > 0)
                {
                    double fibres = noise2.Fractal(x * isoScale * 6 + y * isoScale * 2.5, y * isoScale * 0.8, 3, 0.5);
                    double muscle = 0.43 + 0.04 * noise.Fractal(x * isoScale, y * isoScale, 3) + 0.02 * fibres + 0.07 * (1 - y / ph);
                    val = val + (muscle - val) * pect[i];
                }
                v0[i] = (float)val;
            }
        }

        // ---- lesions ----
        var placed = new List<PlacedLesion>();
        foreach (var lesion in spec.Lesions)
        {
            var p = PlaceLesion(lesion, v0, gland, inside, pect, dist, w, h, mm, placed);
            if (p != null) placed.Add(p);
        }

        // ---- quantum noise, quantisation ----
        var pixels = new ushort[w * h];
        var qn = PhantomRandom.For(spec.Seed, 4);
        double sigma = 0.0045;
        for (int i = 0; i < pixels.Length; i++)
        {
            if (!inside[i]) { pixels[i] = 0; continue; }
            double val = v0[i] + sigma * qn.Normal();
            pixels[i] = (ushort)Math.Clamp(Math.Round(StoredOffset + StoredScale * val), 1, (1 << MammoImageSpec.BitsStored) - 1);
        }

        // Windows: a soft-tissue window from the breast's histogram (1st to 99.7th percentile) and a wide one.
        var hist = new int[1 << MammoImageSpec.BitsStored];
        int n = 0;
        foreach (var p in pixels) if (p > 0) { hist[p]++; n++; }
        double lo = Percentile(hist, n, 0.01), hi = Percentile(hist, n, 0.997);
        double width = Math.Max(16, Math.Round(hi - lo)), center = Math.Round(lo + width / 2);
        double wideLo = 0, wideHi = Percentile(hist, n, 1.0);

        if (spec.Side == BreastSide.R)
        {
            for (int y = 0; y < h; y++) Array.Reverse(pixels, y * w, w);
            placed = placed.Select(l => l with { Box = new PixelBox(w - l.Box.XMax, l.Box.YMin, w - l.Box.XMin, l.Box.YMax) }).ToList();
        }
        return new MammoPhantomImage(spec, pixels, placed, center, width, Math.Round((wideLo + wideHi) / 2), Math.Max(16, Math.Round(wideHi - wideLo)));
    }

    private static double Percentile(int[] hist, int n, double q)
    {
        long target = (long)Math.Ceiling(q * n), acc = 0;
        for (int i = 0; i < hist.Length; i++) { acc += hist[i]; if (acc >= target && acc > 0) return i; }
        return hist.Length - 1;
    }

    internal static double SmoothStep(double e0, double e1, double x)
    {
        double k = Math.Clamp((x - e0) / (e1 - e0), 0, 1);
        return k * k * (3 - 2 * k);
    }

    /// <summary>Two-pass 3-4 chamfer distance (Borgefors, CVGIP 34, 1986) from each inside pixel to the nearest outside pixel, in pixels.</summary>
    internal static float[] ChamferDistance(bool[] inside, int w, int h)
    {
        var d = new float[w * h];
        const float big = 1e9f;
        for (int i = 0; i < d.Length; i++) d[i] = inside[i] ? big : 0;
        // The image border counts as inside for the chest wall and the top/bottom edges where the breast is cut off:
        // only the skin (inside/outside transitions) defines distance.
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int i = y * w + x;
                if (d[i] == 0) continue;
                float best = d[i];
                if (x > 0) best = Math.Min(best, d[i - 1] + 3);
                if (y > 0)
                {
                    best = Math.Min(best, d[i - w] + 3);
                    if (x > 0) best = Math.Min(best, d[i - w - 1] + 4);
                    if (x < w - 1) best = Math.Min(best, d[i - w + 1] + 4);
                }
                d[i] = best;
            }
        for (int y = h - 1; y >= 0; y--)
            for (int x = w - 1; x >= 0; x--)
            {
                int i = y * w + x;
                if (d[i] == 0) continue;
                float best = d[i];
                if (x < w - 1) best = Math.Min(best, d[i + 1] + 3);
                if (y < h - 1)
                {
                    best = Math.Min(best, d[i + w] + 3);
                    if (x < w - 1) best = Math.Min(best, d[i + w + 1] + 4);
                    if (x > 0) best = Math.Min(best, d[i + w - 1] + 4);
                }
                d[i] = best;
            }
        for (int i = 0; i < d.Length; i++) d[i] = d[i] >= big ? 1e6f : d[i] / 3f;
        return d;
    }

    private static PlacedLesion? PlaceLesion(LesionSpec lesion, float[] v0, float[] gland, bool[] inside, float[] pect, float[] dist,
        int w, int h, double mm, List<PlacedLesion> already)
    {
        var rng = new PhantomRandom(lesion.ShapeSeed);
        double sizePx = lesion.SizeMm * mm;
        int reach = (int)Math.Ceiling(sizePx * (lesion.Kind == LesionKind.SpiculatedMass ? 1.8 : 0.9)) + 4;
        // Candidate centres: inside tissue, at least 8 mm from the skin and its reach from the image border, not in muscle,
        // not overlapping an earlier lesion.
        for (int attempt = 0; attempt < 400; attempt++)
        {
            int cx = rng.Next(reach, Math.Max(reach + 1, w - reach)), cy = rng.Next(reach, Math.Max(reach + 1, h - reach));
            if (cx >= w || cy >= h) continue;
            int ci = cy * w + cx;
            if (!inside[ci] || pect[ci] > 0 || dist[ci] < 8 * mm + sizePx * 0.6) continue;
            if (lesion.Kind != LesionKind.CalcificationCluster && attempt < 200 && gland[ci] < 0.15) continue; // prefer glandular regions
            bool overlaps = already.Any(a => cx + reach > a.Box.XMin && cx - reach < a.Box.XMax && cy + reach > a.Box.YMin && cy - reach < a.Box.YMax);
            if (overlaps) continue;
            int x0 = Math.Max(0, cx - reach), y0 = Math.Max(0, cy - reach), x1 = Math.Min(w, cx + reach + 1), y1 = Math.Min(h, cy + reach + 1);
            int pwid = x1 - x0, phgt = y1 - y0;
            var c = new float[pwid * phgt];
            // The placement stream continues into the drawing unless the lesion has its own appearance seed.
            var drawRng = lesion.AppearanceSeed is { } appearance ? new PhantomRandom(appearance) : rng;
            double contrast = lesion.ContrastScale * DrawLesion(lesion.Kind, drawRng, c, pwid, phgt, cx - x0 + 0.5, cy - y0 + 0.5, sizePx, mm);
            // Box: pixels whose contribution exceeds a fraction of the peak (calcifications: every speck).
            float peak = c.Max();
            float thr = lesion.Kind == LesionKind.CalcificationCluster ? 0.2f * peak : lesion.Kind == LesionKind.Asymmetry ? 0.35f * peak : 0.3f * peak;
            int bx0 = int.MaxValue, by0 = int.MaxValue, bx1 = -1, by1 = -1;
            for (int yy = 0; yy < phgt; yy++)
                for (int xx = 0; xx < pwid; xx++)
                {
                    int gi = (y0 + yy) * w + x0 + xx;
                    float cv = c[yy * pwid + xx];
                    if (!inside[gi]) { c[yy * pwid + xx] = 0; continue; }
                    v0[gi] += (float)(contrast * cv);
                    if (cv >= thr) { bx0 = Math.Min(bx0, xx); by0 = Math.Min(by0, yy); bx1 = Math.Max(bx1, xx); by1 = Math.Max(by1, yy); }
                }
            if (bx1 < 0) return null;
            double margin = lesion.Kind == LesionKind.CalcificationCluster ? 2 : 1;
            var box = new PixelBox(Math.Max(0, x0 + bx0 - margin), Math.Max(0, y0 + by0 - margin), Math.Min(w, x0 + bx1 + 1 + margin), Math.Min(h, y0 + by1 + 1 + margin));
            return new PlacedLesion(lesion.Kind, box, contrast);
        }
        return null;
    }

    /// <summary>Draws one lesion's contribution in [0, 1] into <paramref name="c"/> around (cx, cy); returns its contrast in v units.</summary>
    private static double DrawLesion(LesionKind kind, PhantomRandom rng, float[] c, int pw, int ph, double cx, double cy, double sizePx, double mm)
    {
        var tex = new GradientNoise(rng);
        switch (kind)
        {
            case LesionKind.CircumscribedMass:
            {
                double rx = sizePx / 2 * rng.Uniform(0.85, 1.0), ry = rx * rng.Uniform(0.7, 1.0), rot = rng.Uniform(0, Math.PI);
                double l3 = rng.Uniform(0, 0.07), l5 = rng.Uniform(0, 0.04), p3 = rng.Uniform(0, 6.3), p5 = rng.Uniform(0, 6.3);
                double edge = rng.Uniform(0.04, 0.09);
                for (int y = 0; y < ph; y++)
                    for (int x = 0; x < pw; x++)
                    {
                        double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
                        double a = dx * Math.Cos(rot) + dy * Math.Sin(rot), b = -dx * Math.Sin(rot) + dy * Math.Cos(rot);
                        double phi = Math.Atan2(b, a);
                        double d = Math.Sqrt(a * a / (rx * rx) + b * b / (ry * ry)) / (1 + l3 * Math.Sin(3 * phi + p3) + l5 * Math.Sin(5 * phi + p5));
                        double body = 1 / (1 + Math.Exp((d - 1) / edge));
                        // a dense, slightly domed interior (projection of a sphere) with faint texture
                        double dome = d < 1 ? 0.75 + 0.25 * Math.Sqrt(1 - d * d) : 0.75;
                        c[y * pw + x] = (float)(body * dome * (0.93 + 0.07 * tex.Sample(x * 0.15, y * 0.15)));
                    }
                return rng.Uniform(0.07, 0.11);
            }
            case LesionKind.SpiculatedMass:
            {
                double r = sizePx / 2 * rng.Uniform(0.45, 0.6);
                int n = rng.Next(14, 28);
                var spicules = new (double Angle, double Length, double Width, double Bend)[n];
                for (int k = 0; k < n; k++)
                    spicules[k] = (2 * Math.PI * k / n + rng.Uniform(-0.2, 0.2), r * rng.Uniform(1.2, 3.0), rng.Uniform(0.7, 1.6) * Math.Max(1, mm * 0.25), rng.Uniform(-0.15, 0.15));
                for (int y = 0; y < ph; y++)
                    for (int x = 0; x < pw; x++)
                    {
                        double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
                        double rr = Math.Sqrt(dx * dx + dy * dy), phi = Math.Atan2(dy, dx);
                        double irregular = 1 + 0.18 * tex.Fractal(Math.Cos(phi) * 2 + 5, Math.Sin(phi) * 2 + 5, 3, 0.5);
                        double core = 1 / (1 + Math.Exp((rr / (r * irregular) - 1) / 0.12));
                        double best = core;
                        foreach (var s in spicules)
                        {
                            if (rr < r * 0.5 || rr > r + s.Length) continue;
                            double along = (rr - r * 0.5) / (s.Length + r * 0.5);
                            double ang = s.Angle + s.Bend * along * along * 3; // gently curving spicule
                            double dphi = Math.IEEERemainder(phi - ang, 2 * Math.PI);
                            double perp = Math.Abs(dphi) * rr;
                            double width = s.Width * (1 - 0.7 * along);
                            double val = 0.75 * Math.Exp(-perp * perp / (width * width)) * Math.Pow(1 - along, 0.8);
                            if (val > best) best = val;
                        }
                        c[y * pw + x] = (float)best;
                    }
                return rng.Uniform(0.08, 0.12);
            }
            case LesionKind.CalcificationCluster:
            {
                double radius = sizePx / 2;
                int n = rng.Next(6, 22);
                for (int k = 0; k < n; k++)
                {
                    double sx = cx + Math.Clamp(rng.Normal() * radius * 0.45, -radius, radius);
                    double sy = cy + Math.Clamp(rng.Normal() * radius * 0.45, -radius, radius);
                    double sigma = Math.Max(0.55, rng.Uniform(0.12, 0.35) * mm); // 0.1-0.35 mm specks
                    double elong = rng.Chance(0.3) ? rng.Uniform(1.5, 3.0) : rng.Uniform(1.0, 1.3);
                    double rot = rng.Uniform(0, Math.PI), amp = rng.Uniform(0.55, 1.0);
                    int reach = (int)Math.Ceiling(sigma * elong * 3) + 1;
                    for (int y = Math.Max(0, (int)sy - reach); y < Math.Min(ph, (int)sy + reach + 1); y++)
                        for (int x = Math.Max(0, (int)sx - reach); x < Math.Min(pw, (int)sx + reach + 1); x++)
                        {
                            double dx = x + 0.5 - sx, dy = y + 0.5 - sy;
                            double a = (dx * Math.Cos(rot) + dy * Math.Sin(rot)) / (sigma * elong), b = (-dx * Math.Sin(rot) + dy * Math.Cos(rot)) / sigma;
                            double val = amp * Math.Exp(-0.5 * (a * a + b * b));
                            int i = y * pw + x;
                            if (val > c[i]) c[i] = (float)val;
                        }
                }
                return rng.Uniform(0.22, 0.38);
            }
            default:
            {
                double r = sizePx / 2;
                for (int y = 0; y < ph; y++)
                    for (int x = 0; x < pw; x++)
                    {
                        double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
                        double rr = Math.Sqrt(dx * dx + dy * dy) / r;
                        double warp = 1 + 0.35 * tex.Fractal(x / r * 1.2, y / r * 1.2, 3, 0.5);
                        double body = 1 - SmoothStep(0.45, 1.05, rr / warp);
                        double texture = 0.55 + 0.45 * SmoothStep(-0.2, 0.4, tex.Fractal(x / r * 3 + 9, y / r * 3, 4, 0.5));
                        c[y * pw + x] = (float)(body * texture);
                    }
                return rng.Uniform(0.045, 0.075);
            }
        }
    }
}
