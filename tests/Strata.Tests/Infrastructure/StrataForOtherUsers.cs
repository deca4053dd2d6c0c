namespace Strata.Tests.Infrastructure;

/// <summary>
/// The published strata where another user can run it. A checkout may sit in a directory only root can enter (a
/// clone into `mktemp -d` is 0700), so tests that run strata as another user copy it (one self-contained file) and
/// its strata-overlay name into their own temporary directory first.
/// </summary>
public static class StrataForOtherUsers
{
    /// <summary>The directory holding strata and strata-overlay; null when STRATA_BIN is not set.</summary>
    public static string? CopyInto(TempDir tmp)
    {
        var bin = Environment.GetEnvironmentVariable("STRATA_BIN");
        if (string.IsNullOrEmpty(bin)) return null;
        var dir = tmp.CreateDirectory("strata-bin");
        File.Copy(bin, Path.Combine(dir, "strata"));
        File.CreateSymbolicLink(Path.Combine(dir, "strata-overlay"), "strata");
        Tool.Run("chmod", "-R", "a+rX", tmp.Path);
        return dir;
    }
}
