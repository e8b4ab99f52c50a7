# The SDL scenario (sourced by scenarios.sh; dash + busybox). An X server
# in dom0 (Xvfb, with xkbcomp and the xkb data it compiles its keymap from)
# is the display; the guest is the VNC guest's program
# (tests/xen/guest/vnc.asm) booted with vga="stdvga", vnc=0, sdl=1 and
# display=":0", which libxl passes to the device model as -display sdl and
# DISPLAY.
#
#   sdl-window  xl create succeeds, the device model opens its window on
#               the X server, and the screen (taken with xwd) shows the boot
#               program's text screen: the device model's QMP screendump
#               is found on it pixel for pixel (/test/xwd2ppm -f)
#
# Debian's qemu-system-xen is built without SDL (its -display help lists
# only "none"; xl create with sdl=1 would fail), so qemu reports SKIP.

SDL_DISPLAY=:0

# Start Xvfb once; true when its socket is there.
sdl_xvfb()
{
    sock=/tmp/.X11-unix/X${SDL_DISPLAY#:}
    [ -S "$sock" ] && return 0
    mkdir -p /tmp/.X11-unix /var/lib/xkb
    chmod 1777 /tmp/.X11-unix
    Xvfb "$SDL_DISPLAY" -screen 0 1024x768x24 -nolisten tcp \
        > "$WORK/xvfb.log" 2>&1 &
    i=0
    while [ "$i" -lt 600 ] && [ ! -S "$sock" ]; do
        sleep 0.1
        i=$(( i + 1 ))
    done
    dump_file dom0/xvfb.log "$WORK/xvfb.log"
    [ -S "$sock" ]
}

# The xl.cfg lines of the SDL guest.
sdl_guest_config()
{
    echo 'sdl = 1'
    echo "display = \"$SDL_DISPLAY\""
}

# The X screen as PPM $1 and hvmdm's screendump as $2, until the
# screendump appears pixel for pixel on the screen (the X server draws a
# little after SDL presents) or 20 s; SDL_AT is where. The whole screen:
# the window's title is not readable by name (WM_NAME) in dom0's C locale,
# and SDL centres it.
sdl_take_window()
{
    SDL_TRIES=0
    while [ "$SDL_TRIES" -lt 40 ]; do
        SDL_TRIES=$(( SDL_TRIES + 1 ))
        rm -f "$1" "$WORK/sdl.xwd"
        if DISPLAY=$SDL_DISPLAY timeout 30 xwd -silent -root \
                -out "$WORK/sdl.xwd" 2> "$WORK/sdl.err" &&
            /test/xwd2ppm "$WORK/sdl.xwd" "$1" 2>> "$WORK/sdl.err" &&
            qmp_screendump "$DOMID" "$2" &&
            SDL_AT=$(/test/xwd2ppm -f "$2" "$WORK/sdl.xwd" \
                     2>> "$WORK/sdl.err")
        then
            return 0
        fi
        sdl_log_failure
        sleep 0.5
    done
    return 1
}

# Log a failed capture once per distinct message; the first time also the
# capture's size and first bytes (the XWD header).
sdl_log_failure()
{
    [ -s "$WORK/sdl.err" ] || echo "capture $SDL_TRIES: no match" \
        > "$WORK/sdl.err"
    cmp -s "$WORK/sdl.err" "$WORK/sdl.err.last" && return
    echo "capture $SDL_TRIES:" >> "$DIR/sdl.log"
    cat "$WORK/sdl.err" >> "$DIR/sdl.log"
    if [ ! -f "$WORK/sdl.err.last" ] && [ -f "$WORK/sdl.xwd" ]; then
        ls -l "$WORK/sdl.xwd" >> "$DIR/sdl.log"
        od -A d -t x1 -N 128 "$WORK/sdl.xwd" >> "$DIR/sdl.log"
    fi
    cp "$WORK/sdl.err" "$WORK/sdl.err.last"
}

run_sdl()
{
    dm=$1
    case ${dm%-ours} in qemu)
        result "$dm" sdl-window SKIP "Debian's qemu-system-xen is built" \
            "without SDL"
        return ;;
    esac
    if ! sdl_xvfb; then
        result "$dm" sdl-window FAIL "Xvfb did not start in dom0:" \
            "$(tail -n 1 "$WORK/xvfb.log")"
        return
    fi
    if ! boot_guest "$dm" sdl; then
        result "$dm" sdl-window FAIL "$(create_failure)"
        cleanup_guest
        collect_logs
        return
    fi
    : > "$DIR/sdl.log"
    rm -f "$WORK/sdl.err.last"
    sdl_window_check
    dump_file "$dm/$NAME.sdl.log" "$DIR/sdl.log"
    cleanup_guest
    collect_logs
}

sdl_window_check()
{
    t=$(wait_text "$DIR/serial" "VNC BANNER" "$T_BOOT" "$DOMID")
    w=$?
    if [ "$w" = 0 ]; then
        printf 1 > "$(cat "$DIR/tty")"
        t=$(wait_text "$DIR/serial" "VNC TEXT" "$T_STEP" "$DOMID")
        w=$?
    fi
    if [ "$w" != 0 ]; then
        result "$dm" sdl-window FAIL \
            "$(wait_failure "$w" "the text screen ('VNC TEXT' on COM1)")"
        return
    fi
    win=$WORK/sdl-window.ppm
    dump=$WORK/sdl-dump.ppm
    if sdl_take_window "$win" "$dump"; then
        size=$(ppm_size "$dump" | tr ' ' x)
        result "$dm" sdl-window PASS "xl create with sdl=1; the window on" \
            "Xvfb $SDL_DISPLAY shows the text screen: the $size QMP" \
            "screendump is on xwd's capture pixel for pixel at" \
            "($SDL_AT) (capture $SDL_TRIES)"
    elif [ ! -s "$win" ]; then
        result "$dm" sdl-window FAIL "no window to take:" \
            "$(head -n 1 "$WORK/sdl.err.last" 2>/dev/null)"
    elif [ ! -s "$dump" ]; then
        result "$dm" sdl-window FAIL "QMP screendump failed"
    else
        n=$(grep -c 'sdl: ' "/var/log/xen/qemu-dm-$NAME.log")
        result "$dm" sdl-window FAIL "the screendump" \
            "($(ppm_size "$dump")) is nowhere on the X screen" \
            "($(ppm_size "$win")); $n sdl lines in the DM log"
    fi
}
