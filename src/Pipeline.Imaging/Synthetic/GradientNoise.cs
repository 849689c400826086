namespace Pipeline.Imaging.Synthetic;

/// <summary>
/// Seeded 2-D gradient noise (Perlin, "Improving Noise", SIGGRAPH 2002: quintic fade, gradients from a permutation) and
/// fractal sums of it. Mammographic parenchyma has a power-law spectrum P(f) ~ 1/f^beta with beta about 3
/// (Burgess et al., Med. Phys. 28(4), 2001), so octave amplitudes fall by 2^(-beta/2) ~ 0.35 per octave by default.
/// </summary>
public sealed class GradientNoise
{
    private readonly int[] _perm = new int[512];
    private static readonly double[] Gx = [1, -1, 1, -1, 1.41421356, -1.41421356, 0, 0];
    private static readonly double[] Gy = [1, 1, -1, -1, 0, 0, 1.41421356, -1.41421356];

    public GradientNoise(PhantomRandom random)
    {
        var p = new int[256];
        for (int i = 0; i < 256; i++) p[i] = i;
        for (int i = 255; i > 0; i--) { int j = random.Next(0, i + 1); (p[i], p[j]) = (p[j], p[i]); }
        for (int i = 0; i < 512; i++) _perm[i] = p[i & 255];
    }

    /// <summary>Noise in about [-1, 1], zero at lattice points, period 256.</summary>
    public double Sample(double x, double y)
    {
        double fx = Math.Floor(x), fy = Math.Floor(y);
        int xi = (int)fx & 255, yi = (int)fy & 255;
        double dx = x - fx, dy = y - fy;
        double u = Fade(dx), v = Fade(dy);
        int aa = _perm[_perm[xi] + yi], ab = _perm[_perm[xi] + yi + 1];
        int ba = _perm[_perm[xi + 1] + yi], bb = _perm[_perm[xi + 1] + yi + 1];
        double n00 = Grad(aa, dx, dy), n10 = Grad(ba, dx - 1, dy);
        double n01 = Grad(ab, dx, dy - 1), n11 = Grad(bb, dx - 1, dy - 1);
        double nx0 = n00 + u * (n10 - n00), nx1 = n01 + u * (n11 - n01);
        return (nx0 + v * (nx1 - nx0)) * 1.1;
    }

    /// <summary>Fractal sum of <paramref name="octaves"/> octaves, normalised to about [-1, 1].</summary>
    public double Fractal(double x, double y, int octaves, double gain = 0.35)
    {
        double sum = 0, amp = 1, norm = 0, f = 1;
        for (int o = 0; o < octaves; o++)
        {
            sum += amp * Sample(x * f + o * 17.3, y * f - o * 9.1);
            norm += amp; amp *= gain; f *= 2;
        }
        return sum / norm;
    }

    /// <summary>Ridged noise in [0, 1]: thin bright curves where the noise crosses zero (used for Cooper's ligaments, vessels).</summary>
    public double Ridge(double x, double y, double sharpness)
    {
        double n = 1 - Math.Abs(Sample(x, y));
        return Math.Pow(n, sharpness);
    }

    private static double Fade(double t) => t * t * t * (t * (t * 6 - 15) + 10);

    private static double Grad(int hash, double x, double y) { int h = hash & 7; return Gx[h] * x + Gy[h] * y; }
}
