using System.CommandLine;
using Strata.Cli.Output;

namespace Strata.Cli.Commands;

/// <summary>system check (as podman system check).</summary>
public static class SystemCommands
{
    public static Command System()
    {
        var repair = new Option<bool>("--repair", "-r") { Description = "Remove what is damaged and cannot be rebuilt" };
        var quick = new Option<bool>("--quick", "-q") { Description = "Skip hashing blobs and unpacked layers: metadata against the disk only" };
        var format = new Option<string?>("--format") { Description = "table (default) or json" };
        var check = new Command("check", "Check the store: every blob against its digest, every unpacked layer against what was unpacked, the metadata against the disk") { repair, quick, format };
        check.SetAction(Cli.WithEngine(async (p, engine, ct) =>
        {
            var report = await engine.CheckAsync(p.GetValue(repair), p.GetValue(quick), ct);
            if (p.GetValue(format) is "json")
                JsonOutput.Write(new CheckJson(report.Problems.Select(x => new ProblemJson(x.Subject, x.Problem, x.Repaired)).ToList(),
                    report.RemovedImages.Select(d => d.ToString()).ToList()));
            else if (report.Problems.Count == 0)
                Console.WriteLine("no problems found");
            else
                foreach (var x in report.Problems) Console.WriteLine($"{x.Subject}: {x.Problem}{(x.Repaired ? " (repaired)" : "")}");
            // As podman: problems left standing fail the command, so a script can act on them.
            return report.Problems.All(x => x.Repaired) ? 0 : 1;
        }));
        return new Command("system", "Manage the store") { check };
    }
}
