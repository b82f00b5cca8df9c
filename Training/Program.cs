return EnvNet.Training.Commands.EnvNetCli.Run(args);
