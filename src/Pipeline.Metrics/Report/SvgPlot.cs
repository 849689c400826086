using System.Globalization;
using System.Text;

namespace Pipeline.Metrics.Report;

/// <summary>Small inline SVG plots for the HTML report (no script, no external resources).</summary>
public static class SvgPlot
{
    private static string N(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>
    /// A histogram of <paramref name="values"/> with the mean as a line and the confidence interval as a band.
    /// Bins: ceil(sqrt(n)), between 5 and 24.
    /// </summary>
    public static string Histogram(IReadOnlyList<double> values, double mean, double ciLow, double ciHigh, string title, int width = 320, int height = 150)
    {
        var v = values.Where(double.IsFinite).ToArray();
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{Html.Escape(title)}\">");
        sb.Append($"<title>{Html.Escape(title)}</title>");
        const int left = 8, right = 8, top = 8, bottom = 30;
        int pw = width - left - right, ph = height - top - bottom;
        sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{left}\" y=\"{top}\" width=\"{pw}\" height=\"{ph}\" fill=\"#f7f8fa\"/>");
        if (v.Length == 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{width / 2}\" y=\"{height / 2}\" text-anchor=\"middle\" class=\"axis\">no values</text></svg>");
            return sb.ToString();
        }
        double lo = v.Min(), hi = v.Max();
        if (hi - lo < 1e-12 * Math.Max(1, Math.Abs(hi))) { lo -= 0.5 * Math.Max(1e-6, Math.Abs(lo) * 0.01); hi += 0.5 * Math.Max(1e-6, Math.Abs(hi) * 0.01); }
        int bins = Math.Clamp((int)Math.Ceiling(Math.Sqrt(v.Length)), 5, 24);
        var counts = new int[bins];
        foreach (var x in v) counts[Math.Min(bins - 1, (int)((x - lo) / (hi - lo) * bins))]++;
        int max = counts.Max();
        double X(double x) => left + (x - lo) / (hi - lo) * pw;
        // CI band under the bars
        double bx0 = Math.Clamp(X(ciLow), left, left + pw), bx1 = Math.Clamp(X(ciHigh), left, left + pw);
        sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{N(bx0)}\" y=\"{top}\" width=\"{N(Math.Max(1, bx1 - bx0))}\" height=\"{ph}\" fill=\"#ffd8a8\" opacity=\"0.7\"><title>95% CI of the mean</title></rect>");
        double bw = (double)pw / bins;
        for (int i = 0; i < bins; i++)
        {
            if (counts[i] == 0) continue;
            double h = (double)counts[i] / max * (ph - 4);
            sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{N(left + i * bw + 0.5)}\" y=\"{N(top + ph - h)}\" width=\"{N(Math.Max(1, bw - 1))}\" height=\"{N(h)}\" fill=\"#4c6ef5\"><title>{counts[i]} item(s) in [{Fmt.Value(lo + i * (hi - lo) / bins)}, {Fmt.Value(lo + (i + 1) * (hi - lo) / bins)})</title></rect>");
        }
        double mx = X(mean);
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{N(mx)}\" y1=\"{top}\" x2=\"{N(mx)}\" y2=\"{top + ph}\" stroke=\"#e8590c\" stroke-width=\"2\"><title>mean {Fmt.Value(mean)}</title></line>");
        int ty = top + ph + 14;
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"{ty}\" class=\"axis\">{Fmt.Value(lo)}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{left + pw}\" y=\"{ty}\" text-anchor=\"end\" class=\"axis\">{Fmt.Value(hi)}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{width / 2}\" y=\"{ty + 13}\" text-anchor=\"middle\" class=\"axis\">n = {v.Length}, mean {Fmt.Value(mean)} (orange), 95% CI band</text>");
        sb.Append("</svg>");
        return sb.ToString();
    }
}

/// <summary>Number formatting shared by the report's tables and plots.</summary>
public static class Fmt
{
    /// <summary>Four significant digits, no exponent for ordinary magnitudes; "∞" for infinities.</summary>
    public static string Value(double v)
    {
        if (double.IsPositiveInfinity(v)) return "∞";
        if (double.IsNegativeInfinity(v)) return "−∞";
        if (double.IsNaN(v)) return "–";
        double a = Math.Abs(v);
        if (a != 0 && (a < 1e-3 || a >= 1e6)) return v.ToString("0.###e+0", CultureInfo.InvariantCulture);
        return v.ToString(a >= 100 ? "0.#" : a >= 10 ? "0.##" : a >= 1 ? "0.###" : "0.####", CultureInfo.InvariantCulture);
    }

    public static string Value(double? v) => v is { } x ? Value(x) : "–";
}

/// <summary>HTML text escaping.</summary>
public static class Html
{
    public static string Escape(string? s) => System.Net.WebUtility.HtmlEncode(s ?? "");
}
