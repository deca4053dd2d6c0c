using Strata.Tests.Cli;
using Strata.Tests.Infrastructure;
using Strata.Tests.Infrastructure.Registry;

namespace Strata.Tests.Fuse;

/// <summary>
/// strata-overlay as rootless podman's mount program, the place fuse-overlayfs is for: an unprivileged user
/// (strata-rootless, made by scripts/setup.sh) loads the kitchensink image, changes a container through the mount in
/// podman's user namespace (where layers carry <c>.wh.</c> whiteout files and user.overlay.* markers), diffs, exports
/// and commits it, once with strata-overlay and once with fuse-overlayfs: the exported and committed trees must be
/// the same, and the diff exactly the changes made.
/// </summary>
[Collection(MountNamespaceCollection.Name)]
public class RootlessPodmanTests
{
    private const string User = "strata-rootless";

    private const string Script = """
        set -eu
        prog=$1 work=$2 archive=$3
        export XDG_RUNTIME_DIR=$work/xdg HOME=$work/home
        mkdir -p -m 700 "$XDG_RUNTIME_DIR" "$HOME"
        run=$(mktemp -d /tmp/strata-rl.XXXXXX) # podman wants a runroot of at most 50 characters
        # The user namespace's pause process would outlive the test, holding a copy of every mount of the moment.
        # So would its lock file in /dev/shm, once nothing of podman's runs.
        trap 'podman unshare rm -rf "$run"; kill "$(cat "$XDG_RUNTIME_DIR/libpod/tmp/pause.pid" 2>/dev/null)" 2>/dev/null; rm -f "/dev/shm/libpod_rootless_lock_$(id -u)"; true' EXIT
        p() { podman --root "$work/root" --runroot "$run" --storage-driver overlay --storage-opt "overlay.mount_program=$prog" --cgroup-manager cgroupfs --events-backend file "$@"; }
        p load -q -i "$archive" >/dev/null
        c=$(p create docker.io/strata-test/kitchensink true)
        p unshare sh -c '
          m=$(podman --root "$1" --runroot "$2" --storage-driver overlay --storage-opt "overlay.mount_program=$3" mount "$4")
          echo hi > "$m/new"; chown 5:5 "$m/new"; chmod 4755 "$m/new"
          mkdir "$m/etc"; touch "$m/etc/fresh"
          rm -rf "$m/l2/opaque"; mkdir "$m/l2/opaque"; echo again > "$m/l2/opaque/x"
          rm "$m/links/hard-b"
        ' sh "$work/root" "$run" "$prog" "$c"
        p unshare sh -c 'podman --root "$1" --runroot "$2" --storage-driver overlay --storage-opt "overlay.mount_program=$3" umount "$4" >/dev/null' sh "$work/root" "$run" "$prog" "$c"
        p diff "$c" | sort > "$work/diff.txt"
        p export "$c" | tar -tv --numeric-owner | awk '{ $4 = $5 = ""; print }' | sort > "$work/export.txt"
        p commit -q "$c" localhost/committed:1 >/dev/null
        p image save -o "$work/committed.tar" localhost/committed:1
        p rm "$c" >/dev/null
        """;

    [Fact]
    public void RootlessPodmanWithStrataOverlayMatchesFuseOverlayfs()
    {
        Requires.Root();
        Requires.Fuse();
        Requires.Tool("podman");
        Requires.Tool("fuse-overlayfs");
        Requires.Tool("runuser");
        if (Tool.Run(new ToolCall("id", ["-u", User]) { Check = false }).ExitCode != 0)
            Assert.Skip($"needs the user {User} with subordinate IDs (scripts/setup.sh makes it)");
        using var tmp = new TempDir();
        var bin = StrataForOtherUsers.CopyInto(tmp);
        if (bin is null) Assert.Skip("needs the published strata binary (STRATA_BIN, set by scripts/test.sh) for strata-overlay");
        var shared = tmp.CreateDirectory("shared");
        File.Copy(SampleImages.Get("kitchensink").DockerArchive, Path.Combine(shared, "image.tar"));
        File.WriteAllText(Path.Combine(shared, "run.sh"), Script);
        var committed = new List<string>();
        var outputs = new List<(string Diff, string Export)>();
        foreach (var (label, program) in new[] { ("strata", Path.Combine(bin, "strata-overlay")), ("fuse-overlayfs", Tool.Resolve("fuse-overlayfs")!) })
        {
            var work = tmp.CreateDirectory(label);
            Tool.Run("chown", $"{User}:{User}", work);
            var run = Tool.Run(new ToolCall("runuser", ["-u", User, "--", "bash", Path.Combine(shared, "run.sh"), program, work, Path.Combine(shared, "image.tar")]) { Check = false, WorkingDirectory = work });
            Assert.True(run.ExitCode == 0, $"rootless podman with {label}: exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
            outputs.Add((File.ReadAllText(Path.Combine(work, "diff.txt")), File.ReadAllText(Path.Combine(work, "export.txt"))));
            // The committed image, flattened by strata (as root).
            var store = tmp.CreateDirectory(label + "-store");
            var id = RegistryFixture.Id(StrataCli.Run(store, "load", "-q", "-i", Path.Combine(work, "committed.tar")));
            var tree = Path.Combine(tmp.Path, label + "-tree");
            StrataCli.Run(store, "unpack", id, tree).Ok();
            committed.Add(tree);
        }
        // podman diffs a mount program's container by walking the mounts: fuse-overlayfs's leaves out the file the
        // replaced opaque directory had (l2/opaque/new, in the image); strata's lists every change.
        Assert.Equal("""
            A /etc
            A /etc/fresh
            A /l2/opaque/x
            A /new
            C /l2
            C /l2/opaque
            C /links
            D /l2/opaque/new
            D /links/hard-b

            """, outputs[0].Diff);
        Assert.Equal(outputs[1].Export, outputs[0].Export);
        // The committed images are the same tree, but for the file fuse-overlayfs's commit keeps because its diff
        // missed it (l2/opaque/new, deleted with its directory: both containers showed it gone).
        Assert.Equal(["l2/opaque/new: missing (file)"], TreeComparer.Compare(committed[1], committed[0], new TreeComparer.Options { CompareMtimes = false }));
    }
}
