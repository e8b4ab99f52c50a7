/*
 * The VM Generation ID device (Microsoft "Virtual Machine Generation ID",
 * 2012: found by its _CID) for guests with xenstore
 * platform/generation-id. The
 * 16-byte ID lives in the loader's reserved tables; VGIA is patched with
 * its address (acpi.c).
 */
DefinitionBlock ("", "SSDT", 2, "HVMDM", "VMGENID", 0x00000001)
{
    Scope (\_SB)
    {
        Device (VGID)
        {
            Name (_HID, "HVMD0001")
            Name (_CID, "VM_Gen_Counter")
            Name (_DDN, "VM_Gen_Counter")
            Name (VGIA, 0x12345679)
            Method (ADDR, 0, NotSerialized)
            {
                Local0 = Package (0x02) { Zero, Zero }
                Local0 [Zero] = VGIA
                Return (Local0)
            }
        }
    }
}
