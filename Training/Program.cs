return EnvNet.Training.Cli.EnvNetCli.Run(args);
