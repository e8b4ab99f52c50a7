/*
 * The four PCI interrupt links (6.2.13, PNP0C0F), one PIRQRC register
 * each; their IRQs are the PCI ISA IRQs 5, 10 and 11, level, active low,
 * shared. Included in \_SB.PCI0.ISA by dsdt.asl.
 */
Name (PRSL, ResourceTemplate ()
{
    IRQ (Level, ActiveLow, Shared, ) {5, 10, 11}
})

/* _CRS of a link routed to IRQ Arg0 (bit 7 set: not routed). */
Method (LCRS, 1, Serialized)
{
    Name (RTLA, ResourceTemplate ()
    {
        IRQ (Level, ActiveLow, Shared, _Y10) {}
    })
    CreateWordField (RTLA, \_SB.PCI0.ISA.LCRS._Y10._INT, IRQW)
    If ((Arg0 & 0x80) == Zero)
    {
        IRQW = One << (Arg0 & 0x0F)
    }
    Return (RTLA)
}

/* The IRQ number an _SRS buffer asks for. */
Method (LSRS, 1, NotSerialized)
{
    CreateWordField (Arg0, One, IRQW)
    FindSetRightBit (IRQW, Local0)
    If (Local0 == Zero)
    {
        Return (0x80)
    }
    Return (Local0 - One)
}

/* 0x0B: present, enabled, functioning; 0x09: present, disabled. */
Method (LSTA, 1, NotSerialized)
{
    If (Arg0 & 0x80)
    {
        Return (0x09)
    }
    Return (0x0B)
}

Device (LNKA)
{
    Name (_HID, EisaId ("PNP0C0F"))
    Name (_UID, One)
    Method (_STA, 0, NotSerialized) { Return (LSTA (PIRA)) }
    Method (_PRS, 0, NotSerialized) { Return (PRSL) }
    Method (_CRS, 0, NotSerialized) { Return (LCRS (PIRA)) }
    Method (_SRS, 1, NotSerialized) { PIRA = LSRS (Arg0) }
    Method (_DIS, 0, NotSerialized) { PIRA = 0x80 }
}

Device (LNKB)
{
    Name (_HID, EisaId ("PNP0C0F"))
    Name (_UID, 0x02)
    Method (_STA, 0, NotSerialized) { Return (LSTA (PIRB)) }
    Method (_PRS, 0, NotSerialized) { Return (PRSL) }
    Method (_CRS, 0, NotSerialized) { Return (LCRS (PIRB)) }
    Method (_SRS, 1, NotSerialized) { PIRB = LSRS (Arg0) }
    Method (_DIS, 0, NotSerialized) { PIRB = 0x80 }
}

Device (LNKC)
{
    Name (_HID, EisaId ("PNP0C0F"))
    Name (_UID, 0x03)
    Method (_STA, 0, NotSerialized) { Return (LSTA (PIRC)) }
    Method (_PRS, 0, NotSerialized) { Return (PRSL) }
    Method (_CRS, 0, NotSerialized) { Return (LCRS (PIRC)) }
    Method (_SRS, 1, NotSerialized) { PIRC = LSRS (Arg0) }
    Method (_DIS, 0, NotSerialized) { PIRC = 0x80 }
}

Device (LNKD)
{
    Name (_HID, EisaId ("PNP0C0F"))
    Name (_UID, 0x04)
    Method (_STA, 0, NotSerialized) { Return (LSTA (PIRD)) }
    Method (_PRS, 0, NotSerialized) { Return (PRSL) }
    Method (_CRS, 0, NotSerialized) { Return (LCRS (PIRD)) }
    Method (_SRS, 1, NotSerialized) { PIRD = LSRS (Arg0) }
    Method (_DIS, 0, NotSerialized) { PIRD = 0x80 }
}
