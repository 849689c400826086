using System.Globalization;
using System.Text;

namespace Pipeline.Metrics.Report;

public sealed record ReportHtmlOptions
{
    /// <summary>Items shown with thumbnails; the rest are listed in the table only (keeps the file small for big runs).</summary>
    public int MaxItemCards { get; init; } = 200;
}

/// <summary>
/// Renders report.html: one self-contained file (inline CSS and SVG, thumbnails as data URIs, no external
/// resources) that people read: summary, failures, metric table with CIs and distributions, set metrics, skipped
/// metrics, per-class and per-task breakdowns, item cards with thumbnails, then settings, lineage and definitions.
/// A few lines of inline script only record, in body[data-images], how many thumbnails decoded (for tests).
/// </summary>
public static class ReportHtml
{
    private static string E(string? s) => Html.Escape(s);

    public static string Render(RunReport report, RunReportModel model, ReportHtmlOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(model);
        options ??= new ReportHtmlOptions();
        var sb = new StringBuilder(64 * 1024);
        string title = report.Title ?? $"Run {report.RunId}";
        sb.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        sb.Append($"<title>{E(title)} · report</title><style>{Css}</style></head><body data-images=\"pending\">");
        sb.Append("<header><div class=\"wrap\">");
        sb.Append($"<h1>{E(title)}</h1><div class=\"sub\"><span class=\"badge {StateClass(report.State)}\">{E(report.State)}</span> run <code>{E(report.RunId)}</code>");
        if (report.CreatedAt is { } c) sb.Append($" · started {E(c.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture))}");
        if (report.CompletedAt is { } d) sb.Append($" · finished {E(d.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture))}");
        sb.Append("</div></div></header><main class=\"wrap\">");

        // Summary cards
        sb.Append("<section class=\"cards\">");
        Card(sb, "items", report.Summary.Items.ToString(CultureInfo.InvariantCulture), "");
        Card(sb, "succeeded", report.Summary.Succeeded.ToString(CultureInfo.InvariantCulture), "ok");
        Card(sb, "failed", report.Summary.Failed.ToString(CultureInfo.InvariantCulture), report.Summary.Failed > 0 ? "bad" : "");
        // the run's set metrics for the model's results, each labelled with what it compares (the baselines are in the
        // comparison and set-metric tables below)
        foreach (var s in report.SetMetrics.Where(s => s.Scope == "run" && s.Method == ComparisonMethod.Model).Take(4))
            Card(sb, $"{s.Metric}: model vs {s.Against}", Fmt.Value(s.Value) + StdSuffix(s), "metric");
        sb.Append("</section>");
        if (report.Summary.Failed > 0)
            sb.Append($"<p class=\"alert\">{report.Summary.Failed} item(s) failed; they are left out of every statistic. <a href=\"#failed\">See why</a>.</p>");
        if (report.Skipped.Count > 0)
            sb.Append($"<p class=\"note\">{report.Skipped.Count} metric value(s) were not computed: {E(SkippedSummary(report.Skipped))}. <a href=\"#skipped\">Why</a>.</p>");

        Comparison(sb, report, higher: report.Definitions.ToDictionary(x => x.Name, x => x.HigherIsBetter));

        // Metric table + distributions
        var run = report.Aggregates.Where(a => a.Scope == "run").ToList();
        var higher = report.Definitions.ToDictionary(x => x.Name, x => x.HigherIsBetter);
        sb.Append("<section><h2>Per-item metrics</h2>");
        if (run.Count == 0) sb.Append("<p class=\"muted\">No per-item metric values.</p>");
        else
        {
            sb.Append($"<p class=\"muted\">Mean over succeeded items with a {report.Bootstrap.Level * 100:0}% percentile-bootstrap confidence interval ({report.Bootstrap.Resamples} resamples, seed {report.Bootstrap.Seed}); std is the population standard deviation.</p>");
            bool methods = run.Any(a => a.Method != ComparisonMethod.Model);
            sb.Append($"<table><thead><tr><th>metric</th><th>region</th>{(methods ? "<th>method</th>" : "")}<th class=\"num\">n</th><th class=\"num\">mean</th><th class=\"num\">95% CI</th><th class=\"num\">std</th><th class=\"num\">median</th><th class=\"num\">min – max</th></tr></thead><tbody>");
            foreach (var a in run)
            {
                var s = a.Summary;
                string arrow = Arrow(higher, a.Metric);
                string method = methods ? $"<td>{MethodTag(a.Method)}</td>" : "";
                sb.Append($"<tr><td title=\"{E(a.Version)}\"><b>{E(a.Metric)}</b>{arrow}</td><td>{E(a.Region)}</td>{method}<td class=\"num\">{s.Count}{(s.NonFinite > 0 ? $" <span class=\"muted\" title=\"non-finite values left out\">(+{s.NonFinite} ∞)</span>" : "")}</td>");
                sb.Append($"<td class=\"num\"><b>{Fmt.Value(s.Mean)}</b></td><td class=\"num\">[{Fmt.Value(s.CiLow)}, {Fmt.Value(s.CiHigh)}]</td><td class=\"num\">{Fmt.Value(s.Std)}</td><td class=\"num\">{Fmt.Value(s.Median)}</td><td class=\"num\">{Fmt.Value(s.Min)} – {Fmt.Value(s.Max)}</td></tr>");
            }
            sb.Append("</tbody></table>");
            sb.Append("<h3>Distributions</h3><div class=\"plots\">");
            foreach (var a in run)
            {
                var values = report.Items.Where(i => i.Succeeded).SelectMany(i => i.Metrics)
                    .Where(m => m.Metric == a.Metric && m.Region == a.Region && m.Method == a.Method && m.Value.HasValue).Select(m => m.Value!.Value).ToList();
                sb.Append($"<figure><figcaption><b>{E(a.Metric)}</b> · {E(a.Region)}{(a.Method == ComparisonMethod.Model ? "" : " · " + E(a.Method))}</figcaption>");
                sb.Append(SvgPlot.Histogram(values, a.Summary.Mean, a.Summary.CiLow, a.Summary.CiHigh, $"{a.Metric} ({a.Region}) distribution"));
                sb.Append("</figure>");
            }
            sb.Append("</div>");
        }
        sb.Append("</section>");

        // Set metrics
        sb.Append("<section><h2>Set metrics</h2>");
        if (report.SetMetrics.Count == 0) sb.Append("<p class=\"muted\">No set-level metric (FD, KID) was computed.</p>");
        else
        {
            sb.Append("<table><thead><tr><th>metric</th><th>scope</th><th>method</th><th>against</th><th class=\"num\">value</th><th class=\"num\">std</th><th class=\"num\">samples</th><th>notes</th></tr></thead><tbody>");
            foreach (var s in report.SetMetrics)
                sb.Append($"<tr><td title=\"{E(s.Version)}\"><b>{E(s.Metric)}</b></td><td>{E(s.Group is null ? s.Scope : $"{s.Scope}: {s.Group}")}</td><td>{MethodTag(s.Method)}</td><td>{E(s.Against)}</td><td class=\"num\"><b>{Fmt.Value(s.Value)}</b></td><td class=\"num\">{Fmt.Value(s.Std)}</td><td class=\"num\">{s.SamplesA} vs {s.SamplesB}</td><td class=\"warn\">{E(string.Join(" ", s.Warnings))}</td></tr>");
            sb.Append("</tbody></table>");
        }
        sb.Append("</section>");

        if (report.Failures.Count > 0)
        {
            sb.Append("<section id=\"failed\"><h2>Failed items</h2><table><thead><tr><th>item</th><th>class</th><th>task</th><th>reason</th></tr></thead><tbody>");
            foreach (var f in report.Failures)
                sb.Append($"<tr><td><code>{E(f.ItemId)}</code></td><td>{E(f.Class)}</td><td>{E(f.Task)}</td><td class=\"bad\">{E(f.Error)}</td></tr>");
            sb.Append("</tbody></table></section>");
        }
        if (report.Skipped.Count > 0)
        {
            sb.Append("<section id=\"skipped\"><h2>Skipped metrics</h2><ul>");
            foreach (var s in report.Skipped) sb.Append($"<li><b>{E(s.Metric)}</b>: {E(s.Reason)}</li>");
            sb.Append("</ul></section>");
        }

        Breakdown(sb, report, "class", "By class");
        Breakdown(sb, report, "task", "By task");

        // Items with thumbnails
        var cards = model.Items.Where(i => i.Succeeded).Take(options.MaxItemCards).ToList();
        sb.Append($"<section><h2>Items</h2>");
        if (model.Items.Count(i => i.Succeeded) > cards.Count)
            sb.Append($"<p class=\"muted\">Showing the first {cards.Count} of {model.Items.Count(i => i.Succeeded)} succeeded items; report.json lists all.</p>");
        sb.Append("<div class=\"items\">");
        foreach (var item in cards)
        {
            sb.Append($"<article class=\"item\"><h4><code>{E(item.ItemId)}</code>");
            if (item.Class != null) sb.Append($" <span class=\"tag\">{E(item.Class)}</span>");
            if (item.Task != null) sb.Append($" <span class=\"tag task\">{E(item.Task)}</span>");
            sb.Append("</h4><div class=\"thumbs\">");
            foreach (var t in item.Thumbnails)
                sb.Append($"<figure><img alt=\"{E(t.Label)}\" src=\"data:{E(t.MediaType)};base64,{Convert.ToBase64String(t.Data)}\"><figcaption>{E(t.Label)}</figcaption></figure>");
            sb.Append("</div><div class=\"chips\">");
            foreach (var m in item.Metrics)
                sb.Append($"<span class=\"chip{(m.Method == ComparisonMethod.Model ? "" : " base")}\" title=\"{E(m.Version)}\">{(m.Method == ComparisonMethod.Model ? "" : E(m.Method) + " ")}{E(m.Metric)}<small>{E(m.Region)}</small> <b>{Fmt.Value(m.Value)}</b></span>");
            sb.Append("</div></article>");
        }
        sb.Append("</div></section>");

        // Settings, lineage, definitions
        sb.Append("<section><h2>Settings and lineage</h2><div class=\"two\">");
        KeyValues(sb, "Settings", report.Settings);
        KeyValues(sb, "Lineage", report.Lineage);
        sb.Append("</div><h3>Metric definitions</h3><table><thead><tr><th>metric</th><th>version</th><th>what it is</th></tr></thead><tbody>");
        foreach (var def in report.Definitions)
            sb.Append($"<tr><td><b>{E(def.Name)}</b></td><td><code>{E(def.Version)}</code></td><td>{E(def.Description)}</td></tr>");
        sb.Append("</tbody></table></section>");
        sb.Append($"<footer>Generated by Pipeline.Metrics · schema {E(report.Schema)}</footer></main>");
        sb.Append("<script>addEventListener('load',function(){var i=document.images,n=0;for(var k=0;k<i.length;k++)if(i[k].complete&&i[k].naturalWidth>0)n++;document.body.setAttribute('data-images',n+'/'+i.length);});</script>");
        sb.Append("</body></html>");
        return sb.ToString();
    }

    private static void Card(StringBuilder sb, string label, string value, string cls) =>
        sb.Append($"<div class=\"card {cls}\"><div class=\"v\">{E(value)}</div><div class=\"l\">{E(label)}</div></div>");

    private static string StateClass(string state) => state switch
    {
        "Completed" => "ok",
        "CompletedWithFailures" => "warnb",
        _ => "bad",
    };

    private static void KeyValues(StringBuilder sb, string title, IReadOnlyDictionary<string, string> kv)
    {
        sb.Append($"<div><h3>{E(title)}</h3>");
        if (kv.Count == 0) { sb.Append("<p class=\"muted\">none recorded</p></div>"); return; }
        sb.Append("<table class=\"kv\"><tbody>");
        foreach (var (k, v) in kv) sb.Append($"<tr><th>{E(k)}</th><td><code>{E(v)}</code></td></tr>");
        sb.Append("</tbody></table></div>");
    }

    private static void Breakdown(StringBuilder sb, RunReport report, string scope, string title)
    {
        var rows = report.Aggregates.Where(a => a.Scope == scope).ToList();
        var groups = rows.Select(a => a.Group!).Distinct().OrderBy(g => g, StringComparer.Ordinal).ToList();
        if (groups.Count < 2 && rows.Count == 0) return;
        var keys = rows.Select(a => (a.Metric, a.Region, a.Method)).Distinct().ToList();
        bool methods = keys.Any(k => k.Method != ComparisonMethod.Model);
        sb.Append($"<section><h2>{E(title)}</h2><table><thead><tr><th>metric</th><th>region</th>{(methods ? "<th>method</th>" : "")}");
        foreach (var g in groups) sb.Append($"<th class=\"num\">{E(g)}</th>");
        sb.Append("</tr></thead><tbody>");
        foreach (var (metric, region, method) in keys)
        {
            sb.Append($"<tr><td><b>{E(metric)}</b></td><td>{E(region)}</td>{(methods ? $"<td>{MethodTag(method)}</td>" : "")}");
            foreach (var g in groups)
            {
                var a = rows.FirstOrDefault(r => r.Metric == metric && r.Region == region && r.Method == method && r.Group == g);
                sb.Append(a is null ? "<td class=\"num muted\">–</td>"
                    : $"<td class=\"num\"><b>{Fmt.Value(a.Summary.Mean)}</b><br><small>[{Fmt.Value(a.Summary.CiLow)}, {Fmt.Value(a.Summary.CiHigh)}] n={a.Summary.Count}</small></td>");
            }
            sb.Append("</tr>");
        }
        sb.Append("</tbody></table></section>");
    }

    private static string Arrow(IReadOnlyDictionary<string, bool> higher, string metric) =>
        higher.TryGetValue(metric, out var h) ? (h ? " <span class=\"dir\" title=\"higher is better\">↑</span>" : " <span class=\"dir\" title=\"lower is better\">↓</span>") : "";

    private static string MethodTag(string method) =>
        $"<span class=\"tag m{ComparisonMethod.Order(method)}\">{E(method)}</span>";

    /// <summary>
    /// "Model vs copy&amp;paste": per task, every metric that has a copy&amp;paste value, the model's and the baseline's mean
    /// (and the untouched original's where measured) side by side with which is better, then the task's set metrics
    /// for both. Shown near the top, so a reader sees at once whether the model beats a naive paste on their data.
    /// </summary>
    private static void Comparison(StringBuilder sb, RunReport report, IReadOnlyDictionary<string, bool> higher)
    {
        var task = report.Aggregates.Where(a => a.Scope == "task").ToList();
        if (!task.Any(a => a.Method == ComparisonMethod.CopyPaste) && !report.SetMetrics.Any(s => s.Method == ComparisonMethod.CopyPaste)) return;
        sb.Append("<section id=\"comparison\"><h2>Model vs copy&amp;paste</h2>");
        sb.Append("<p class=\"muted\">Per task: the model's result, the copy&amp;paste baseline (the reference crop pasted into the same box with the same compositing, measured the same way) and, where measured, the untouched original at the same box. Means over succeeded items; the better of model and copy&amp;paste is marked.</p>");
        bool withUntouched = task.Any(a => a.Method == ComparisonMethod.Untouched);
        foreach (var group in task.Select(a => a.Group!).Distinct().OrderBy(g => g, StringComparer.Ordinal)
                     .Concat(report.SetMetrics.Where(s => s.Scope == "task" && s.Group is not null).Select(s => s.Group!)).Distinct().ToList())
        {
            var rows = task.Where(a => a.Group == group).ToList();
            var keys = rows.Where(a => a.Method != ComparisonMethod.Model).Select(a => (a.Metric, a.Region)).Distinct().ToList();
            var sets = report.SetMetrics.Where(s => s.Scope == "task" && s.Group == group).ToList();
            if (keys.Count == 0 && sets.Count == 0) continue;
            bool copyIsOriginal = CopyPasteReproducesOriginal(rows);
            sb.Append($"<h3>{E(group)}</h3>");
            if (copyIsOriginal)
                sb.Append("<p class=\"muted\">Here copy&amp;paste reproduces the original exactly (its pixel error is 0 for every item: the reference is the object's own crop), so it is the upper bound, not a baseline; no winner is marked.</p>");
            sb.Append($"<table class=\"cmp\"><thead><tr><th>metric</th><th>region</th><th class=\"num\">model</th><th class=\"num\">copy&amp;paste</th>{(withUntouched ? "<th class=\"num\">untouched</th>" : "")}<th>better</th></tr></thead><tbody>");
            foreach (var (metric, region) in keys)
            {
                MetricAggregate? Get(string method) => rows.FirstOrDefault(a => a.Metric == metric && a.Region == region && a.Method == method);
                var (m, c, u) = (Get(ComparisonMethod.Model), Get(ComparisonMethod.CopyPaste), Get(ComparisonMethod.Untouched));
                static string Cell(MetricAggregate? a) => a is null ? "<td class=\"num muted\">–</td>"
                    : $"<td class=\"num\"><b>{Fmt.Value(a.Summary.Mean)}</b><br><small>[{Fmt.Value(a.Summary.CiLow)}, {Fmt.Value(a.Summary.CiHigh)}] n={a.Summary.Count}</small></td>";
                sb.Append($"<tr><td><b>{E(metric)}</b>{Arrow(higher, metric)}</td><td>{E(region)}</td>{Cell(m)}{Cell(c)}{(withUntouched ? Cell(u) : "")}<td>{(copyIsOriginal ? NoWinner : Better(higher, metric, m?.Summary.Mean, c?.Summary.Mean))}</td></tr>");
            }
            foreach (var (metric, against) in sets.Select(s => (s.Metric, s.Against)).Distinct().ToList())
            {
                SetMetricValue? Get(string method) => sets.FirstOrDefault(s => s.Metric == metric && s.Against == against && s.Method == method);
                var (m, c) = (Get(ComparisonMethod.Model), Get(ComparisonMethod.CopyPaste));
                static string Cell(SetMetricValue? s) => s is null ? "<td class=\"num muted\">–</td>"
                    : $"<td class=\"num\"><b>{Fmt.Value(s.Value)}</b>{StdSuffix(s)}<br><small>{s.SamplesA} vs {s.SamplesB}</small></td>";
                sb.Append($"<tr><td><b>{E(metric)}</b> <span class=\"dir\" title=\"lower is better\">↓</span></td><td>set vs {E(against)}</td>{Cell(m)}{Cell(c)}{(withUntouched ? "<td class=\"num muted\">–</td>" : "")}<td>{(copyIsOriginal ? NoWinner : Better(new Dictionary<string, bool>(), metric, m?.Value, c?.Value, lowerIsBetter: true))}</td></tr>");
            }
            sb.Append("</tbody></table>");
        }
        sb.Append("</section>");
    }

    private const string NoWinner = "<span class=\"muted\">–</span>";

    /// <summary>" ± std" for a set metric with a spread; nothing when the std is absent or at rounding level (KID from
    /// subsets that are the whole set: every subset is the same, the spread is 0 up to rounding and says nothing).</summary>
    private static string StdSuffix(SetMetricValue s) =>
        s.Std is { } sd && double.IsFinite(sd) && sd > 1e-9 * Math.Max(Math.Abs(s.Value), 1e-300) ? $" ± {Fmt.Value(sd)}" : "";

    /// <summary>Whether a task's copy&amp;paste baseline is the original itself: its mean absolute error to the original is
    /// 0 for every item (mammography reinsertion, where the reference is the lesion's own crop).</summary>
    private static bool CopyPasteReproducesOriginal(IReadOnlyList<MetricAggregate> rows)
    {
        var mae = rows.Where(a => a.Method == ComparisonMethod.CopyPaste && a.Metric == "mae").ToList();
        return mae.Count > 0 && mae.All(a => a.Summary.Count > 0 && a.Summary.Max == 0);
    }

    /// <summary>The skipped metrics for the summary line: one entry per metric name with how many of its values
    /// (sets, classes, gate checks) were skipped; the reasons are listed in full further down.</summary>
    public static string SkippedSummary(IReadOnlyList<SkippedMetric> skipped) =>
        string.Join(", ", skipped.GroupBy(s => BaseName(s.Metric)).Select(g => g.Count() == 1 ? g.Key : $"{g.Key} ({g.Count()} values)"));

    private static string BaseName(string metric)
    {
        int open = metric.IndexOf(" (", StringComparison.Ordinal);
        return open > 0 ? metric[..open] : metric;
    }

    private static string Better(IReadOnlyDictionary<string, bool> higher, string metric, double? model, double? copyPaste, bool lowerIsBetter = false)
    {
        if (model is not { } m || copyPaste is not { } c || !double.IsFinite(m) || !double.IsFinite(c)) return "<span class=\"muted\">–</span>";
        bool? hi = lowerIsBetter ? false : higher.TryGetValue(metric, out var h) ? h : null;
        if (hi is null || m == c) return "<span class=\"muted\">–</span>";
        bool modelWins = hi.Value ? m > c : m < c;
        return modelWins ? "<span class=\"win\">model</span>" : "<span class=\"lose\">copy&amp;paste</span>";
    }

    private const string Css = """
        :root{--fg:#1f2328;--muted:#656d76;--line:#d8dee4;--bg:#ffffff;--soft:#f6f8fa;--accent:#4c6ef5;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700}
        *{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
        .wrap{max-width:1180px;margin:0 auto;padding:0 24px}
        header{background:linear-gradient(90deg,#1b2a4a,#2f4b8a);color:#fff;padding:22px 0 18px}
        header h1{margin:0 0 6px;font-size:24px;font-weight:650}header .sub{opacity:.9}header code{background:rgba(255,255,255,.15);color:#fff}
        h2{font-size:18px;margin:30px 0 10px;padding-bottom:6px;border-bottom:1px solid var(--line)}h3{font-size:15px;margin:18px 0 8px}
        code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--soft);padding:1px 5px;border-radius:4px}
        .badge{display:inline-block;padding:2px 9px;border-radius:10px;font-weight:600;font-size:12px;margin-right:6px;background:#fff;color:var(--fg)}
        .badge.ok{background:#dafbe1;color:var(--ok)}.badge.bad{background:#ffebe9;color:var(--bad)}.badge.warnb{background:#fff8c5;color:var(--warn)}
        .cards{display:flex;flex-wrap:wrap;gap:12px;margin:20px 0 8px}
        .card{flex:1 1 140px;border:1px solid var(--line);border-radius:10px;padding:12px 16px;background:var(--soft)}
        .card .v{font-size:24px;font-weight:650}.card .l{color:var(--muted);font-size:12px;letter-spacing:.02em}.card.metric .v{font-size:19px;white-space:nowrap}
        .card.ok .v{color:var(--ok)}.card.bad .v{color:var(--bad)}
        .alert{background:#ffebe9;border:1px solid #ffcecb;color:#82071e;padding:8px 12px;border-radius:8px}
        .note{background:#fff8c5;border:1px solid #eed888;padding:8px 12px;border-radius:8px}
        table{border-collapse:collapse;width:100%;margin:6px 0 10px;font-size:13px}
        th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
        thead th{background:var(--soft);font-weight:600;color:#3b434b}
        .num{text-align:right;font-variant-numeric:tabular-nums}.muted{color:var(--muted)}.bad{color:var(--bad)}.warn{color:var(--warn);font-size:12px}
        .dir{color:var(--muted);font-size:12px}
        .plots{display:flex;flex-wrap:wrap;gap:14px}.plots figure{margin:0;border:1px solid var(--line);border-radius:8px;padding:8px;background:#fff}
        .plots figcaption{font-size:13px;margin-bottom:4px}svg .axis{font-size:11px;fill:#57606a}
        .items{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:14px}
        .item{border:1px solid var(--line);border-radius:10px;padding:10px 12px;background:#fff}
        .item h4{margin:0 0 8px;font-size:13px;font-weight:600}
        .tag{display:inline-block;background:#ddf4ff;color:#0550ae;border-radius:10px;padding:0 8px;font-size:11px;font-weight:600}.tag.task{background:#fbefff;color:#8250df}
        .thumbs{display:flex;gap:8px;flex-wrap:wrap}.thumbs figure{margin:0;text-align:center}
        .thumbs img{width:96px;height:96px;object-fit:contain;background:#000;border-radius:4px;image-rendering:pixelated;display:block}
        .thumbs figcaption{font-size:11px;color:var(--muted);margin-top:2px;max-width:96px}
        .chips{margin-top:8px;display:flex;flex-wrap:wrap;gap:6px}
        .chip.base{background:#fff;border-style:dashed}.tag.m1{background:#fff1e5;color:#bc4c00}.tag.m2{background:#eaeef2;color:#57606a}
        .win{color:var(--ok);font-weight:600}.lose{color:var(--bad);font-weight:600}table.cmp{table-layout:fixed}table.cmp td{white-space:nowrap}
        .chip{background:var(--soft);border:1px solid var(--line);border-radius:12px;padding:1px 9px;font-size:12px}.chip small{color:var(--muted);margin:0 4px 0 3px}
        .two{display:grid;grid-template-columns:1fr 1fr;gap:24px}.kv th{width:38%;font-weight:500;color:#3b434b;background:none}
        footer{color:var(--muted);font-size:12px;margin:36px 0 24px;border-top:1px solid var(--line);padding-top:10px}
        @media (max-width:760px){.two{grid-template-columns:1fr}.items{grid-template-columns:1fr}}
        """;
}
