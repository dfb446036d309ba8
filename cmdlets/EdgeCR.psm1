# EdgeCR: the device cmdlets for administrators who use pwsh.
#
# Each function runs the native edgecr-cmdlet binary, which talks to
# edgecr-agent, and turns its result into PowerShell objects and errors.
# The binary is $env:EDGECR_CMDLET when set, else edgecr-cmdlet from PATH.
# The functions have the same names as the native symlinks, so they always
# call edgecr-cmdlet with the cmdlet name as its first argument: calling the
# symlink by name from here would run the function itself again.
#
# NOTE: pwsh is not packaged for Debian 12, so this module has not been run;
# it was written against the PowerShell 7 language reference.

Set-StrictMode -Version 3.0

# Returns the path of the native edgecr-cmdlet binary.
function Get-EdgeCRNativePath {
    if ($env:EDGECR_CMDLET) {
        return $env:EDGECR_CMDLET
    }
    $command = Get-Command -Name 'edgecr-cmdlet' -CommandType Application -ErrorAction SilentlyContinue |
        Select-Object -First 1
    if (-not $command) {
        throw 'edgecr-cmdlet was not found in PATH. Install edgecr, or set $env:EDGECR_CMDLET to the path of edgecr-cmdlet.'
    }
    return $command.Source
}

# Runs edgecr-cmdlet NAME ARGUMENTS and returns its exit code, its standard
# output lines and its standard error text.
function Invoke-EdgeCRNative {
    param(
        [Parameter(Mandatory)] [string] $Name,
        [string[]] $ArgumentList = @()
    )

    $native = Get-EdgeCRNativePath
    # 2>&1 turns each standard error line into an ErrorRecord, which keeps
    # the two streams apart without a temporary file.
    $lines = @(& $native $Name @ArgumentList 2>&1)
    $exitCode = $LASTEXITCODE

    $errorLines = @($lines | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } |
        ForEach-Object { $_.ToString() })
    $outputLines = @($lines | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] } |
        ForEach-Object { [string] $_ })

    [pscustomobject] @{
        ExitCode = $exitCode
        Output   = $outputLines
        Error    = ($errorLines -join [Environment]::NewLine)
    }
}

# Builds the ErrorRecord for a failed run of the native cmdlet NAME.  Its
# message is the native error line without the leading "NAME: ".
function New-EdgeCRErrorRecord {
    param(
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] $Result
    )

    $message = $Result.Error
    if ($message.StartsWith("${Name}: ")) {
        $message = $message.Substring($Name.Length + 2)
    }
    if (-not $message) {
        $message = "$Name failed with exit code $($Result.ExitCode)."
    }
    # Exit code 2 means the parameters were rejected before anything was sent.
    $category = [System.Management.Automation.ErrorCategory]::InvalidOperation
    if ($Result.ExitCode -eq 2) {
        $category = [System.Management.Automation.ErrorCategory]::InvalidArgument
    }
    [System.Management.Automation.ErrorRecord]::new(
        [System.InvalidOperationException]::new($message),
        "EdgeCR.$Name.ExitCode$($Result.ExitCode)",
        $category,
        $null)
}

<#
.SYNOPSIS
Enables the container registry of this device, or repairs it.

.DESCRIPTION
Creates what is missing (user, password, certificate) and starts the registry,
then returns once it answers.  Running it again keeps the credentials.
Returns the confirmation line of the native cmdlet.

.PARAMETER RotatePassword
Replaces the registry password.

.PARAMETER ReissueCertificate
Issues a new certificate from the device CA.

.PARAMETER CertificatePath
PEM file with the server certificate followed by its chain.  Requires KeyPath.

.PARAMETER KeyPath
PEM file with the private key of the certificate in CertificatePath.
#>
function Set-HcsKubernetesContainerRegistry {
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium', DefaultParameterSetName = 'Issued')]
    param(
        [switch] $RotatePassword,

        [Parameter(ParameterSetName = 'Issued')]
        [switch] $ReissueCertificate,

        [Parameter(Mandatory, ParameterSetName = 'Provided')]
        [string] $CertificatePath,

        [Parameter(Mandatory, ParameterSetName = 'Provided')]
        [string] $KeyPath
    )

    $arguments = [System.Collections.Generic.List[string]]::new()
    if ($RotatePassword) { $arguments.Add('-RotatePassword') }
    if ($ReissueCertificate) { $arguments.Add('-ReissueCertificate') }
    if ($PSCmdlet.ParameterSetName -eq 'Provided') {
        # The native binary resolves relative paths against the process's
        # working directory, which is not the PowerShell location.
        $arguments.Add('-CertificatePath')
        $arguments.Add((Resolve-Path -LiteralPath $CertificatePath -ErrorAction Stop).ProviderPath)
        $arguments.Add('-KeyPath')
        $arguments.Add((Resolve-Path -LiteralPath $KeyPath -ErrorAction Stop).ProviderPath)
    }

    if (-not $PSCmdlet.ShouldProcess('edgecr container registry', 'Enable')) {
        return
    }
    $result = Invoke-EdgeCRNative -Name $MyInvocation.MyCommand.Name -ArgumentList $arguments
    if ($result.ExitCode -ne 0) {
        $PSCmdlet.ThrowTerminatingError((New-EdgeCRErrorRecord -Name $MyInvocation.MyCommand.Name -Result $result))
    }
    $result.Output | Where-Object { $_ }
}

<#
.SYNOPSIS
Returns the endpoint, IP address and credentials of the container registry.

.DESCRIPTION
Returns one object with the properties Endpoint, IPAddress, Username and
Password.  Fails when the registry is not enabled.
#>
function Get-HcsKubernetesContainerRegistryInfo {
    [CmdletBinding()]
    [OutputType('EdgeCR.RegistryInfo')]
    param()

    $name = $MyInvocation.MyCommand.Name
    $result = Invoke-EdgeCRNative -Name $name -ArgumentList @('-Json')
    if ($result.ExitCode -ne 0) {
        $PSCmdlet.ThrowTerminatingError((New-EdgeCRErrorRecord -Name $name -Result $result))
    }

    $info = ($result.Output -join "`n") | ConvertFrom-Json
    [pscustomobject] @{
        PSTypeName = 'EdgeCR.RegistryInfo'
        Endpoint   = $info.Endpoint
        IPAddress  = $info.IPAddress
        Username   = $info.Username
        Password   = $info.Password
    }
}

<#
.SYNOPSIS
Stops the container registry and disables it.

.DESCRIPTION
Stored images are kept unless Purge is given.  Purge needs Confirm (which asks
before going ahead) or Force.

.PARAMETER Purge
Also deletes every stored image.

.PARAMETER Force
Confirms Purge without asking.
#>
function Remove-HcsKubernetesContainerRegistry {
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium')]
    param(
        [switch] $Purge,
        [switch] $Force
    )

    $name = $MyInvocation.MyCommand.Name
    $confirmGiven = $PSBoundParameters.ContainsKey('Confirm') -and [bool] $PSBoundParameters['Confirm']
    if ($Purge -and -not $Force -and -not $confirmGiven) {
        $record = [System.Management.Automation.ErrorRecord]::new(
            [System.ArgumentException]::new('-Purge deletes every stored image: add -Confirm or -Force to go ahead.'),
            "EdgeCR.$name.PurgeNotConfirmed",
            [System.Management.Automation.ErrorCategory]::InvalidArgument,
            $null)
        $PSCmdlet.ThrowTerminatingError($record)
    }

    $action = 'Stop and disable'
    if ($Purge) { $action = 'Stop and disable, and delete every stored image' }
    # With -Confirm, ShouldProcess asks the user; a "yes" is the confirmation
    # that the native cmdlet needs, so it is passed on as -Force.
    if (-not $PSCmdlet.ShouldProcess('edgecr container registry', $action)) {
        return
    }

    $arguments = @()
    if ($Purge) { $arguments = @('-Purge', '-Force') }
    $result = Invoke-EdgeCRNative -Name $name -ArgumentList $arguments
    if ($result.ExitCode -ne 0) {
        $PSCmdlet.ThrowTerminatingError((New-EdgeCRErrorRecord -Name $name -Result $result))
    }
    $result.Output | Where-Object { $_ }
}

Export-ModuleMember -Function Set-HcsKubernetesContainerRegistry,
    Get-HcsKubernetesContainerRegistryInfo, Remove-HcsKubernetesContainerRegistry
