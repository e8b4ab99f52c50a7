/*
 * The ISA devices behind PIIX3 that hvmdm or Xen emulate (PNP ids from the
 * Microsoft "Plug and Play ISA" device id list). Included in
 * \_SB.PCI0.ISA by dsdt.asl.
 */
Device (PIC)
{
    Name (_HID, EisaId ("PNP0000"))
    Name (_CRS, ResourceTemplate ()
    {
        IO (Decode16, 0x0020, 0x0020, 0x01, 0x02)
        IO (Decode16, 0x00A0, 0x00A0, 0x01, 0x02)
        IRQNoFlags () {2}
    })
}

Device (TMR)
{
    Name (_HID, EisaId ("PNP0100"))
    Name (_CRS, ResourceTemplate ()
    {
        IO (Decode16, 0x0040, 0x0040, 0x01, 0x04)
        IRQNoFlags () {0}
    })
}

Device (RTC)
{
    Name (_HID, EisaId ("PNP0B00"))
    Name (_CRS, ResourceTemplate ()
    {
        IO (Decode16, 0x0070, 0x0070, 0x01, 0x02)
        IRQNoFlags () {8}
    })
}

Device (SPKR)
{
    Name (_HID, EisaId ("PNP0800"))
    Name (_CRS, ResourceTemplate ()
    {
        IO (Decode16, 0x0061, 0x0061, 0x01, 0x01)
    })
}

Device (KBD)
{
    Name (_HID, EisaId ("PNP0303"))
    Name (_CRS, ResourceTemplate ()
    {
        IO (Decode16, 0x0060, 0x0060, 0x01, 0x01)
        IO (Decode16, 0x0064, 0x0064, 0x01, 0x01)
        IRQNoFlags () {1}
    })
}

Device (MOU)
{
    Name (_HID, EisaId ("PNP0F13"))
    Name (_CRS, ResourceTemplate ()
    {
        IRQNoFlags () {12}
    })
}

Device (COM1)
{
    Name (_HID, EisaId ("PNP0501"))
    Name (_UID, One)
    Method (_STA, 0, NotSerialized)
    {
        If (UAEN & One)
        {
            Return (0x0F)
        }
        Return (Zero)
    }
    Name (_CRS, ResourceTemplate ()
    {
        IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08)
        IRQNoFlags () {4}
    })
}

Device (COM2)
{
    Name (_HID, EisaId ("PNP0501"))
    Name (_UID, 0x02)
    Method (_STA, 0, NotSerialized)
    {
        If (UAEN & 0x02)
        {
            Return (0x0F)
        }
        Return (Zero)
    }
    Name (_CRS, ResourceTemplate ()
    {
        IO (Decode16, 0x02F8, 0x02F8, 0x01, 0x08)
        IRQNoFlags () {3}
    })
}
