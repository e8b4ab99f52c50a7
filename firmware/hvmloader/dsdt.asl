/*
 * The DSDT of hvmdm's board (ACPI Specification 6.4, chapters 6 and 19).
 * Compiled at build time by iasl; hvmloader patches the Name()s marked
 * "patched" below with the guest's numbers (acpi.c, build_dsdt), so their
 * placeholders must stay four- or eight-byte constants.
 *
 * Devices are exactly what hvmdm and Xen emulate (shared/docs/
 * xen-dm-interface.md 5.1, 5.2): i440FX host bridge 00:00.0 with the PCI
 * root, PIIX3 00:01.0 with the PIRQ links and the ISA devices (PIC, PIT,
 * RTC, speaker port, i8042 keyboard and mouse, COM1/COM2 when present),
 * PIIX3 IDE 00:01.1, PIIX4 PM 00:01.3 and its fixed I/O, the fixed ports
 * of the Xen platform device and fw_cfg, one processor device per
 * possible vCPU. The VGA and the platform device are plain PCI functions.
 */
DefinitionBlock ("", "DSDT", 2, "HVMDM", "HVMDM", 0x00000001)
{
    /* Patched: the 32-bit PCI window, start and length. */
    Name (PMIN, 0x12345671)
    Name (PLEN, 0x12345672)
    /*
     * Patched: the 64-bit PCI window above RAM, base and length in 32-bit
     * halves (length 0: none). DWords, not QWords: SeaBIOS's AML scanner
     * stops at a QWordConst.
     */
    Name (PHBL, 0x12345673)
    Name (PHBH, 0x12345677)
    Name (PHLL, 0x12345674)
    Name (PHLH, 0x12345678)
    /* Patched: vCPUs, COM ports present (bit 0 COM1, bit 1 COM2). */
    Name (NCPU, 0x12345675)
    Name (UAEN, 0x12345676)

    /* 7.4.2: sleep type values hvmdm's PIIX4 PM decodes (SLP_TYP 0). */
    Name (\_S5, Package (0x04) { Zero, Zero, Zero, Zero })

    /* 5.8.1: the OS tells which interrupt model it uses. */
    Name (PICD, Zero)
    Method (_PIC, 1, NotSerialized)
    {
        PICD = Arg0
    }

    Scope (\_SB)
    {
        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A03"))
            Name (_UID, Zero)
            Name (_BBN, Zero)

            Name (RBUF, ResourceTemplate ()
            {
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed,
                    PosDecode, 0x0000, 0x0000, 0x00FF, 0x0000, 0x0100)
                IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    EntireRange, 0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    EntireRange, 0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300)
                DWordMemory (ResourceProducer, PosDecode, MinFixed,
                    MaxFixed, Cacheable, ReadWrite, 0x00000000,
                    0x000A0000, 0x000BFFFF, 0x00000000, 0x00020000)
                DWordMemory (ResourceProducer, PosDecode, MinFixed,
                    MaxFixed, NonCacheable, ReadWrite, 0x00000000,
                    0xF0000000, 0xFBFFFFFF, 0x00000000, 0x0C000000,
                    ,, _Y01)
            })
            Name (RB64, ResourceTemplate ()
            {
                QWordMemory (ResourceProducer, PosDecode, MinFixed,
                    MaxFixed, NonCacheable, ReadWrite,
                    0x0000000000000000, 0x0000000100000000,
                    0x00000001FFFFFFFF, 0x0000000000000000,
                    0x0000000100000000,,, _Y02)
            })

            /* The windows hvmloader chose (6.4.3.5.2, 6.4.3.5.3). */
            Method (_CRS, 0, NotSerialized)
            {
                CreateDWordField (RBUF, \_SB.PCI0._Y01._MIN, MMIN)
                CreateDWordField (RBUF, \_SB.PCI0._Y01._MAX, MMAX)
                CreateDWordField (RBUF, \_SB.PCI0._Y01._LEN, MLEN)
                MMIN = PMIN
                MLEN = PLEN
                MMAX = PMIN + PLEN - One
                Local0 = (PHBH << 0x20) | PHBL
                Local1 = (PHLH << 0x20) | PHLL
                If (Local1 == Zero)
                {
                    Return (RBUF)
                }
                CreateQWordField (RB64, \_SB.PCI0._Y02._MIN, HMIN)
                CreateQWordField (RB64, \_SB.PCI0._Y02._MAX, HMAX)
                CreateQWordField (RB64, \_SB.PCI0._Y02._LEN, HLEN)
                HMIN = Local0
                HLEN = Local1
                HMAX = Local0 + Local1 - One
                Return (ConcatenateResTemplate (RBUF, RB64))
            }

            /* 6.2.13: INTx routing, generated (dsdt-gen.asl). */
            Method (_PRT, 0, NotSerialized)
            {
                If (PICD)
                {
                    Return (PRTA)
                }
                Return (PRTP)
            }

            /* PIIX3, 00:01.0: the PCI-to-ISA bridge. */
            Device (ISA)
            {
                Name (_ADR, 0x00010000)

                /* 82371SB 2.3.x: PIRQRC[A:D], bit 7 disables the route. */
                OperationRegion (PIRQ, PCI_Config, 0x60, 0x04)
                Field (PIRQ, ByteAcc, NoLock, Preserve)
                {
                    PIRA, 8,
                    PIRB, 8,
                    PIRC, 8,
                    PIRD, 8
                }

                Include ("links.asl")
                Include ("isa.asl")
            }

            /* PIIX3 IDE, 00:01.1. */
            Device (IDE)
            {
                Name (_ADR, 0x00010001)
            }

            /* PIIX4 power management, 00:01.3. */
            Device (PM)
            {
                Name (_ADR, 0x00010003)
            }
        }

        /* Fixed I/O of the board that no other device claims. */
        Device (SYSR)
        {
            Name (_HID, EisaId ("PNP0C02"))
            Name (_UID, One)
            Name (_CRS, ResourceTemplate ()
            {
                /* PM1a event, control and timer blocks (PMBA). */
                IO (Decode16, 0xB000, 0xB000, 0x01, 0x40)
                /* GPE0 block. */
                IO (Decode16, 0xAFE0, 0xAFE0, 0x01, 0x04)
                /* APM control and status. */
                IO (Decode16, 0x00B2, 0x00B2, 0x01, 0x02)
                /* PIIX3 reset control (FADT RESET_REG). */
                IO (Decode16, 0x0CF9, 0x0CF9, 0x01, 0x01)
                /* ELCR. */
                IO (Decode16, 0x04D0, 0x04D0, 0x01, 0x02)
                /* Fast A20 and reset (port 92h). */
                IO (Decode16, 0x0092, 0x0092, 0x01, 0x01)
                /* Xen platform device's fixed ports (unplug protocol). */
                IO (Decode16, 0x0010, 0x0010, 0x01, 0x10)
                /* fw_cfg (direct kernel boot only). */
                IO (Decode16, 0x0510, 0x0510, 0x01, 0x02)
                /* IOAPIC and HPET. */
                Memory32Fixed (ReadOnly, 0xFEC00000, 0x00001000)
            })
        }

        Include ("cpus.asl")
    }

    Include ("prt.asl")
}
