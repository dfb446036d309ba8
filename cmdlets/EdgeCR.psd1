# Module manifest of EdgeCR: PowerShell functions that wrap the edgecr device
# cmdlets (the native edgecr-cmdlet binary) and return objects.
@{
    RootModule        = 'EdgeCR.psm1'
    ModuleVersion     = '0.1.0'
    GUID              = 'ee91c854-eb36-41e7-bdf5-19f2e6bcce80'
    Author            = 'edgecr developers'
    Description       = 'Enables, inspects and removes the container registry of an edgecr device through edgecr-agent.'
    PowerShellVersion = '7.0'
    FunctionsToExport = @(
        'Set-HcsKubernetesContainerRegistry'
        'Get-HcsKubernetesContainerRegistryInfo'
        'Remove-HcsKubernetesContainerRegistry'
    )
    CmdletsToExport   = @()
    VariablesToExport = @()
    AliasesToExport   = @()
}
