# VNC scenarios (sourced by scenarios.sh; dash + busybox + socat). The
# guest tests/xen/guest/vnc.asm boots from a CD with vga="stdvga", vnc=1
# and, for hvmdm, vncpasswd= (Debian's qemu-system-xen has no DES: "Cipher
# backend does not support DES algorithm", so qemu runs without one). dom0's
# VNC client is /test/rfb-client (tests/xen/dom0/rfb-client.c, on
# libvncclient) on the port libxl publishes.
#
#   vnc-port    xl create succeeded, so libxl's query-vnc (and for hvmdm
#               change-vnc-password) worked; console/vnc-port is published
#   vnc-auth    the port greets as RFB 3.8 offering VNC authentication only
#               and refuses a wrong password (qemu: no authentication); the
#               right password is what the next three use
#   vnc-banner  SeaBIOS's screen taken through VNC: 720x400, not blank, its
#               first text line (the version) the same pixels as through
#               qemu's VNC (later lines name the domain's UUID and boot
#               devices, which differ)
#   vnc-text    the boot program's text screen through VNC: identical to
#               qemu's, and for hvmdm to its own QMP screendump
#   vnc-keys    a line typed through VNC (keysyms, Shift held as a client
#               does) reaches the guest's PS/2 keyboard and comes back
#               intact on COM1 (INT 16h echo); then a line typed with QEMU
#               extended key events (scancodes, as TigerVNC, noVNC and
#               virt-viewer send them) from a client whose layout is
#               German (keysyms y and z swapped), ended with keypad Enter
#               (an 0xe0 scancode): only the scancodes give the line
#
# Run with the qemu device model first (DM="qemu hvmdm") for the
# comparisons; hvmdm alone still gets every other check.

VNC_SCENARIOS="vnc-port vnc-auth vnc-banner vnc-text vnc-keys"
VNC_PASS=hvm-vnc
VNC_LINE='Hello, VNC! 0-9 [x]=y; ~`@#'
VNC_XLINE='Scancodes, not keysyms. Zyzzyva 2026'

# The xl.cfg lines of the VNC guest.
vnc_guest_config()
{
    echo 'vnc = 1'
    echo 'vnclisten = "127.0.0.1"'
    [ "${1%-ours}" = hvmdm ] && echo "vncpasswd = \"$VNC_PASS\""
    return 0
}

vnc_result()
{
    VNC_GOT="$VNC_GOT $2 "
    result "$@"
}

# rfb-client with the guest's password; its messages go to the log.
vnc_client()
{
    pw=""
    [ "${dm%-ours}" = hvmdm ] && pw="-p $VNC_PASS"
    echo "# rfb-client $*" >> "$DIR/rfb-client.log"
    timeout 150 /test/rfb-client $pw "$@" >> "$DIR/rfb-client.log" 2>&1
}

vnc_client_error()
{
    msg=$(grep '^rfb-client:' "$DIR/rfb-client.log" | tail -n 1)
    echo "rfb-client exit $1: ${msg:-see $NAME.rfb-client.log}"
}

vnc_port_check()
{
    base=/local/domain/$DOMID/console
    VNC_PORT=$(xenstore-read "$base/vnc-port" 2>/dev/null)
    listen=$(xenstore-read "$base/vnc-listen" 2>/dev/null)
    pass=$(xenstore-read "$base/vnc-pass" 2>/dev/null)
    case $VNC_PORT in
    59[0-9][0-9])
        vnc_result "$dm" vnc-port PASS "console/vnc-port $VNC_PORT," \
            "vnc-listen $listen, vnc-pass ${pass:+set}"
        return 0 ;;
    esac
    vnc_result "$dm" vnc-port FAIL "console/vnc-port is '$VNC_PORT'"
    return 1
}

vnc_auth_check()
{
    got=$( (printf 'RFB 003.008\n'; sleep 2) |
        timeout 10 socat - "TCP:127.0.0.1:$VNC_PORT" 2>/dev/null |
        head -c 14 | od -An -tx1 | tr -d ' \n')
    if [ "${dm%-ours}" != hvmdm ]; then
        if [ "$got" = 524642203030332e3030380a0101 ]; then
            vnc_result "$dm" vnc-auth PASS \
            "RFB 003.008, no authentication" \
                "(no vncpasswd for qemu)"
        else
            vnc_result "$dm" vnc-auth FAIL "port $VNC_PORT answered '$got'"
        fi
        return
    fi
    if [ "$got" != 524642203030332e3030380a0102 ]; then
        vnc_result "$dm" vnc-auth FAIL "port $VNC_PORT answered '$got'"
        return
    fi
    echo "# rfb-client -p wrong (must be refused)" >> "$DIR/rfb-client.log"
    timeout 60 /test/rfb-client -p wrong-pw -t 20 127.0.0.1 "$VNC_PORT" \
        capture "$WORK/vnc-wrong.ppm" >> "$DIR/rfb-client.log" 2>&1
    rc=$?
    if [ "$rc" = 2 ]; then
        vnc_result "$dm" vnc-auth PASS \
            "RFB 003.008, VNC authentication only;" \
            "a wrong password is refused"
    else
        vnc_result "$dm" vnc-auth FAIL \
            "a wrong password got rfb-client exit $rc (2 = refused)"
    fi
}

# vnc_compare STEP FILE: against qemu's capture of the same screen, if any
# (qemu for hvmdm, qemu-ours for hvmdm-ours).
vnc_compare()
{
    ref=$WORK/vnc-qemu${dm#hvmdm}-$1.ppm
    case $dm in qemu*) echo "(the reference)"; return 0 ;; esac
    [ -f "$ref" ] || { echo "(no qemu reference)"; return 0; }
    if [ "$1" = BANNER ]; then
        n=$(ppm_diff_lines "$ref" "$2")
        if [ "$(ppm_line "$ref" 0)" = "$(ppm_line "$2" 0)" ]; then
            echo "first text line as through qemu's VNC ($n other" \
                "lines differ)"
            return 0
        fi
        echo "first text line differs from qemu's VNC ($n lines differ)"
        return 1
    fi
    if cmp -s "$ref" "$2"; then
        echo "identical to qemu's VNC picture"
        return 0
    fi
    echo "differs from qemu's VNC picture in $(cmp -l "$ref" "$2" | wc -l)" \
        "bytes"
    return 1
}

# hvmdm's text screen: the VNC picture is its own screendump, byte for byte.
vnc_vs_screendump()
{
    case $dm in hvmdm*) ;; *) return 0 ;; esac
    qmp_screendump "$DOMID" "$WORK/vnc-dump.ppm" ||
        { echo "QMP screendump failed"; return 1; }
    if cmp -s "$WORK/vnc-dump.ppm" "$1"; then
        echo "; byte for byte its QMP screendump"
        return 0
    fi
    echo "; differs from its own QMP screendump in" \
        "$(cmp -l "$WORK/vnc-dump.ppm" "$1" | wc -l) bytes"
    return 1
}

# vnc_screen STEP SCENARIO: take the step's screen through VNC, check it,
# then send the guest the step's digit.
vnc_screen()
{
    step=$1 sc=$2
    f=$WORK/vnc-$dm-$step.ppm
    t=$(wait_text "$DIR/serial" "VNC $step" "$T_BOOT" "$DOMID")
    w=$?
    if [ "$w" != 0 ]; then
        vnc_result "$dm" "$sc" FAIL \
            "$(wait_failure "$w" "'VNC $step' on COM1")"
        return 1
    fi
    t0=$(now)
    vnc_client -t 120 127.0.0.1 "$VNC_PORT" capture "$f"
    rc=$?
    t1=$(now)
    printf '%s' "$VNC_KEY" > "$(cat "$DIR/tty")"
    VNC_KEY=$(( VNC_KEY + 1 ))
    if [ "$rc" != 0 ]; then
        vnc_result "$dm" "$sc" FAIL "$(vnc_client_error "$rc")"
        return 1
    fi
    metric "$dm" "vnc_$step" "$(secs $(( t1 - t0 )))"
    size=$(ppm_size "$f")
    if [ "$size" != "720 400" ]; then
        vnc_result "$dm" "$sc" FAIL \
            "VNC picture is '$size', expected 720x400"
    elif ppm_blank "$f"; then
        vnc_result "$dm" "$sc" FAIL "VNC picture is blank"
    elif ! note=$(vnc_compare "$step" "$f"); then
        vnc_result "$dm" "$sc" FAIL "$note"
    elif own="" && [ "$step" = TEXT ] && ! own=$(vnc_vs_screendump "$f")
    then
        vnc_result "$dm" "$sc" FAIL "$note$own"
    else
        vnc_result "$dm" "$sc" PASS "720x400 in $(secs $(( t1 - t0 ))) s," \
            "$note${own:-}"
    fi
    return 0
}

vnc_keys_check()
{
    t=$(wait_text "$DIR/serial" "KEYS>" "$T_STEP" "$DOMID")
    w=$?
    if [ "$w" != 0 ]; then
        vnc_result "$dm" vnc-keys FAIL \
            "$(wait_failure "$w" "'KEYS>' on COM1")"
        return
    fi
    t0=$(now)
    vnc_type KEYS type "$VNC_LINE" || return
    t1=$(now)
    vnc_type XKEYS xtype "$VNC_XLINE" || return
    t2=$(now)
    metric "$dm" vnc_keys "$(secs $(( t1 - t0 )))"
    metric "$dm" vnc_xkeys "$(secs $(( t2 - t1 )))"
    vnc_result "$dm" vnc-keys PASS "'$VNC_LINE' + Enter typed through" \
        "VNC (keysyms), echoed intact on COM1 in $(secs $(( t1 - t0 ))) s;" \
        "'$VNC_XLINE' + keypad Enter as extended key events (scancodes," \
        "German keysyms) in $(secs $(( t2 - t1 ))) s"
}

# vnc_type PROMPT MODE LINE: type LINE with rfb-client MODE (type: keysyms,
# xtype: extended key events) and check that COM1's PROMPT line echoes it;
# a failure is vnc-keys' result.
vnc_type()
{
    if [ "$1" != KEYS ]; then
        t=$(wait_text "$DIR/serial" "^$1>" "$T_STEP" "$DOMID")
        if [ "$?" != 0 ]; then
            vnc_result "$dm" vnc-keys FAIL "no '$1>' prompt on COM1 after" \
                "the first line"
            return 1
        fi
    fi
    vnc_client -d 100 127.0.0.1 "$VNC_PORT" "$2" "$3"
    rc=$?
    if [ "$rc" != 0 ]; then
        vnc_result "$dm" vnc-keys FAIL "$2: $(vnc_client_error "$rc")"
        return 1
    fi
    t=$(wait_text "$DIR/serial" "^$1>.*<" "$T_STEP" "$DOMID")
    w=$?
    got=$(grep -a "^$1>" "$DIR/serial" | head -n 1 | tr -d '\r')
    if [ "$w" != 0 ]; then
        vnc_result "$dm" vnc-keys FAIL "$2: no Enter echoed within" \
            "$T_STEP s; COM1 has '$got'"
        return 1
    fi
    if [ "$got" != "$1>$3<" ]; then
        vnc_result "$dm" vnc-keys FAIL "$2 '$3', COM1 has '$got'"
        return 1
    fi
    return 0
}

run_vnc()
{
    dm=$1
    # dom0's loopback is down until someone brings it up, and the device
    # model binds its VNC socket at start-up (qemu: "Cannot assign
    # requested address", and xl create fails)
    ip link set lo up 2>/dev/null || ifconfig lo up 2>/dev/null
    if ! boot_guest "$dm" vnc; then
        why=$(create_failure)
        for sc in $VNC_SCENARIOS; do
            result "$dm" "$sc" FAIL "$why"
        done
        cleanup_guest
        collect_logs
        return
    fi
    : > "$DIR/rfb-client.log"
    VNC_KEY=1
    VNC_GOT=" "
    if vnc_port_check; then
        vnc_auth_check
        # the banner step sends its digit even when its check fails
        vnc_screen BANNER vnc-banner
        vnc_screen TEXT vnc-text && vnc_keys_check
    fi
    for sc in $VNC_SCENARIOS; do
        case $VNC_GOT in *" $sc "*) continue ;; esac
        result "$dm" "$sc" FAIL "not run: an earlier VNC step failed"
    done
    dump_file "$dm/$NAME.rfb-client.log" "$DIR/rfb-client.log"
    cleanup_guest
    collect_logs
}
