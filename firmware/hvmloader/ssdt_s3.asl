/* S3 (suspend to RAM) for guests with platform/acpi_s3: SLP_TYP 1. */
DefinitionBlock ("", "SSDT", 2, "HVMDM", "S3", 0x00000001)
{
    Name (\_S3, Package (0x04) { One, One, Zero, Zero })
}
