# VGA scenarios (sourced by scenarios.sh; dash + busybox + socat). The
# guest tests/xen/guest/vga.asm boots from a CD with vga="stdvga" and shows
# four screens; dom0 takes each with QMP screendump (PPM) on the device
# model's second monitor socket, then sends the guest a byte on COM1.
#
#   vga-banner  SeaBIOS with the VGA BIOS from the ROM BAR left its banner:
#               720x400 text, not blank; its first line (the version) the
#               same pixels as in qemu's dump (later lines name the domain's
#               UUID and what SeaBIOS found, which differ)
#   vga-text    mode 3, known cells: 720x400, identical to qemu's dump
#   vga-m13     mode 13h, x XOR y: 640x400, BIOS palette pixels, identical
#   vga-vbe     DISPI 640x480x32 through the LFB: every probed pixel is
#               (x, y, x+y), identical to qemu's dump
#
# The guest waits for its step's digit (sent as soon as the dump is
# written, before the checks) or 300 s, so neither a late byte nor a slow
# dom0 moves it past a screen dom0 has not taken yet.
#
# Run with the qemu device model first (DM="qemu hvmdm") for the identity
# checks; hvmdm alone still gets the size, content and pixel checks.

VGA_STEPS="BANNER TEXT M13 VBE"
PPM_HDR=15                      # "P6\nWWW HHH\n255\n"

# qmp_screendump DOMID FILE [FORMAT]: true once the dump is written.
qmp_screendump()
{
    sock=$RUN/qmp-libxenstat-$1
    rm -f "$2" "$2.qmp"
    {
        printf '{"execute":"qmp_capabilities"}\n'
        printf '{"execute":"screendump","arguments":{"filename":"%s",' "$2"
        printf '"format":"%s"}}\n' "${3:-ppm}"
        i=0
        while [ "$i" -lt 300 ] &&
              [ "$(grep -c '"return"' "$2.qmp" 2>/dev/null)" -lt 2 ]; do
            sleep 0.1
            i=$(( i + 1 ))
        done
    } | timeout 60 socat - "UNIX-CONNECT:$sock" > "$2.qmp" 2>&1
    [ -s "$2" ]
}

# ppm_size FILE: "W H" from the header.
ppm_size()
{
    head -c "$PPM_HDR" "$1" 2>/dev/null | sed -n 2p
}

# ppm_pixel FILE W X Y: "rrggbb".
ppm_pixel()
{
    dd if="$1" bs=1 skip=$(( PPM_HDR + ($4 * $2 + $3) * 3 )) count=3 \
        2>/dev/null | od -An -tx1 | tr -d ' \n'
}

ppm_blank()
{
    [ "$(tail -c +$(( PPM_HDR + 1 )) "$1" | tr -d '\000' | head -c 1 |
        wc -c)" = 0 ]
}

# Text lines (16 pixel rows of a 720-wide dump) where two dumps differ.
ppm_diff_lines()
{
    cmp -l "$1" "$2" 2>/dev/null |
        awk -v h="$PPM_HDR" '{ r = int(($1 - 1 - h) / (720 * 3)); l[int(r / 16)] = 1 }
                             END { n = 0; for (k in l) n++; print n }'
}

# ppm_line FILE N: checksum of text line N (16 pixel rows, 720 wide).
ppm_line()
{
    tail -c +$(( PPM_HDR + 1 + $2 * 16 * 720 * 3 )) "$1" |
        head -c $(( 16 * 720 * 3 )) | md5sum | cut -d' ' -f1
}

# vga_check DM STEP FILE: the step's own checks; prints a failure or nothing.
vga_check()
{
    f=$3
    size=$(ppm_size "$f")
    case $2 in
    BANNER|TEXT) want="720 400" ;;
    M13) want="640 400" ;;
    VBE) want="640 480" ;;
    esac
    if [ "$size" != "$want" ]; then
        echo "screendump is '$size', expected '$want'"
        return
    fi
    if ppm_blank "$f"; then
        echo "screendump is blank"
        return
    fi
    case $2 in
    M13)
        for xy in "0 0 000000" "2 0 0000a8" "3 1 0000a8" "30 0 ffffff"; do
            set -- $xy
            got=$(ppm_pixel "$f" 640 "$1" "$2")
            [ "$got" = "$3" ] ||
                { echo "pixel ($1,$2) is $got, expected $3"; return; }
        done
        ;;
    VBE)
        for xy in "0 0 000000" "10 20 0a141e" "300 400 2c90bc" \
                  "639 479 7fdf5e"; do
            set -- $xy
            got=$(ppm_pixel "$f" 640 "$1" "$2")
            [ "$got" = "$3" ] ||
                { echo "pixel ($1,$2) is $got, expected $3"; return; }
        done
        ;;
    esac
}

# vga_compare STEP FILE: against qemu's dump of the same screen, if any
# (qemu for hvmdm, qemu-ours for hvmdm-ours).
vga_compare()
{
    ref=$WORK/vga-qemu${dm#hvmdm}-$1.ppm
    case $dm in qemu*) return 0 ;; esac
    [ -f "$ref" ] || { echo "(no qemu reference)"; return 0; }
    if [ "$1" = BANNER ]; then
        # SeaBIOS prints what it finds (the domain's UUID, boot devices),
        # which differs between the device models: the first line, its
        # version banner, must be the same pixels.
        n=$(ppm_diff_lines "$ref" "$2")
        if [ "$(ppm_line "$ref" 0)" = "$(ppm_line "$2" 0)" ]; then
            echo "first text line as qemu's ($n other lines differ)"
            return 0
        fi
        echo "first text line differs from qemu's ($n lines differ)"
        return 1
    fi
    cmp -s "$ref" "$2" && { echo "identical to qemu's dump"; return 0; }
    echo "differs from qemu's dump in $(cmp -l "$ref" "$2" | wc -l) bytes"
    return 1
}

# vga_wait_step STEP: wait for "VGA STEP" on COM1; every 30 s without it,
# send the previous step's digit again (a byte can be lost: SeaBIOS's serial
# console read COM1 under hvmdm once). Logged, so a run shows it.
vga_wait_step()
{
    waited=0
    while :; do
        wait_text "$DIR/serial" "VGA $1" 30 "$DOMID"
        w=$?
        [ "$w" = 1 ] || return "$w"
        waited=$(( waited + 30 ))
        [ "$waited" -lt "$T_BOOT" ] || return 1
        [ "$VGA_KEY" -gt 1 ] || continue
        log "$dm vga: no 'VGA $1' after $waited s: digit" \
            "$(( VGA_KEY - 1 )) again" >&2
        printf '%s' "$(( VGA_KEY - 1 ))" > "$(cat "$DIR/tty")"
    done
}

vga_step()
{
    step=$1
    name=vga-$(echo "$step" | tr 'A-Z' 'a-z')
    f=$WORK/vga-$dm-$step.ppm
    vga_wait_step "$step" > /dev/null
    w=$?
    if [ "$w" != 0 ]; then
        result "$dm" "$name" FAIL "$(wait_failure "$w" "'VGA $step' on COM1")"
        return 1
    fi
    if ! qmp_screendump "$DOMID" "$f"; then
        result "$dm" "$name" FAIL "QMP screendump failed:" \
            "$(tr -d '\r\n' < "$f.qmp" | cut -c1-160)"
        return 1
    fi
    md5sum "$f" >> "$DIR/screendumps"
    # make demo shows hvmdm's (base64 over the results line protocol);
    # taken before the slow checks, while the guest still shows it.
    if [ "$step" = BANNER ] &&
       qmp_screendump "$DOMID" "$WORK/screen.png" png; then
        base64 "$WORK/screen.png" > "$WORK/screen.png.b64"
        dump_file "$dm/screen.png.b64" "$WORK/screen.png.b64"
    fi
    # The screen is taken: the guest may go on while dom0 checks it.
    printf '%s' "$VGA_KEY" > "$(cat "$DIR/tty")"
    VGA_KEY=$(( VGA_KEY + 1 ))
    why=$(vga_check "$dm" "$step" "$f")
    if [ -n "$why" ]; then
        result "$dm" "$name" FAIL "$why"
    elif cmp_note=$(vga_compare "$step" "$f"); then
        result "$dm" "$name" PASS "$(ppm_size "$f") $cmp_note"
    else
        result "$dm" "$name" FAIL "$cmp_note"
    fi
    return 0
}

run_vga()
{
    dm=$1
    if ! boot_guest "$dm" vga; then
        for step in $VGA_STEPS; do
            result "$dm" "vga-$(echo "$step" | tr 'A-Z' 'a-z')" FAIL \
                "$(create_failure)"
        done
        cleanup_guest
        collect_logs
        return
    fi
    VGA_KEY=1
    for step in $VGA_STEPS; do
        vga_step "$step" || break
    done
    wait_text "$DIR/serial" "VGA DONE" "$T_STEP" "$DOMID" >/dev/null
    log "$dm vga guest: $(grep -c 'VGA KEY' "$DIR/serial") steps ended by" \
        "the COM1 byte, $(grep -c 'VGA TIMEOUT' "$DIR/serial") by the timeout"
    dump_file "$dm/$NAME.screendumps" "$DIR/screendumps"
    cleanup_guest
    collect_logs
}

# --- linux-fb -------------------------------------------------------------
# A Linux guest (tests/xen/dom0/linux.sh, mode pv, vga="stdvga", kernel
# command line video=1024x768) loads bochs-drm; its fb hook
# (tests/xen/guest/fb-hook.sh) clears the framebuffer console, writes one
# line and says "FB <name> <virtual_size> <driver> end" on COM1. dom0 takes the
# screen: 1024x768, the first text line not blank, the rest black (the
# dump shows the guest's latest VRAM, not the boot screen), and with both
# device models identical to qemu's dump. Then the guest powers off.

# ppm_header_len FILE: bytes of "P6\nW H\n255\n".
ppm_header_len()
{
    head -n 3 "$1" | wc -c
}

# fb_rows_blank FILE FIRST COUNT: are COUNT pixel rows from FIRST black?
fb_rows_blank()
{
    h=$(ppm_header_len "$1")
    [ "$(tail -c +$(( h + 1 + $2 * 1024 * 3 )) "$1" |
        head -c $(( $3 * 1024 * 3 )) | tr -d '\000' | head -c 1 |
        wc -c)" = 0 ]
}

# fb_check FILE "NAME SIZE DRIVER end": prints a failure or nothing.
fb_check()
{
    set -- "$1" $2
    case $2 in ''|NONE)
        echo "no framebuffer in the guest (1234:1111 driver: ${3:-?})"
        return
    esac
    [ "$4" = bochs-drm ] ||
        { echo "1234:1111 is driven by '$4', not bochs-drm"; return; }
    [ "$3" = 1024,768 ] ||
        { echo "the guest's fb0 ($2) is $3, expected 1024,768"; return; }
    size=$(head -n 2 "$1" | sed -n 2p)
    [ "$size" = "1024 768" ] ||
        { echo "screendump is '$size', expected '1024 768'"; return; }
    fb_rows_blank "$1" 0 16 &&
        { echo "the first text line is blank in the screendump"; return; }
    fb_rows_blank "$1" 32 736 ||
        echo "rows 32-767 are not black: the dump is not the guest's" \
            "cleared console"
}

# fb_compare FILE: against qemu's dump of the same screen, if any.
fb_compare()
{
    ref=$WORK/fb-qemu${dm#hvmdm}.ppm
    case $dm in qemu*) return 0 ;; esac
    [ -f "$ref" ] || { echo "(no qemu reference)"; return 0; }
    cmp -s "$ref" "$1" && { echo "identical to qemu's dump"; return 0; }
    echo "differs from qemu's dump in $(cmp -l "$ref" "$1" | wc -l) bytes"
    return 1
}

# Called by run_linux (dom0/linux.sh) for linux-fb.
linux_run_fb()
{
    f=$WORK/fb-$dm.ppm gowhy=""
    # The whole line ("end"): it arrives a byte at a time.
    t=$(wait_text "$DIR/serial" "^FB .* end" "$T_LINUX" "$DOMID")
    w=$?
    if [ "$w" != 0 ]; then
        result "$dm" "$kind" FAIL "$(wait_failure "$w" "'FB' on COM1"):" \
            "$(serial_oneline)"
        return
    fi
    metric "$dm" linux_fb "$(secs $(( t - T0 )))"
    fb=$(linux_marker FB)
    if ! qmp_screendump "$DOMID" "$f"; then
        result "$dm" "$kind" FAIL "QMP screendump failed:" \
            "$(tr -d '\r\n' < "$f.qmp" | cut -c1-160)"
        return
    fi
    md5sum "$f" >> "$DIR/screendumps"
    echo go > "$(cat "$DIR/tty")"
    # The guest answers at once; without its answer it would wait 300 s
    # for the byte, longer than the poweroff wait below.
    wait_text "$DIR/serial" "^FB GO" 30 "$DOMID" >/dev/null ||
        gowhy="no 'FB GO' on COM1 30 s after dom0's 'go'"
    dump_file "$dm/$NAME.screendumps" "$DIR/screendumps"
    why=$(fb_check "$f" "$fb")
    if [ -n "$why" ] && [ -z "$(fb_check "$f" "$fb")" ]; then
        # The same bytes read differently: a dom0 tool of the check
        # crashed (busybox segfaults under TCG), not the screen.
        log "$dm linux-fb: '$why' on the first reading only"
        why=""
    fi
    if [ -z "$why" ] && ! note=$(fb_compare "$f"); then
        why=$note
    fi
    [ -z "$why" ] && why=$gowhy
    if ! linux_wait_gone; then
        [ -z "$why" ] && why="poweroff -f did not end the domain"
        why="$why $(still_there)"
    fi
    linux_img_results
    if [ -n "$why" ]; then
        result "$dm" "$kind" FAIL "$why"
    else
        result "$dm" "$kind" PASS "bochs-drm fb0 ${fb%% *} 1024x768," \
            "first line drawn, rest black; ${note:-the reference}"
    fi
}
