# Guest images for tests/xen/run, built at test time from
# tests/xen/guest/boot.asm (sourced by tests/xen/run; POSIX sh).
#
#   disk.img   sparse IDE disk: the CHECKSUM boot sector at LBA 0 and random
#              sectors at GUEST_LBAS; dom0 rebuilds it from disk-parts/
#   cd.iso     El Torito no-emulation boot of the banner + RTT variant
#   vga.iso    El Torito no-emulation boot of guest/vga.asm (VGA screens)
#   vnc.iso    El Torito no-emulation boot of guest/vnc.asm (VNC screens)
#   expected   BANNER_DISK, BANNER_CD and SUM_DISK for the scenarios

# Sectors the checksum variant reads: both sides of the CHS track and
# cylinder boundaries, of 16 bits, and of the LBA28 head nibble (bits 24+),
# and the last sector of the disk.
GUEST_LBAS="0 1 2 62 63 64 255 256 16065 65535 65536 1048575 16777215"
GUEST_LBAS="$GUEST_LBAS 16777216 33554431"
GUEST_DISK_SECTORS=33554432     # 16 GiB, sparse
BANNER_DISK="HVMDM-TEST disk boot"
BANNER_CD="HVMDM-TEST cdrom boot"

# The checksum boot.asm prints, over the sectors of image $1 at $GUEST_LBAS.
guest_checksum()
{
    for lba in $GUEST_LBAS; do
        dd if="$1" bs=512 skip="$lba" count=1 2>/dev/null
    done | od -An -v -tu2 | awk '
        { for (i = 1; i <= NF; i++) {
              a += $i; if (a > 65535) a -= 65535
              b += a;  if (b > 65535) b -= 65535 } }
        END { printf "%04X%04X\n", b, a }'
}

guest_build()
{
    src=$XEN_TESTS/guest/boot.asm
    out=$BUILD/guest
    rm -rf "$out"
    mkdir -p "$out/disk-parts" "$out/iso"
    lbas=$(echo "$GUEST_LBAS" | tr ' ' ',')
    nasm -f bin -o "$out/boot-disk.bin" -DBANNER="\"$BANNER_DISK\"" \
        -DCHECKSUM -DLBAS="$lbas" "$src" || return 1
    nasm -f bin -o "$out/boot-cd.bin" -DBANNER="\"$BANNER_CD\"" -DRTT \
        "$src" || return 1

    # The disk: boot sector, then one random sector per listed LBA (the
    # boot sector stays at 0). Each part is also kept for dom0.
    cp "$out/boot-disk.bin" "$out/disk-parts/0"
    for lba in $GUEST_LBAS; do
        [ "$lba" = 0 ] && continue
        dd if=/dev/urandom of="$out/disk-parts/$lba" bs=512 count=1 \
            2>/dev/null || return 1
    done
    guest_assemble_disk "$out/disk-parts" "$out/disk.img" \
        "$GUEST_DISK_SECTORS" || return 1

    # El Torito, no emulation: 4 virtual sectors = one 2048-byte CD sector
    # holding the 512-byte program. No -boot-info-table: it would patch
    # bytes 8-63 of the program.
    dd if=/dev/zero of="$out/iso/boot.bin" bs=2048 count=1 2>/dev/null
    dd if="$out/boot-cd.bin" of="$out/iso/boot.bin" conv=notrunc \
        2>/dev/null
    echo "hvmdm end-to-end test CD" > "$out/iso/README"
    xorriso -as mkisofs -quiet -o "$out/cd.iso" -V HVMDM_TEST \
        -b boot.bin -no-emul-boot -boot-load-size 4 "$out/iso" \
        >"$out/xorriso.log" 2>&1 || { cat "$out/xorriso.log"; return 1; }

    guest_build_vga "$out" || return 1
    guest_build_vnc "$out" || return 1

    {
        echo "BANNER_DISK='$BANNER_DISK'"
        echo "BANNER_CD='$BANNER_CD'"
        echo "SUM_DISK=$(guest_checksum "$out/disk.img")"
        echo "GUEST_DISK_SECTORS=$GUEST_DISK_SECTORS"
    } > "$out/expected"
}

# vga.iso: the 2048-byte VGA program as one no-emulation CD sector.
guest_build_vga()
{
    mkdir -p "$1/vga-iso"
    nasm -f bin -i "$XEN_TESTS/guest/" -o "$1/vga-iso/boot.bin" \
        "$XEN_TESTS/guest/vga.asm" ||
        return 1
    xorriso -as mkisofs -quiet -o "$1/vga.iso" -V HVMDM_VGA \
        -b boot.bin -no-emul-boot -boot-load-size 4 "$1/vga-iso" \
        >"$1/xorriso-vga.log" 2>&1 || { cat "$1/xorriso-vga.log"; return 1; }
}

# vnc.iso: the VNC program (guest/vnc.asm) as one no-emulation CD sector.
guest_build_vnc()
{
    mkdir -p "$1/vnc-iso"
    nasm -f bin -i "$XEN_TESTS/guest/" -o "$1/vnc-iso/boot.bin" \
        "$XEN_TESTS/guest/vnc.asm" ||
        return 1
    xorriso -as mkisofs -quiet -o "$1/vnc.iso" -V HVMDM_VNC \
        -b boot.bin -no-emul-boot -boot-load-size 4 "$1/vnc-iso" \
        >"$1/xorriso-vnc.log" 2>&1 || { cat "$1/xorriso-vnc.log"; return 1; }
}

# Sparse image $2 of $3 sectors from the parts in directory $1 (each file
# named after its LBA). The same code runs in dom0 (dom0/scenarios.sh).
guest_assemble_disk()
{
    rm -f "$2"
    dd if=/dev/zero of="$2" bs=512 count=0 seek="$3" 2>/dev/null || return 1
    for part in "$1"/*; do
        dd if="$part" of="$2" bs=512 seek="${part##*/}" conv=notrunc \
            2>/dev/null || return 1
    done
}
