using System.CommandLine;
using Strata.Cli.Commands;
using Strata.Errors;
using Strata.Storage;

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

    /// <summary>Runs a command body with the store open, turning every failure into one line on stderr.</summary>
    public static int WithStore(ParseResult parse, Func<StrataStore, int> body)
    {
        try
        {
            using var store = StrataStore.Open(parse.GetValue(RootOption));
            // --driver on any command fixes a new store's driver, and is refused early where it cannot apply.
            if (parse.GetValue(DriverOption) is { } driver) Union.StorageDrivers.Resolve(store, driver);
            return body(store);
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    public static int Fail(Exception e)
    {
        var (message, code) = e switch
        {
            StrataException s => (s.Message, ExitCodes.For(s.Kind)),
            UnauthorizedAccessException => (e.Message, ExitCodes.For(ErrorKind.PermissionDenied)),
            IOException => (e.Message, ExitCodes.For(ErrorKind.Internal)),
            OperationCanceledException => ("canceled", 130),
            _ => ($"{e.GetType().Name}: {e.Message}", ExitCodes.For(ErrorKind.Internal)),
        };
        Console.Error.WriteLine($"strata: error: {message.ReplaceLineEndings(" ")}");
        if (Environment.GetEnvironmentVariable("STRATA_DEBUG") is { Length: > 0 }) Console.Error.WriteLine(e);
        return code;
    }
}
