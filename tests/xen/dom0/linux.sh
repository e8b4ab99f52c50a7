# The Linux guest scenarios, run in dom0 by scenarios.sh (which it is
# sourced by; uses its helpers: boot_guest, wait_text, result, metric...):
#
#   linux-emu      xen_platform_pci=0: ata_piix drives the PIIX IDE disk
#                  with bus-master DMA; the guest reads dom0's pattern,
#                  writes its own MiB, powers off with poweroff -f (S5)
#   linux-pv       xen_platform_pci=1: the kernel unplugs the emulated disk,
#                  xen-blkfront serves it as xvda from dom0's blkback (phy
#                  on a loop device); same checks, no emulated disk left;
#                  event channels arrive through the platform device's
#                  interrupt (xen_no_vector_callback)
#   linux-hostile  the guest writes a hostile unplug sequence while a DMA
#                  write is in flight: the device model stays up, the disk
#                  data stays intact
#
# The disk is a 64 MiB image on a loop device, shared by the device model
# (emulated IDE) and the dom0 kernel's blkback (PV), as libxl sets it up
# for phy disks; /test/block-loop is the disk's hotplug script.

LINUX=/test/linux
T_LINUX=${T_LINUX:-600}
LINUX_DISK_MB=64
LINUX_RESULTS_MB=48
LINUX_VIFS=${LINUX_VIFS:-}      # xl.cfg vif entries (networking tests)
LINUX_SCREEN=${LINUX_SCREEN:-}  # 1 (make demo): a VGA, its screen as PNG

linux_guest_config()
{
    name=$1 dm=$2 kind=$3
    mode=${kind#linux-}
    mode=${mode#net-}           # linux-net-emu/pv: emu/pv plus a vif
    [ "$kind" = linux-fb ] && mode=pv   # pv plus std VGA (dom0/vga.sh)
    echo "name = \"$name\""
    echo 'type = "hvm"'
    echo 'memory = 256'
    echo "vcpus = ${GUEST_VCPUS:-1}"
    echo 'serial = "pty"'
    if [ "$kind" = linux-fb ]; then
        echo 'vga = "stdvga"'
        echo 'videoram = 16'
    elif [ "$LINUX_SCREEN" = 1 ]; then
        echo 'vga = "stdvga"'
        echo 'videoram = 16'
    else
        echo 'vga = "none"'
    fi
    echo 'vnc = 0'
    echo 'sdl = 0'
    echo 'nographic = 1'
    echo 'vkb_device = 0'
    echo 'tsc_mode = "native"'
    echo "vif = [ $LINUX_VIFS ]"
    echo 'on_poweroff = "destroy"'
    echo 'on_reboot = "destroy"'
    echo 'on_crash = "destroy"'
    echo 'device_model_version = "qemu-xen"'
    if [ "${dm%-ours}" = hvmdm ]; then
        echo 'device_model_override = "/usr/lib/hvmdm/hvmdm"'
    fi
    if [ "${dm%-ours}" != "$dm" ]; then
        echo 'firmware_override = "/usr/lib/hvmdm/hvmloader"'
    fi
    if [ "$mode" = emu ]; then
        echo 'xen_platform_pci = 0'
    else
        echo 'xen_platform_pci = 1'
    fi
    extra=""
    [ "$mode" = hostile ] && extra=" xen_emul_unplug=never"
    # Event channels through the platform device's interrupt (the
    # HVM_PARAM_CALLBACK_IRQ INTx/GSI form), not the vector callback.
    [ "$mode" = pv ] && extra=" xen_no_vector_callback"
    # linux-net-*: the guest's network hook runs (tests/xen/guest/net-hook.sh)
    case $kind in
    linux-net-*) extra="$extra net=1 net_mb=$(net_mb "$kind")"
        extra="$extra net_s=$(net_budget "$kind")" ;;
    esac
    # linux-fb: the guest's fb hook runs (tests/xen/guest/fb-hook.sh); the
    # mode is pinned (xenfv has no EDID in either device model; with one,
    # bochs-drm would take the EDID's preferred mode)
    [ "$kind" = linux-fb ] && extra="$extra fb=1 video=1024x768"
    [ "$LINUX_SCREEN" = 1 ] && [ "$kind" != linux-fb ] &&
        extra="$extra screen=1"
    echo "kernel = \"$LINUX/vmlinuz\""
    echo "ramdisk = \"$LINUX/initrd.gz\""
    echo "cmdline = \"console=ttyS0 quiet mode=$mode pat=$LINUX_PAT$extra\""
    # target= must come last: xl takes the rest of the spec as the path
    # (xl-disk-configuration(5)).
    d="format=raw,vdev=hda,access=rw,backendtype=phy"
    d="$d,script=/test/block-loop,target=$LINUX_LOOP"
    echo "disk = [ \"$d\" ]"
}

# A fresh image with dom0's pattern in its first MiB, on a loop device.
linux_disk_setup()
{
    LINUX_IMG=$WORK/$1.img
    rm -f "$LINUX_IMG"
    dd if=/dev/zero of="$LINUX_IMG" bs=1M count=0 seek=$LINUX_DISK_MB \
        2>/dev/null || return 1
    dd if="$LINUX/pattern.bin" of="$LINUX_IMG" conv=notrunc 2>/dev/null ||
        return 1
    LINUX_LOOP=$(losetup -f) || return 1
    losetup "$LINUX_LOOP" "$LINUX_IMG" || return 1
}

linux_disk_teardown()
{
    [ -n "$LINUX_LOOP" ] && losetup -d "$LINUX_LOOP" 2>/dev/null
    rm -f "$LINUX_IMG"
    LINUX_LOOP=""
}

# md5 of MiB $1 of the image.
linux_img_md5()
{
    dd if="$LINUX_IMG" bs=1M skip="$1" count=1 2>/dev/null | md5sum |
        cut -d' ' -f1
}

# The guest's results text from the disk.
linux_img_results()
{
    dd if="$LINUX_IMG" bs=1M skip=$LINUX_RESULTS_MB count=1 2>/dev/null |
        tr -d '\000' > "$DIR/guest-results"
    dump_file "$dm/$NAME.guest-results" "$DIR/guest-results"
}

# Value after "$1 " on the guest's serial line (first match).
linux_marker()
{
    tr -d '\r' < "$DIR/serial" | sed -n "s/^$1 //p" | head -n 1
}

linux_metric_at()
{
    t=$(wait_text "$DIR/serial" "$2" "$T_LINUX" "$DOMID")
    w=$?
    [ "$w" = 0 ] && metric "$dm" "$1" "$(secs $(( t - T0 )))"
    return $w
}

# The guest's /sys/firmware/acpi/tables (a tar at MiB 56 of the disk),
# each decoded with iasl -d in dom0; the .dsl files and iasl's output go
# to the host's logs. Prints the first table iasl complains about.
IASL_BAD='Error|Warning|Invalid|Unknown|Incorrect|\*\*\*\*'
linux_acpi_check()
{
    a=$DIR/acpi
    rm -rf "$a"
    mkdir -p "$a"
    dd if="$LINUX_IMG" bs=1M skip=56 count=1 2>/dev/null |
        tar -xf - -C "$a" 2>/dev/null
    n=0
    for t in "$a"/tables/*; do
        [ -f "$t" ] || continue
        n=$((n + 1))
        name=${t##*/}
        cp "$t" "$a/$name.dat"
        (cd "$a" && iasl -d "$name.dat") > "$a/$name.iasl" 2>&1
        cat "$a/$name.dsl" >> "$a/$name.iasl" 2>/dev/null
        dump_file "$dm/$NAME.acpi/$name.dsl" "$a/$name.iasl"
        bad=$(grep -E "$IASL_BAD" "$a/$name.iasl" | head -n 1)
        [ -n "$bad" ] &&
            { echo "iasl -d $name: $(echo "$bad" | cut -c1-100)"; return; }
    done
    [ "$n" -ge 6 ] || echo "only $n ACPI tables came back from the guest"
}

# Interrupts the guest's devices took (/proc/interrupts in its results):
# the lines naming driver $1 must have counted some, on any CPU.
linux_irq_check()
{
    grep "^irq [0-9]*: .*$1" "$DIR/guest-results" | awk -v drv="$1" '
        { for (i = 3; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i
          irqs = irqs " " $2 }
        END { if (irqs == "") print "no interrupt line for " drv
              else if (n == 0) print "no " drv " interrupts on" irqs }'
}

# What the guest saw must match the scenario (from its results text).
linux_inventory_check()
{
    r=$DIR/guest-results
    # With our firmware/hvmloader: its tables as Linux read them, the CPUs
    # and memory it describes, interrupts through its routing, S5.
    case $dm in *-ours)
        grep -q '^acpi-problem' "$r" &&
            { echo "$(grep '^acpi-problem' "$r" | head -n 1)"; return; }
        grep -q "^cpus ${GUEST_VCPUS:-1}\$" "$r" ||
            { echo "guest saw $(grep '^cpus' "$r") (want ${GUEST_VCPUS:-1})"
              return; }
        # "Memory: free/totalK available": RAM within 4 MiB of memory=256
        kb=$(sed -n 's/.*Memory: [0-9]*K\/\([0-9]*\)K available.*/\1/p' "$r")
        [ "${kb:-0}" -gt $(( 252 * 1024 )) ] &&
            [ "$kb" -le $(( 256 * 1024 )) ] ||
            { echo "guest has ${kb:-no} kB of RAM (memory = 256 MiB)"
              return; }
        why=$(linux_acpi_check)
        [ -n "$why" ] && { echo "$why"; return; }
        case $1 in
        emu) why=$(linux_irq_check ata_piix) ;;
        pv) why=$(linux_irq_check xen-platform-pci) ;;
        esac
        [ -n "$why" ] && { echo "$why"; return; }
        grep -q "reason code 0 " "/var/log/xen/xl-$NAME.log" 2>/dev/null ||
            { echo "not powered off through S5 (see $dm/$NAME.xl.log)"
              return; }
    esac
    case $1 in
    emu)
        grep -q '^block sda ' "$r" || { echo "no sda in the guest"; return; }
        grep -q '^block xvd' "$r" && { echo "xvd* without PV drivers"; return; }
        grep -qE '^ata dev1\.0 XFER_(MW_DMA|UDMA)' "$r" ||
            { echo "ata_piix did not pick a DMA mode:" \
                "$(grep '^ata ' "$r" | head -n 2 | tr '\n' ' ')"; return; }
        grep -q '0x8086:0x7010 .* driver ata_piix' "$r" ||
            { echo "ata_piix did not bind 8086:7010"; return; }
        ;;
    pv)
        grep -q '^block xvda ' "$r" || { echo "no xvda in the guest"; return; }
        grep -qE '^block (sd|hd)' "$r" &&
            { echo "an emulated disk is left: $(grep '^block sd' "$r")"
              return; }
        grep -q '0x5853:0x0001 .* driver xen-platform-pci' "$r" ||
            { echo "xen-platform-pci did not bind 5853:0001"; return; }
        ;;
    esac
}

# Data checks after the guest is gone: pattern intact, its write on disk.
linux_data_check()
{
    p=$(linux_img_md5 0)
    w=$(linux_img_md5 2)
    gw=$(linux_marker W)
    if [ "$p" != "$LINUX_PAT" ]; then
        echo "dom0's pattern (MiB 0) changed: $p, was $LINUX_PAT"
    elif [ -z "$gw" ] || [ "$w" != "$gw" ]; then
        echo "the guest's write (MiB 2) is not on the image: $w," \
            "guest wrote ${gw:-nothing}"
    fi
}

# Domain and device model gone after the guest's poweroff -f (S5).
linux_wait_gone()
{
    deadline=$(( $(now) + T_STEP * 100 ))
    while domain_alive "$DOMID" && [ "$(now)" -lt "$deadline" ]; do
        sleep 0.2
    done
    ! domain_alive "$DOMID"
}

linux_boot_metrics()
{
    linux_metric_at "linux_init_$1" "INIT"
    linux_metric_at "linux_disk_$1" "^DISK "
    w=$?
    x0=$(xen_time "$XEN_MARKER" last)
    x1=$(xen_time "^\(d$DOMID\).*Booting from ROM")
    if [ -n "$x0" ] && [ -n "$x1" ]; then
        metric "$dm" "linux_rom_$1" \
            "$(awk "BEGIN { printf \"%.2f\", $x1 - $x0 }")"
    fi
    return $w
}

# make demo (LINUX_SCREEN=1): the guest wrote what it saw on its VGA
# console and waits (SCREEN) for a byte on COM1; its screen as PNG first.
linux_screen()
{
    wait_text "$DIR/serial" "^SCREEN" "$T_STEP" "$DOMID" >/dev/null ||
        return
    if qmp_screendump "$DOMID" "$WORK/linux-screen.png" png; then
        base64 "$WORK/linux-screen.png" > "$WORK/linux-screen.png.b64"
        dump_file "$dm/$NAME.screen.png.b64" "$WORK/linux-screen.png.b64"
    fi
    printf 'k' > "$(cat "$DIR/tty")"
}

# linux-emu and linux-pv: boot, checks, poweroff, data.
linux_run_guest()
{
    mode=${kind#linux-}
    if ! linux_boot_metrics "$mode"; then
        result "$dm" "$kind" FAIL "no disk in the guest:" \
            "$(serial_oneline)"
        return
    fi
    case $mode in net-*) net_watch ;; esac
    # The device model's RSS once the guest's transfers are done, while
    # the guest is still up (END and the poweroff come later).
    if wait_text "$DIR/serial" "^RW " "$T_LINUX" "$DOMID" >/dev/null; then
        pid=$(dm_pid "$DOMID")
        rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
        [ -n "$rss" ] && metric "$dm" "rss_kb_linux_$mode" "$rss"
    fi
    [ "$LINUX_SCREEN" = 1 ] && [ "$kind" != linux-fb ] && linux_screen
    tend=$T_LINUX
    case $mode in net-*) tend=$(( T_LINUX + $(net_budget "$kind") )) ;; esac
    t=$(wait_text "$DIR/serial" "^(END|PAT BAD)" "$tend" "$DOMID")
    w=$?
    if [ "$w" != 0 ] || grep -q "^PAT BAD" "$DIR/serial"; then
        result "$dm" "$kind" FAIL "guest: $(serial_oneline)"
        return
    fi
    metric "$dm" "linux_end_$mode" "$(secs $(( t - T0 )))"
    rw=$(linux_marker RW)
    metric "$dm" "${mode}_rd_kbs" "${rw% *}"
    metric "$dm" "${mode}_wr_kbs" "${rw#* }"
    if ! linux_wait_gone; then
        result "$dm" "$kind" FAIL "poweroff -f did not end the domain" \
            "$(still_there)"
        return
    fi
    metric "$dm" "linux_off_$mode" "$(secs $(( $(now) - T0 )))"
    sleep 1
    linux_img_results
    why=$(linux_data_check)
    [ -z "$why" ] && why=$(linux_inventory_check "${mode#net-}")
    case $mode in net-*)
        [ -z "$why" ] && why=$(net_check "${mode#net-}") ;;
    esac
    if [ -z "$why" ] && [ "$dm" = hvmdm ] && [ "$mode" = pv ] &&
        ! grep -q "xen-platform: unplug .*removed IDE disk 0" \
            "/var/log/xen/qemu-dm-$NAME.log" 2>/dev/null; then
        why="hvmdm's log has no unplug line"
    fi
    if [ -n "$why" ]; then
        result "$dm" "$kind" FAIL "$why"
    else
        case $mode in
        net-*) result "$dm" "$kind" PASS "$(net_summary)" ;;
        *) result "$dm" "$kind" PASS "$(linux_summary "$mode")" ;;
        esac
    fi
}

linux_summary()
{
    rw=$(linux_marker RW)
    case $1 in
    emu) xfer=$(grep '^ata ' "$DIR/guest-results" | head -n 1 |
            cut -d' ' -f3)
         echo "ata_piix sda $xfer, pattern + write ok, rd/wr" \
            "${rw% *}/${rw#* } kB/s, S5" ;;
    pv)  echo "unplug -> blkfront xvda, no IDE disk left, pattern + write" \
            "ok, rd/wr ${rw% *}/${rw#* } kB/s, S5" ;;
    esac
}

# linux-hostile: the device model must outlive the sequence.
linux_run_hostile()
{
    if ! linux_boot_metrics hostile; then
        result "$dm" "$kind" FAIL "no disk in the guest:" \
            "$(serial_oneline)"
        return
    fi
    wait_text "$DIR/serial" "^HOSTILE-DONE" "$T_LINUX" "$DOMID" >/dev/null
    w=$?
    if [ "$w" != 0 ]; then
        result "$dm" "$kind" FAIL "$(wait_failure "$w" "HOSTILE-DONE")"
        return
    fi
    sleep 3
    pid=$(dm_pid "$DOMID")
    if ! domain_alive "$DOMID" || [ -z "$pid" ] || process_gone "$pid"; then
        result "$dm" "$kind" FAIL "the domain or its device model died"
        return
    fi
    timeout "$T_STEP" xl destroy "$DOMID" >/dev/null 2>&1
    sleep 1
    linux_img_results
    why=$(linux_data_check)
    if [ -z "$why" ] && [ "$dm" = hvmdm ] &&
        ! grep -q "xen-platform: unplug 0x1 .*removed IDE disk 0" \
            "/var/log/xen/qemu-dm-$NAME.log" 2>/dev/null; then
        why="hvmdm's log has no unplug line"
    fi
    if [ -n "$why" ]; then
        result "$dm" "$kind" FAIL "$why"
    else
        result "$dm" "$kind" PASS "device model alive after" \
            "'$(linux_marker HOSTILE-DONE)', data intact"
    fi
}

# run_linux DM KIND (linux-emu, linux-pv, linux-hostile)
run_linux()
{
    dm=$1 kind=$2
    LINUX_PAT=$(md5sum < "$LINUX/pattern.bin" | cut -d' ' -f1)
    NAME=$dm-$kind
    if ! linux_disk_setup "$NAME"; then
        result "$dm" "$kind" FAIL "could not set up the loop device"
        return
    fi
    if ! boot_guest "$dm" "$kind"; then
        result "$dm" "$kind" FAIL "$(create_failure)"
    elif [ "$kind" = linux-hostile ]; then
        linux_run_hostile
    elif [ "$kind" = linux-fb ]; then
        linux_run_fb
    else
        linux_run_guest
    fi
    cleanup_guest
    collect_logs
    linux_disk_teardown
}
