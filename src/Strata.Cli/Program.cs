using Strata.Cli;

return Cli.Run(args);
