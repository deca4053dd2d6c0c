using System.Globalization;

namespace Strata.Cli.Output;

/// <summary>Sizes and ages the way docker and podman print them.</summary>
public static class Humanize
{
    private static readonly string[] Units = ["B", "kB", "MB", "GB", "TB", "PB"];

    /// <summary>Decimal units with three significant digits: 4.87 MB.</summary>
    public static string Size(long bytes)
    {
        double v = bytes;
        int u = 0;
        while (v >= 1000 && u < Units.Length - 1) { v /= 1000; u++; }
        var digits = v >= 100 ? "0" : v >= 10 ? "0.#" : "0.##";
        return v.ToString(digits, CultureInfo.InvariantCulture) + " " + Units[u];
    }

    public static string Ago(DateTimeOffset? when, DateTimeOffset now)
    {
        if (when is null) return "N/A";
        var d = now - when.Value;
        if (d < TimeSpan.FromSeconds(1)) return "Less than a second ago";
        string s = d.TotalSeconds < 60 ? $"{(int)d.TotalSeconds} seconds"
            : d.TotalMinutes < 2 ? "About a minute"
            : d.TotalMinutes < 60 ? $"{(int)d.TotalMinutes} minutes"
            : d.TotalHours < 2 ? "About an hour"
            : d.TotalHours < 48 ? $"{(int)d.TotalHours} hours"
            : d.TotalDays < 14 ? $"{(int)d.TotalDays} days"
            : d.TotalDays < 60 ? $"{(int)(d.TotalDays / 7)} weeks"
            : d.TotalDays < 730 ? $"{(int)(d.TotalDays / 30)} months"
            : $"{(int)(d.TotalDays / 365)} years";
        return s + " ago";
    }
}
