using Strata.Cli;

return OverlayProgram.IsInvokedAs(args) ? OverlayProgram.Run(args) : Cli.Run(args);
