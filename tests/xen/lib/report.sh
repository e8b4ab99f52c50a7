# Reading dom0's results file: pass/fail lines, log excerpts for failures,
# the device-model timing table (sourced by tests/xen/run; POSIX sh).

# The default scenarios (what `make check-xen` and CI run), one line per
# area so each area moves its scenarios in on its own line. The SDL window
# (sdl-window, tests/xen/dom0/sdl.sh) is SKIP for qemu, built without SDL.
DEFAULT_SCENARIOS="disk-boot checksum cdrom-boot destroy poweroff"
DEFAULT_SCENARIOS="$DEFAULT_SCENARIOS round-trip xl-tools"
DEFAULT_SCENARIOS="$DEFAULT_SCENARIOS vga-banner vga-text vga-m13 vga-vbe"
DEFAULT_SCENARIOS="$DEFAULT_SCENARIOS linux-fb"
DEFAULT_SCENARIOS="$DEFAULT_SCENARIOS linux-emu linux-pv linux-hostile"
DEFAULT_SCENARIOS="$DEFAULT_SCENARIOS linux-net-emu linux-net-pv"
DEFAULT_SCENARIOS="$DEFAULT_SCENARIOS vnc-port vnc-auth vnc-banner vnc-text"
DEFAULT_SCENARIOS="$DEFAULT_SCENARIOS vnc-keys"
DEFAULT_SCENARIOS="$DEFAULT_SCENARIOS sdl-window"
SCENARIOS=${SCENARIOS:-$DEFAULT_SCENARIOS}
SCENARIOS=$(echo $SCENARIOS)

# Is any Linux guest scenario selected?
report_wants_linux()
{
    case " $SCENARIOS " in *" linux-"*) return 0 ;; esac
    return 1
}

# Split the @@FILE blocks of results file $1 into $LOGS/<name>.
report_split_logs()
{
    awk -v logs="$LOGS" '
        /^@@FILE / { file = logs "/" $2; dir = file; sub(/\/[^\/]*$/, "", dir)
                     system("mkdir -p \"" dir "\""); printf "" > file; next }
        /^@@END/   { if (file != "") close(file); file = ""; next }
        file != "" { print > file }' "$1"
}

# The scenario runs of results file $1 that have no RESULT, as
# "round:dm:scenario" words (what a restarted dom0 runs: TODO).
report_todo()
{
    awk -v dms="$DMS" -v scs="$SCENARIOS" -v soak="$SOAK" '
        /^ROUND / { round = $2 }
        $1 == "RESULT" { got[(round ? round : 1) ":" $2 ":" $3] = 1 }
        END {
            nd = split(dms, d, " ")
            ns = split(scs, s, " ")
            for (r = 1; r <= soak; r++)
                for (i = 1; i <= nd; i++)
                    for (j = 1; j <= ns; j++)
                        if (!((r ":" d[i] ":" s[j]) in got))
                            printf "%s ", r ":" d[i] ":" s[j]
        }' "$1"
}

# Dom0 console lines that show a crash: a program's segfault, a kernel
# oops or panic, dash's errors (memory corruption: "nw: not found" once),
# Xen's own crash lines. dom0 counts them too (rootfs_config passes them):
# a scenario that failed while one appeared runs once more. No ' in them.
DOM0_CRASH_RE='segfault at|general protection fault|: not found$'
DOM0_CRASH_RE="$DOM0_CRASH_RE|: Illegal number|: Syntax error"
DOM0_CRASH_RE="$DOM0_CRASH_RE|Segmentation fault"
DOM0_CRASH_RE="$DOM0_CRASH_RE|Oops|BUG:|Kernel panic|Call Trace|FATAL"
DOM0_CRASH_RE="$DOM0_CRASH_RE|Panic on CPU|[Dd]om0 crashed|Assertion"

# The crash lines (DOM0_CRASH_RE) in consoles $@, one per line, without
# dom0's script log ("[dom0 ...]", which quotes guests) or guest output.
report_crash_lines()
{
    cat "$@" 2>/dev/null | tr -d '\r' |
        grep -avE '^\[dom0 [0-9.]+\]|^\(d[0-9]+\)' | grep -aE "$DOM0_CRASH_RE"
}

# "N crash line(s) on the console, last: LINE" for consoles $@, or
# nothing. dash's "Segmentation fault" follows the kernel's line: the
# last shown is the kernel's.
report_crash_summary()
{
    crashes=$(report_crash_lines "$@")
    [ -n "$crashes" ] || return 0
    echo "$(echo "$crashes" | wc -l) crash line(s) on the console, last:" \
        "$(echo "$crashes" | grep -avx 'Segmentation fault' | tail -n 1 |
            cut -c1-150)"
}

# ", while <dom0's last xl create or soak round>" from console $1.
report_last_started()
{
    l=$(tr -d '\r' < "$1" 2>/dev/null |
        grep -aE '^\[dom0 [0-9.]+\] (xl create [^ :]+$|soak round)' |
        tail -n 1)
    [ -n "$l" ] && printf ', last started: %s' "$l"
}

# At most 13 lines on how boot $1 of the machine ended before DONE ($2),
# from its console $3 and registers: printed at the end of the output,
# which is all CI keeps; every line starts with "check-xen:" for greps.
report_machine_end()
{
    echo "boot $1 of the emulated machine ended before DONE: $2"
    l=$(report_last_started "$3")
    echo "  ${l:-, no scenario started}" | sed 's/^  , /  /'
    crash=$(report_crash_summary "$3")
    [ -n "$crash" ] && echo "  $crash"
    stall=${3%/*}/machine-stall.boot$1.txt
    if [ -s "$stall" ]; then
        echo "  CPU: $(grep -aoE 'RIP=[0-9a-f]+|CPL=[0-9]|HLT=[01]' "$stall" |
            tr '\n' ' ' | cut -c1-140)"
    fi
    echo "  end of ${3#"$BUILD"/} (guest lines left out):"
    tr -d '\r' < "$3" | grep -avE '^\(d[0-9]+\)|^cat: read error|\] Code: |^$' |
        grep -avE 'still waiting|HVM d[0-9v]+ save: |HVM[0-9]+ restore: ' |
        grep -av ' Synced [a-z]* skew: ' |
        tail -n 8 | cut -c1-150 | sed 's/^/  | /'
}

# The guest (xl domain name) a scenario runs on.
report_guest()
{
    case $2 in
    cdrom-boot|destroy|round-trip|xl-tools) echo "$1-cdrom" ;;
    vnc-*) echo "$1-vnc" ;;
    sdl-*) echo "$1-sdl" ;;
    linux-*) echo "$1-$2" ;;
    vga-*) echo "$1-vga" ;;
    *) echo "$1-disk" ;;
    esac
}

# tail -n $2 of file $1, indented, or nothing.
report_tail()
{
    [ -s "$1" ] || return 0
    echo "    --- ${1#"$BUILD"/} (last $2 lines)"
    tail -n "$2" "$1" | tr -d '\r' | cut -c1-160 | sed 's/^/    | /'
}

# What to look at when a scenario on guest $2 of device model $1 failed.
report_excerpt()
{
    base=$LOGS/$1/$2
    report_tail "$base.dm.log" 20
    # hvmdm's ioreq state, dumped (SIGUSR1) when the guest did not finish.
    if grep -aq "ioreq state" "$base.dm.log" 2>/dev/null; then
        grep -a "ioreq state" "$base.dm.log" > "$base.ioreq-state"
        report_tail "$base.ioreq-state" 40
    fi
    report_tail "$base.serial" 8
    if [ -s "$base.xl-create.log" ]; then
        grep -iE 'error|timeout|timed out' "$base.xl-create.log" |
            grep -v ' detail: ' > "$base.xl-create.errors"
        report_tail "$base.xl-create.errors" 12
    fi
    if [ -s "$base.xl-dmesg" ]; then
        domid=$(sed -n 's/.*Domain \([0-9]*\):.*/\1/p' \
            "$base.xl-create.log" 2>/dev/null | head -n 1)
        if [ -n "$domid" ]; then
            grep "^(d$domid)" "$base.xl-dmesg" > "$base.guest-console"
            report_tail "$base.guest-console" 8
        fi
    fi
}

# Print one line per scenario; set PASSED and FAILED.
report_results()
{
    results=$1
    PASSED=0
    FAILED=0
    excerpted=" "
    for dm in $DMS; do
        for sc in $SCENARIOS; do
            line=$(grep -a "^RESULT $dm $sc " "$results" | head -n 1)
            if [ -z "$line" ]; then
                line="RESULT $dm $sc FAIL no result: dom0 did not get there"
            fi
            verdict=$(echo "$line" | cut -d' ' -f4)
            detail=$(echo "$line" | cut -d' ' -f5-)
            printf '%-4s %-6s %-11s %s\n' "$verdict" "$dm" "$sc" "$detail"
            if [ "$verdict" = PASS ]; then
                PASSED=$((PASSED + 1))
            elif [ "$verdict" = SKIP ]; then
                :   # the device model lacks the feature (detail says)
            else
                FAILED=$((FAILED + 1))
                guest=$(report_guest "$dm" "$sc")
                case $excerpted in
                *" $guest "*) ;;
                *)
                    report_excerpt "$dm" "$guest"
                    excerpted="$excerpted$guest "
                    ;;
                esac
            fi
        done
    done
}

report_metric()
{
    v=$(awk -v dm="$2" -v m="$3" '$1 == "TIME" && $2 == dm && $3 == m \
        { print $4; exit }' "$1")
    echo "${v:--}"
}

# Side by side: one column per device model, plus hvmdm/qemu when both.
report_table()
{
    grep -aq "^TIME " "$1" || return 0
    echo
    echo "Device-model comparison (one Xen boot; seconds from xl create):"
    printf '  %-50s' "metric"
    for dm in $DMS; do printf ' %10s' "$dm"; done
    both=""
    case " $DMS " in *" qemu "*) case " $DMS " in *" hvmdm "*) both=1;; esac;;
    esac
    [ -n "$both" ] && printf ' %12s' "hvmdm/qemu"
    echo
    for row in "running:xl create -> device model running" \
               "dm_start:device model exec -> running" \
               "hvmloader:xl create -> first hvmloader line" \
               "seabios:xl create -> Invoking SeaBIOS (Xen console)" \
               "loader:first hvmloader line -> Invoking SeaBIOS" \
               "banner_xen:xl create -> boot sector banner (Xen console)" \
               "banner:xl create -> boot sector banner (read on pty)" \
               "cd_banner:xl create -> CD boot banner (pty)" \
               "rtt_ns:guest round trip: ns per inb of COM1 scratch" \
               "rtt_xen_ns:same, ns per inb of a port Xen emulates" \
               "poweroff:xl shutdown -F -> domain gone" \
               "destroy_xl:xl destroy duration" \
               "destroy_dm_exit:device model exit after xl destroy" \
               "rss_kb:device model VmRSS in dom0 (kB)" \
               "vnc_TEXT:VNC client in dom0: connect -> text screen" \
               "vnc_keys:VNC: 27 keys typed -> line echoed on COM1" \
               "linux_fb:Linux fb: xl create -> bochs-drm console drawn" \
               "linux_rom_emu:Linux emu: xl create -> linuxboot ROM (Xen)" \
               "linux_init_emu:Linux emu: xl create -> guest /init" \
               "linux_disk_emu:Linux emu: xl create -> sda ready" \
               "linux_end_emu:Linux emu: xl create -> checks done" \
               "linux_off_emu:Linux emu: xl create -> poweroff (S5) done" \
               "emu_rd_kbs:Linux emu: sda seq read kB/s (ata_piix DMA)" \
               "emu_wr_kbs:Linux emu: sda seq write kB/s (ata_piix DMA)" \
               "rss_kb_linux_emu:Linux emu: device model VmRSS (kB)" \
               "linux_init_pv:Linux pv: xl create -> guest /init" \
               "linux_disk_pv:Linux pv: xl create -> xvda connected" \
               "linux_end_pv:Linux pv: xl create -> checks done" \
               "linux_off_pv:Linux pv: xl create -> poweroff (S5) done" \
               "pv_rd_kbs:Linux pv: xvda seq read kB/s (blkfront)" \
               "pv_wr_kbs:Linux pv: xvda seq write kB/s (blkfront)" \
               "rss_kb_linux_pv:Linux pv: device model VmRSS (kB)" \
               "linux_rom_net-emu:Linux net emu: xl create -> linuxboot ROM" \
               "net-emu_linkup:Linux net emu: guest uptime at eth0 link up" \
               "net-emu_kbs:Linux net emu: e1000 TCP send to dom0 kB/s" \
               "net-emu_ioreqs_per_mib:Linux net emu: requests per MiB sent" \
               "net-emu_rx_kbs:Linux net emu: e1000 TCP recv from dom0 kB/s" \
               "net-emu_rx_ioreqs_per_mib:Linux net emu: requests/MiB recv" \
               "net-emu_rx_retrans:Linux net emu: dom0 TCP retransmits" \
               "linux_end_net-emu:Linux net emu: xl create -> checks done" \
               "net-pv_linkup:Linux net pv: guest uptime at eth0 link up" \
               "net-pv_kbs:Linux net pv: netfront TCP send to dom0 kB/s" \
               "net-pv_rx_kbs:Linux net pv: netfront TCP recv from dom0 kB/s" \
               "net-pv_rx_retrans:Linux net pv: dom0 TCP retransmits" \
               "linux_end_net-pv:Linux net pv: xl create -> checks done"; do
        key=${row%%:*}
        printf '  %-50s' "${row#*:}"
        for dm in $DMS; do
            printf ' %10s' "$(report_metric "$1" "$dm" "$key")"
        done
        if [ -n "$both" ]; then
            q=$(report_metric "$1" qemu "$key")
            h=$(report_metric "$1" hvmdm "$key")
            awk -v q="$q" -v h="$h" 'BEGIN {
                if (q == "-" || h == "-" || q + 0 == 0) printf " %12s", "-"
                else printf " %12.2f", h / q }'
        fi
        echo
    done
}

# SOAK > 1: passes per scenario and device model over every round of the
# one Xen boot, and each device model's run of passes from the start.
# PASSED and FAILED become totals over all rounds (a missing result fails).
report_soak()
{
    results=$1
    echo
    echo "Soak: $(grep -a '^ROUND ' "$results" | sort -u | wc -l) of $SOAK" \
        "rounds started" \
        "in ${BOOT:-1} Xen boot(s); passes per scenario and device model:"
    printf '  %-14s' scenario
    for dm in $DMS; do printf ' %10s' "$dm"; done
    echo
    PASSED=0
    FAILED=0
    for sc in $SCENARIOS; do
        printf '  %-14s' "$sc"
        for dm in $DMS; do
            p=$(grep -ac "^RESULT $dm $sc PASS" "$results")
            f=$(grep -ac "^RESULT $dm $sc FAIL" "$results")
            s=$(grep -ac "^RESULT $dm $sc SKIP" "$results")
            m=$(( SOAK - p - f - s ))
            [ "$m" -lt 0 ] && m=0
            cell="$p/$SOAK"
            [ "$s" -gt 0 ] && cell="$cell ${s}skip"
            printf ' %10s' "$cell"
            PASSED=$((PASSED + p))
            FAILED=$((FAILED + f + m))
        done
        echo
    done
    for dm in $DMS; do
        awk -v dm="$dm" '
            /^ROUND / { round = $2 }
            $1 == "RESULT" && $2 == dm && $4 == "SKIP" { skipped++; next }
            $1 == "RESULT" && $2 == dm {
                n++
                if ($4 == "PASS" && !failed) streak++
                if ($4 != "PASS") {
                    bad++
                    if (!failed) { failed = 1; first = $3 " in round " round }
                }
            }
            END {
                printf "  %s: %d scenario runs, %d failed", dm, n, bad
                if (skipped) printf " (%d skipped)", skipped
                printf "; "
                if (failed) printf "%d passed in a row before %s\n", \
                    streak, first
                else printf "all passed in a row\n"
            }' "$results"
    done
}
