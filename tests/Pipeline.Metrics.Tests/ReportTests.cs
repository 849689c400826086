using System.Diagnostics;
using System.Text.Json;
using Pipeline.Metrics.Aggregation;
using Pipeline.Metrics.Report;

namespace Pipeline.Metrics.Tests;

public class ReportTests
{
    [Fact]
    public void Bootstrap_interval_contains_the_mean_and_is_reproducible()
    {
        var rng = new Random(5);
        var v = Enumerable.Range(0, 200).Select(_ => rng.NextDouble()).ToList();
        var a = Bootstrap.Summarize(v)!;
        var b = Bootstrap.Summarize(v)!;
        Assert.Equal(a, b);
        Assert.True(a.CiLow < a.Mean && a.Mean < a.CiHigh);
        // the CI of a mean of 200 uniforms is about +-1.96 * 0.2887 / sqrt(200) = +-0.04
        Assert.InRange(a.CiHigh - a.CiLow, 0.06, 0.10);
        Assert.Equal(200, a.Count);
    }

    [Fact]
    public void Bootstrap_leaves_infinities_out_and_counts_them()
    {
        var s = Bootstrap.Summarize([1.0, 2.0, double.PositiveInfinity, 3.0])!;
        Assert.Equal(3, s.Count);
        Assert.Equal(1, s.NonFinite);
        Assert.Equal(2.0, s.Mean);
        Assert.Null(Bootstrap.Summarize([double.NaN]));
    }

    [Fact]
    public void Builder_aggregates_per_class_and_task_and_lists_failures()
    {
        var model = SyntheticReport.Build();
        var report = RunReportBuilder.Build(model);
        Assert.Equal(new RunSummary(12, 10, 2), report.Summary);
        Assert.Equal(2, report.Failures.Count);
        Assert.Contains(report.Failures, f => f.Error.Contains("NaN"));
        var ssimRun = report.Aggregates.Single(a => a.Metric == "ssim" && a.Region == "whole" && a.Scope == "run");
        var expected = model.Items.Where(i => i.Succeeded).Select(i => i.Metrics.Single(m => m.Metric == "ssim" && m.Region == "whole").Value!.Value).Average();
        Assert.Equal(expected, ssimRun.Summary.Mean, 12);
        Assert.StartsWith("ssim/1 border=skimage", ssimRun.Version);
        Assert.Equal(2, report.Aggregates.Count(a => a.Metric == "ssim" && a.Region == "whole" && a.Scope == "class"));
        Assert.Equal(3, report.Aggregates.Count(a => a.Metric == "ssim" && a.Region == "whole" && a.Scope == "task"));
        // order follows the definitions: ssim first
        Assert.Equal("ssim", report.Aggregates[0].Metric);
    }

    [Fact]
    public void Builder_refuses_to_mix_definition_versions_and_duplicate_items()
    {
        var model = SyntheticReport.Build(4, 0);
        var items = model.Items.ToList();
        items[0] = items[0] with { Metrics = [new MetricValue("ssim", "whole", 0.9, "ssim/1 border=torchmetrics")] };
        var ex = Assert.Throws<ArgumentException>(() => RunReportBuilder.Build(model with { Items = items }));
        Assert.Contains("cannot be aggregated", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => RunReportBuilder.Build(model with { Items = [.. model.Items, model.Items[0]] }));
        Assert.Contains("case-000", ex.Message);
    }

    [Fact]
    public void Report_json_round_trips_and_follows_the_committed_schema()
    {
        var report = RunReportBuilder.Build(SyntheticReport.Build());
        string json = report.ToJson();
        var back = RunReport.FromJson(json);
        Assert.Equal(report.Aggregates.Count, back.Aggregates.Count);
        Assert.Equal(report.Items[0].Metrics[0], back.Items[0].Metrics[0]);
        using var schema = JsonDocument.Parse(RunReportSchema.Text());
        using var doc = JsonDocument.Parse(json);
        var problems = new List<string>();
        MiniSchema.Validate(schema.RootElement, schema.RootElement, doc.RootElement, "$", problems);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        // and the validator does catch a broken document
        var broken = JsonDocument.Parse(json.Replace("\"runId\"", "\"runID\""));
        MiniSchema.Validate(schema.RootElement, schema.RootElement, broken.RootElement, "$", problems);
        Assert.Contains(problems, p => p.Contains("runId"));
    }

    [Fact]
    public void Html_is_self_contained_and_escapes_text()
    {
        var model = SyntheticReport.Build();
        model = model with { Title = "<script>alert(1)</script> run" };
        string html = ReportHtml.Render(RunReportBuilder.Build(model), model);
        Assert.DoesNotContain("<script>alert", html);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/2000/svg", ""));
        Assert.DoesNotContain("https://", html);
        Assert.Equal(50, CountOf(html, "src=\"data:image/png;base64,"));
        Assert.Contains("<svg", html);
        Assert.Contains("infer: model output contained NaN", html);
        Assert.Contains("CLIP-I", html);
    }

    [Fact]
    public void Model_and_copy_paste_are_aggregated_apart_and_shown_side_by_side_per_task()
    {
        var model = SyntheticReport.Build();
        var report = RunReportBuilder.Build(model);
        var ok = model.Items.Where(i => i.Succeeded).ToList();
        foreach (var method in new[] { ComparisonMethod.Model, ComparisonMethod.CopyPaste, ComparisonMethod.Untouched })
        {
            var agg = report.Aggregates.Single(a => a.Metric == "seam" && a.Scope == "run" && a.Method == method);
            double expected = ok.Select(i => i.Metrics.Single(m => m.Metric == "seam" && m.Method == method).Value!.Value).Average();
            Assert.Equal(expected, agg.Summary.Mean, 12);
            Assert.Equal(3, report.Aggregates.Count(a => a.Metric == "seam" && a.Scope == "task" && a.Method == method));
        }
        // a method is part of the key, not a different definition
        Assert.Single(report.Aggregates.Where(a => a.Metric == "seam" && a.Scope == "run").Select(a => a.Version).Distinct());
        string html = ReportHtml.Render(report, model);
        int section = html.IndexOf("<section id=\"comparison\"><h2>Model vs copy&amp;paste</h2>", StringComparison.Ordinal);
        Assert.True(section > 0 && section < html.IndexOf("<h2>Per-item metrics</h2>", StringComparison.Ordinal), "the comparison comes before the metric table");
        string cmp = html[section..html.IndexOf("</section>", section, StringComparison.Ordinal)];
        foreach (var task in new[] { "insertion", "replacement", "reinsertion" }) Assert.Contains($"<h3>{task}</h3>", cmp);
        // seam (~0.4 vs ~2) and LPIPS (~0.1 vs ~0.35) in each of 3 tasks, and FD against real lesions (2.5 vs 7.25)
        Assert.Equal(7, CountOf(cmp, "<span class=\"win\">model</span>"));
        Assert.DoesNotContain("class=\"lose\"", cmp);
        Assert.Contains("set vs real lesions", cmp);
        Assert.Contains("<b>7.25</b>", cmp);
    }

    [Fact]
    public void A_copy_paste_that_is_the_original_is_named_so_and_gets_no_winner_and_the_summary_stays_short()
    {
        var model = SyntheticReport.Build();
        // reinsertion: copy&paste pastes the lesion's own crop, its pixel error to the original is 0 for every item;
        // the other tasks' copy&paste differs from the original
        var items = model.Items.Select(i => !i.Succeeded ? i : i with
        {
            Metrics = [.. i.Metrics, new MetricValue("mae", "patch", i.Task == "reinsertion" ? 0 : 0.02, MetricDefinitions.MaeVersion, ComparisonMethod.CopyPaste),
                new MetricValue("mae", "patch", 0.01, MetricDefinitions.MaeVersion)],
        }).ToList();
        var skipped = Enumerable.Range(0, 8).Select(k => new SkippedMetric($"FD[tiny-feat] (class c{k}, model vs real lesions)", "skipped: fewer than 10 samples"))
            .Append(new SkippedMetric("CLIP-I", "no CLIP feature model configured")).ToList();
        model = model with
        {
            Items = items, Definitions = [.. model.Definitions, MetricDefinitions.Mae], Skipped = skipped,
            SetMetrics = [.. model.SetMetrics, new("KID[tiny-feat]", "run", null, 2.123, 8.4e-15, "kid/1", 8, 8, [], ComparisonMethod.Model, ComparisonMethod.AgainstRealLesions)],
        };
        var report = RunReportBuilder.Build(model);
        string html = ReportHtml.Render(report, model);
        int section = html.IndexOf("<section id=\"comparison\">", StringComparison.Ordinal);
        string cmp = html[section..html.IndexOf("</section>", section, StringComparison.Ordinal)];
        string Task(string name)
        {
            int at = cmp.IndexOf($"<h3>{name}</h3>", StringComparison.Ordinal);
            int end = cmp.IndexOf("</table>", at, StringComparison.Ordinal);
            return cmp[at..end];
        }
        Assert.Contains("copy&amp;paste reproduces the original exactly", Task("reinsertion"));
        Assert.DoesNotContain("class=\"win\"", Task("reinsertion"));
        Assert.DoesNotContain("reproduces the original", Task("insertion"));
        Assert.Contains("class=\"win\"", Task("insertion"));
        // the summary cards say what each set metric compares; a spread at rounding level is not shown
        Assert.Contains("FD[tiny-feat]: model vs original patches", html);
        Assert.Contains("KID[tiny-feat]: model vs real lesions", html);
        Assert.DoesNotContain("8.4e-15", html[..section]);
        // one entry per metric name in the summary line, every value listed below with its reason
        Assert.Equal("FD[tiny-feat] (8 values), CLIP-I", ReportHtml.SkippedSummary(skipped));
        Assert.Contains("9 metric value(s) were not computed: FD[tiny-feat] (8 values), CLIP-I.", html);
        Assert.Contains("<li><b>FD[tiny-feat] (class c7, model vs real lesions)</b>", html);
    }

    private static int CountOf(string s, string what)
    {
        int n = 0, i = 0;
        while ((i = s.IndexOf(what, i, StringComparison.Ordinal)) >= 0) { n++; i += what.Length; }
        return n;
    }

    [Fact]
    public async Task Html_renders_in_headless_chromium_with_every_image_loaded()
    {
        const string chromium = "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), "Debian's chromium is needed for this test (infra/setup.sh installs it)");
        var model = SyntheticReport.Build();
        var report = RunReportBuilder.Build(model);
        var dir = Directory.CreateTempSubdirectory("pipeline-report-");
        try
        {
            string htmlPath = Path.Combine(dir.FullName, "report.html");
            await File.WriteAllTextAsync(htmlPath, ReportHtml.Render(report, model));
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "report.json"), report.ToJson());
            // 1. the DOM after load: the inline script records decoded images
            string dom = await Chromium(chromium, dir.FullName, "--dump-dom", "--virtual-time-budget=5000", new Uri(htmlPath).AbsoluteUri);
            Assert.Contains("data-images=\"50/50\"", dom);
            // 2. a screenshot of the given size
            string shot = Path.Combine(dir.FullName, "report.png");
            await Chromium(chromium, dir.FullName, $"--screenshot={shot}", "--window-size=1280,2400", "--hide-scrollbars", new Uri(htmlPath).AbsoluteUri);
            Assert.True(File.Exists(shot), "chromium wrote no screenshot");
            var png = await File.ReadAllBytesAsync(shot);
            Assert.Equal((1280, 2400), TestPng.Size(png));
            Assert.True(png.Length > 50_000, $"the screenshot is suspiciously small ({png.Length} bytes): the page probably rendered blank");
            var keep = Environment.GetEnvironmentVariable("PIPELINE_KEEP_REPORT_SCREENSHOT");
            if (!string.IsNullOrEmpty(keep)) { File.Copy(shot, keep, true); File.Copy(htmlPath, Path.ChangeExtension(keep, ".html"), true); }
        }
        finally
        {
            try { dir.Delete(true); } catch (IOException) { }
        }
    }

    private static async Task<string> Chromium(string exe, string workDir, params string[] args)
    {
        var profile = Directory.CreateTempSubdirectory("pipeline-chromium-");
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workDir,
        };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", $"--user-data-dir={profile.FullName}" }.Concat(args))
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { p.Kill(true); throw new TimeoutException("chromium did not finish in 90 s: " + await stderr); }
        try { profile.Delete(true); } catch (IOException) { }
        Assert.True(p.ExitCode == 0, $"chromium exited with {p.ExitCode}: {await stderr}");
        return await stdout;
    }
}

/// <summary>The subset of JSON Schema report.schema.json uses: type, required, properties, additionalProperties, items, enum, const, $ref.</summary>
internal static class MiniSchema
{
    public static void Validate(JsonElement root, JsonElement schema, JsonElement value, string path, List<string> problems)
    {
        if (schema.TryGetProperty("$ref", out var r))
        {
            var name = r.GetString()!["#/$defs/".Length..];
            Validate(root, root.GetProperty("$defs").GetProperty(name), value, path, problems);
            return;
        }
        if (schema.TryGetProperty("type", out var type))
        {
            var allowed = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToList() : [type.GetString()!];
            if (!allowed.Any(t => Matches(t, value))) { problems.Add($"{path}: expected {string.Join("|", allowed)}, got {value.ValueKind}"); return; }
        }
        if (schema.TryGetProperty("const", out var c) && value.ToString() != c.ToString()) problems.Add($"{path}: expected {c}");
        if (schema.TryGetProperty("enum", out var en) && !en.EnumerateArray().Any(e => e.ToString() == value.ToString())) problems.Add($"{path}: {value} not in {en}");
        if (value.ValueKind == JsonValueKind.Object)
        {
            if (schema.TryGetProperty("required", out var req))
                foreach (var q in req.EnumerateArray())
                    if (!value.TryGetProperty(q.GetString()!, out _)) problems.Add($"{path}: missing required property '{q.GetString()}'");
            foreach (var p in value.EnumerateObject())
            {
                if (schema.TryGetProperty("properties", out var props) && props.TryGetProperty(p.Name, out var ps)) Validate(root, ps, p.Value, $"{path}.{p.Name}", problems);
                else if (schema.TryGetProperty("additionalProperties", out var ap)) Validate(root, ap, p.Value, $"{path}.{p.Name}", problems);
            }
        }
        if (value.ValueKind == JsonValueKind.Array && schema.TryGetProperty("items", out var items))
        {
            int i = 0;
            foreach (var e in value.EnumerateArray()) Validate(root, items, e, $"{path}[{i++}]", problems);
        }
    }

    private static bool Matches(string type, JsonElement v) => type switch
    {
        "object" => v.ValueKind == JsonValueKind.Object,
        "array" => v.ValueKind == JsonValueKind.Array,
        "string" => v.ValueKind == JsonValueKind.String,
        "number" => v.ValueKind == JsonValueKind.Number,
        "integer" => v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out _),
        "boolean" => v.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => v.ValueKind == JsonValueKind.Null,
        _ => false,
    };
}
