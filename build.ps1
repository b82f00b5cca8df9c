#!/usr/bin/env pwsh
# EnvNet.Gpu build script for PowerShell 7 on Linux, macOS and Windows.
#
#   dotnet tool restore                      # once: brings the pinned PowerShell (dotnet-tools.json)
#   dotnet pwsh ./build.ps1 build            # Release build of the solution
#   dotnet pwsh ./build.ps1 test [ARGS]      # all tests on the CPU accelerator; TRX in TestResults/
#   dotnet pwsh ./build.ps1 train [ARGS]     # envnet train ARGS (no ARGS: the embedded synthetic default)
#   dotnet pwsh ./build.ps1 bench [ARGS]     # envnet bench ARGS
#   dotnet pwsh ./build.ps1 publish          # self-contained single-file envnet for linux-x64, linux-arm64 and win-x64 in artifacts/
#   dotnet pwsh ./build.ps1 pack             # the .NET tool package (dotnet tool install envnet) in artifacts/nuget/
#   dotnet pwsh ./build.ps1 install [ARGS]   # pack, then install (or replace) the envnet .NET tool for this user; ARGS
#                                            # go to 'dotnet tool install' (e.g. --tool-path DIR instead of --global)
#   dotnet pwsh ./build.ps1 clean            # build outputs, artifacts/ and TestResults/
#
# Arguments after the target go to the command unchanged (no param block, so PowerShell does not try to bind
# envnet's --options to parameters of this script).

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$PSNativeCommandUseErrorActionPreference = $false # exit codes are checked and passed on below

$root = $PSScriptRoot
$target = if ($args.Count -gt 0) { [string]$args[0] } else { 'build' }
$rest = @(if ($args.Count -gt 1) { $args[1..($args.Count - 1)] | ForEach-Object { [string]$_ } })
$solution = Join-Path $root 'EnvNet.Gpu.sln'
$training = Join-Path $root 'Training' 'EnvNet.Training.csproj'
$artifacts = Join-Path $root 'artifacts'

function Invoke-Dotnet {
    Write-Host "> dotnet $($args -join ' ')" -ForegroundColor DarkGray
    & dotnet @args
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}

switch ($target) {
    'build' {
        Invoke-Dotnet build $solution -c Release @rest
    }
    'test' {
        $results = Join-Path $root 'TestResults'
        # A test silent for 10 minutes is reported by name and the run ends, rather than using up a CI job's time.
        Invoke-Dotnet test $solution -c Release --logger 'trx;LogFileName=tests.trx' --logger 'console;verbosity=normal' `
            --results-directory $results --blame-hang-timeout 10m --blame-hang-dump-type none @rest
    }
    'train' {
        Invoke-Dotnet run --project $training -c Release '--' train @rest
    }
    'bench' {
        Invoke-Dotnet run --project $training -c Release '--' bench @rest
    }
    'publish' {
        foreach ($rid in 'linux-x64', 'linux-arm64', 'win-x64') {
            # PackAsTool is for 'pack'; a self-contained single file is a plain executable.
            # Quoted: PowerShell would split an unquoted -p:Name=value at the colon.
            Invoke-Dotnet publish $training -c Release -r $rid --self-contained true '-p:PackAsTool=false' `
                '-p:PublishSingleFile=true' '-p:IncludeNativeLibrariesForSelfExtract=true' -o (Join-Path $artifacts $rid) @rest
        }
        Write-Host "envnet executables: $(Join-Path $artifacts 'linux-x64' 'envnet'), $(Join-Path $artifacts 'linux-arm64' 'envnet'), $(Join-Path $artifacts 'win-x64' 'envnet.exe')"
    }
    'pack' {
        Invoke-Dotnet pack $training -c Release -o (Join-Path $artifacts 'nuget') @rest
        Write-Host "install with: dotnet tool install --global --add-source $(Join-Path $artifacts 'nuget') EnvNet.Gpu"
    }
    'install' {
        # A version of its own per install, so NuGet's package cache never hands back an earlier build of the same version.
        $version = "0.1.0-local.$((Get-Date).ToUniversalTime().ToString('yyyyMMddHHmmss'))"
        $feed = Join-Path $artifacts 'nuget'
        Invoke-Dotnet pack $training -c Release -o $feed "-p:Version=$version"
        $scope = if ($rest -contains '--tool-path') { @() } else { @('--global') }
        Write-Host "> dotnet tool uninstall $($scope + $rest -join ' ') EnvNet.Gpu (if installed)" -ForegroundColor DarkGray
        & dotnet tool uninstall @scope @rest EnvNet.Gpu *> $null
        Invoke-Dotnet tool install @scope @rest --add-source $feed --version $version EnvNet.Gpu
        if ($scope) { Write-Host "envnet is in $(Join-Path ([Environment]::GetFolderPath('UserProfile')) '.dotnet' 'tools'); put that folder on PATH if 'envnet' is not found." }
    }
    'clean' {
        Invoke-Dotnet clean $solution -c Release -v q
        Invoke-Dotnet clean $solution -c Debug -v q
        foreach ($path in @($artifacts, (Join-Path $root 'TestResults')) + @(Get-ChildItem $root -Directory -Recurse -Include bin, obj | ForEach-Object FullName)) {
            if (Test-Path $path) { Remove-Item $path -Recurse -Force }
        }
    }
    default {
        Write-Error "unknown target '$target'; expected build, test, train, bench, publish, pack, install or clean" -ErrorAction Continue
        exit 2
    }
}
