using System.CommandLine;
using Strata.Cli.Commands;
using Strata.Errors;
using Strata.Engine;
using Strata.Registry;
using Strata.Union;

namespace Strata.Cli;

/// <summary>The strata command line: docker/podman verbs over one store root.</summary>
public static class Cli
{
    public static readonly Option<string?> RootOption = new("--root")
    {
        Description = "Store root (default: /var/lib/strata for root, else ~/.local/share/strata; env STRATA_ROOT)",
        Recursive = true,
    };

    public static readonly Option<string?> DriverOption = new("--driver")
    {
        Description = "Storage driver: overlay (kernel overlayfs, the default as root), fuse (the same layers through Strata's FUSE union, the default without root) or vfs (full copies)",
        Recursive = true,
    };

    public static int Run(string[] args)
    {
        DriverOption.AcceptOnlyFromAmong("overlay", "fuse", "vfs");
        var root = new RootCommand("Strata: a daemonless container-image and union-filesystem engine") { RootOption, DriverOption };
        foreach (var command in new Command[]
        {
            ImageCommands.Load(), ImageCommands.Save(), ImageCommands.Import(), ImageCommands.Images(),
            ImageCommands.Inspect(), ImageCommands.History(), ImageCommands.Tag(), ImageCommands.Rmi(),
            ImageCommands.Unpack(), ImageCommands.Prune(),
            ContainerCommands.Create(), ContainerCommands.Mount(), ContainerCommands.Umount(), ContainerCommands.Ps(),
            ContainerCommands.Rm(), ContainerCommands.Diff(), ContainerCommands.Commit(), ContainerCommands.Image(),
            SpaceCommands.Export(), SpaceCommands.Df(),
            RegistryCommands.Pull(), RegistryCommands.Push(), RemoteCommands.Login(), RemoteCommands.Logout(), RemoteCommands.Manifest(),
            SystemCommands.System(),
        })
        {
            root.Subcommands.Add(command);
        }
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && args.Length > 0)
        {
            // One line, as docker: the full help is one --help away.
            // The last error names the offending token ("Unrecognized command ... 'x'"); the first is often generic.
            var message = string.Join(' ', parse.Errors[^1].Message.Split(['\n', '\t'], StringSplitOptions.RemoveEmptyEntries).Select(p => p.Trim()));
            Console.Error.WriteLine($"strata: error: {message} (see 'strata --help')");
            return ExitCodes.For(ErrorKind.InvalidArgument);
        }
        return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    /// <summary>
    /// A command body over the engine, with every failure turned into one line on stderr. The engine's options come
    /// from the flags and the environment here: the library reads neither.
    /// </summary>
    public static Func<ParseResult, CancellationToken, Task<int>> WithEngine(
        Func<ParseResult, StrataEngine, CancellationToken, Task<int>> body, Func<ParseResult, RegistryOptions>? registry = null) =>
        async (parse, ct) =>
        {
            try
            {
                var engine = new StrataEngine(new StrataEngineOptions
                {
                    Root = parse.GetValue(RootOption) ?? DefaultRoot(),
                    Driver = parse.GetValue(DriverOption) is { } d ? Enum.Parse<StorageDriver>(d, ignoreCase: true) : null,
                    Registry = registry?.Invoke(parse) ?? Commands.RegistryCommands.Defaults(),
                });
                return await body(parse, engine, ct).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                return Fail(e);
            }
        };

    /// <summary>As podman: $STRATA_ROOT, else /var/lib/strata for root, else under the user's XDG data directory.</summary>
    private static string DefaultRoot()
    {
        if (Environment.GetEnvironmentVariable("STRATA_ROOT") is { Length: > 0 } env) return env;
        if (Environment.UserName == "root") return "/var/lib/strata";
        var data = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        if (string.IsNullOrEmpty(data))
            data = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(data, "strata");
    }

    public static int Fail(Exception e)
    {
        var (message, code) = e switch
        {
            StrataException s => (s.Message, ExitCodes.For(s.Kind)),
            UnauthorizedAccessException => (e.Message, ExitCodes.For(ErrorKind.PermissionDenied)),
            // The CLI's own files (stdout, an output path): a full or failing disk is a storage error, as in the store.
            IOException { HResult: 5 or 27 or 28 or 30 or 122 } when e.GetType() == typeof(IOException) => (e.Message, ExitCodes.For(ErrorKind.Storage)),
            IOException => (e.Message, ExitCodes.For(ErrorKind.Internal)),
            OperationCanceledException => ("canceled", 130),
            _ => ($"{e.GetType().Name}: {e.Message}", ExitCodes.For(ErrorKind.Internal)),
        };
        Console.Error.WriteLine($"strata: error: {message.ReplaceLineEndings(" ")}");
        if (Environment.GetEnvironmentVariable("STRATA_DEBUG") is { Length: > 0 }) Console.Error.WriteLine(e);
        return code;
    }
}
