using Pipeline.Core.Domains;

namespace Pipeline.Host.Runs;

/// <summary>
/// The registered domains (<see cref="IRunDomain"/>, docs/architecture.md "The domain seam"): the Plan activity picks
/// the one whose planner recognises the dataset and records its name in plan.json; later activities look it up by name.
/// </summary>
public sealed class RunDomains
{
    private readonly IReadOnlyList<IRunDomain> _domains;

    public RunDomains(IEnumerable<IRunDomain> domains)
    {
        _domains = domains.ToList();
        if (_domains.Count == 0) throw new InvalidOperationException("no run domain is registered (AddPipelineRuns registers them)");
        var duplicate = _domains.GroupBy(d => d.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidOperationException($"run domain '{duplicate.Key}' is registered twice");
    }

    /// <summary>The registered domains, in registration order (the first is the default).</summary>
    public IReadOnlyList<IRunDomain> All => _domains;

    /// <summary>The first domain that recognises the dataset; else the default domain (the first registered), whose planner
    /// then states what the dataset lacks.</summary>
    public IRunDomain ForDataset(DatasetFiles dataset) => _domains.FirstOrDefault(d => d.Planner.Recognizes(dataset)) ?? _domains[0];

    /// <summary>The domain a plan names (null: the default domain, for plans written before domains had names).</summary>
    public IRunDomain For(string? name) =>
        name is null ? _domains[0]
        : _domains.FirstOrDefault(d => d.Name == name)
          ?? throw new InvalidDataException($"the run's plan names domain '{name}', which this host does not have (it has: {string.Join(", ", _domains.Select(d => d.Name))})");
}
