/* S4 (suspend to disk) for guests with platform/acpi_s4: SLP_TYP 0. */
DefinitionBlock ("", "SSDT", 2, "HVMDM", "S4", 0x00000001)
{
    Name (\_S4, Package (0x04) { Zero, Zero, Zero, Zero })
}
