# dom0 initramfs for tests/xen/run, built at test time from the host's
# Debian packages and hvmdm's build (sourced by tests/xen/run; POSIX sh).

XEN_LIB=/usr/lib/xen-4.17
QEMU_XEN=/usr/libexec/xen-qemu-system-i386
DOM0_MODULES="xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs"
DOM0_MODULES="$DOM0_MODULES xen-netback xen-blkback tun"
DOM0_MODULES="$DOM0_MODULES loop"
DOM0_MODULES="$DOM0_MODULES bridge"

# The newest kernel under /boot that has its modules installed.
rootfs_kernel_version()
{
    for k in /boot/vmlinuz-*; do
        v=${k#/boot/vmlinuz-}
        [ -d "/lib/modules/$v" ] && echo "$v"
    done | sort -V | tail -n 1
}

# Copy file $1 to the same path under $ROOT (following symlinks).
rootfs_copy()
{
    mkdir -p "$ROOT$(dirname "$1")"
    cp -L "$1" "$ROOT$1"
}

# Copy program $1 to $ROOT$2 (default: same path) with every library ldd
# lists for it, at the paths the dynamic linker will look them up.
rootfs_program()
{
    dest=${2:-$1}
    mkdir -p "$ROOT$(dirname "$dest")"
    cp -L "$1" "$ROOT$dest" || return 1
    ldd "$1" > "$BUILD/ldd.out" 2>&1 || {
        cat "$BUILD/ldd.out"
        return 1
    }
    if grep -q 'not found' "$BUILD/ldd.out"; then
        echo "rootfs: $1 needs a library this host lacks:" >&2
        grep 'not found' "$BUILD/ldd.out" >&2
        return 1
    fi
    for lib in $(awk '$2 == "=>" && $3 ~ /^\// { print $3 }
                      $1 ~ /^\// { print $1 }' "$BUILD/ldd.out"); do
        [ -e "$ROOT$lib" ] || rootfs_copy "$lib" || return 1
    done
}

# Where the host's dynamic linker finds library $1.
rootfs_libpath()
{
    /sbin/ldconfig -p |
        awk -v lib="$1" '$1 == lib && /x86-64/ { print $NF; exit }'
}

# Userland: busybox applets, with dash as /bin/sh (busybox ash 1.35 was
# seen to segfault in forked subshells of the scenario loops).
rootfs_busybox()
{
    mkdir -p "$ROOT/bin"
    cp /bin/busybox "$ROOT/bin/busybox" || return 1
    rootfs_program /bin/dash || return 1
    ln -s dash "$ROOT/bin/sh"
    for app in $(/bin/busybox --list); do
        [ -e "$ROOT/bin/$app" ] || ln -s busybox "$ROOT/bin/$app"
    done
}

rootfs_xen_tools()
{
    for prog in xl xenstored xenconsoled xen-init-dom0 libxl-save-helper; do
        rootfs_program "$XEN_LIB/bin/$prog" || return 1
    done
    rootfs_program /usr/bin/xenstore || return 1
    for tool in read write exists list ls rm watch chmod; do
        ln -sf xenstore "$ROOT/usr/bin/xenstore-$tool"
    done
    # glibc dlopen()s libgcc_s for pthread_cancel, which xl uses when a
    # domain creation fails; ldd cannot see it.
    rootfs_copy "$(rootfs_libpath libgcc_s.so.1)" || return 1
    rootfs_copy "$XEN_LIB/boot/hvmloader" || return 1
    rootfs_copy /usr/share/seabios/bios-256k.bin || return 1
    mkdir -p "$ROOT/etc/xen"
    cp -a /etc/xen/scripts "$ROOT/etc/xen/" || return 1
    [ -f /etc/xen/xl.conf ] && cp /etc/xen/xl.conf "$ROOT/etc/xen/"
    return 0
}

# The device models under test: Debian's qemu-xen and hvmdm's build.
rootfs_device_models()
{
    # Direct kernel boot's option ROMs (qemu-system-data), for both.
    mkdir -p "$ROOT/usr/share/qemu"
    cp /usr/share/qemu/linuxboot.bin /usr/share/qemu/linuxboot_dma.bin \
        "$ROOT/usr/share/qemu/" || return 1
    # The e1000's iPXE ROM (ipxe-qemu): hvmdm reads /usr/lib/ipxe/qemu/,
    # QEMU its data directory.
    mkdir -p "$ROOT/usr/lib/ipxe/qemu"
    for rom in /usr/lib/ipxe/qemu/efi-e1000.rom /usr/lib/ipxe/qemu/pxe-e1000.rom
    do
        [ -f "$rom" ] || continue
        cp "$rom" "$ROOT/usr/lib/ipxe/qemu/" || return 1
        cp "$rom" "$ROOT/usr/share/qemu/" || return 1
    done
    case " $DMS " in *"-ours "*)
        mkdir -p "$ROOT/usr/lib/hvmdm"
        cp "$HVMLOADER_BIN" "$ROOT/usr/lib/hvmdm/hvmloader" || return 1
        # the Linux guests' ACPI tables are decoded in dom0 (linux.sh)
        rootfs_program "$(command -v iasl)" /usr/bin/iasl || return 1
    esac
    for dm in $DMS; do
        case ${dm%-ours} in
        qemu)
            rootfs_program "$QEMU_XEN" || return 1
            # read at start-up even with -vnc none
            mkdir -p "$ROOT/usr/share/qemu"
            cp -a /usr/share/qemu/keymaps "$ROOT/usr/share/qemu/" ||
                return 1
            ;;
        hvmdm)
            rootfs_program "$HVMDM_BIN" /usr/lib/hvmdm/hvmdm || return 1
            # its SDL and VNC front ends, loaded from beside it on demand
            for mod in "$(dirname "$HVMDM_BIN")"/hvmdm-ui-*.so; do
                [ -f "$mod" ] || continue
                rootfs_program "$mod" "/usr/lib/hvmdm/${mod##*/}" || return 1
            done
            ;;
        esac
    done
}

rootfs_modules()
{
    : > "$ROOT/test/modules.list"
    for mod in $DOM0_MODULES; do
        modprobe -S "$KVER" --show-depends "$mod" > "$BUILD/modules.out" \
            || return 1
        for ko in $(awk '$1 == "insmod" { print $2 }' "$BUILD/modules.out")
        do
            grep -qx "$ko" "$ROOT/test/modules.list" && continue
            rootfs_copy "$ko" || return 1
            echo "$ko" >> "$ROOT/test/modules.list"
        done
    done
}

# Scenario scripts, guest images and what dom0 needs to know.
rootfs_test_files()
{
    cp "$XEN_TESTS/dom0/init" "$ROOT/init" || return 1
    cp "$XEN_TESTS/dom0/scenarios.sh" "$XEN_TESTS/lib/guest.sh" \
        "$BUILD/guest/expected" "$ROOT/test/" || return 1
    chmod 755 "$ROOT/init"
    mkdir -p "$ROOT/test/images"
    cp -a "$BUILD/guest/disk-parts" "$BUILD/guest/cd.iso" \
        "$ROOT/test/images/" || return 1
    cp "$XEN_TESTS/dom0/linux.sh" "$ROOT/test/" || return 1
    cp "$XEN_TESTS/dom0/block-loop" "$ROOT/test/block-loop" || return 1
    chmod 755 "$ROOT/test/block-loop"
    cp "$XEN_TESTS/dom0/net.sh" "$XEN_TESTS/dom0/vif-net" "$ROOT/test/" ||
        return 1
    if [ -d "$BUILD/linux" ]; then
        mkdir -p "$ROOT/test/linux"
        cp "$BUILD/linux/vmlinuz" "$BUILD/linux/initrd.gz" \
            "$BUILD/linux/pattern.bin" "$ROOT/test/linux/" || return 1
    fi
    rootfs_config &&
    rootfs_vga &&
    rootfs_vnc &&
    rootfs_sdl
}

# What dom0 needs to know (/test/config); TODO: the "round:dm:scenario"
# runs a restarted machine still has to do (empty: all of them).
rootfs_config()
{
    {
        echo "SCENARIOS='$SCENARIOS'"
        echo "DMS='$DMS'"
        echo "T_CREATE=$T_CREATE"
        echo "T_BOOT=$T_BOOT"
        echo "T_STEP=$T_STEP"
        echo "DM_EXIT_MAX_CS=$DM_EXIT_MAX_CS"
        echo "SOAK=$SOAK"
        echo "NET_MB=${NET_MB:-}"
        echo "NET_RX_MB=${NET_RX_MB:-}"
        echo "GUEST_VCPUS=${GUEST_VCPUS:-1}"
        echo "LINUX_SCREEN=${LINUX_SCREEN:-}"
        echo "TODO='${TODO:-}'"
        # one definition of a crash line, for dom0's dom0_crashes too
        echo "DOM0_CRASH_RE='$DOM0_CRASH_RE'"
    } > "$ROOT/test/config"
}

# The VGA scenarios: their script and guest, the VGA BIOS both device
# models load (QEMU looks in its data directory), socat for QMP.
rootfs_vga()
{
    cp "$XEN_TESTS/dom0/vga.sh" "$ROOT/test/" || return 1
    cp "$BUILD/guest/vga.iso" "$ROOT/test/images/" || return 1
    rootfs_copy /usr/share/seabios/vgabios-stdvga.bin || return 1
    mkdir -p "$ROOT/usr/share/qemu"
    cp -L /usr/share/seabios/vgabios-stdvga.bin "$ROOT/usr/share/qemu/" ||
        return 1
    rootfs_program /usr/bin/socat
}

# The VNC scenarios: their script and guest, and dom0's RFB client built
# here against libvncclient (libvncserver-dev), with its libraries.
rootfs_vnc()
{
    cp "$XEN_TESTS/dom0/vnc.sh" "$ROOT/test/" || return 1
    cp "$BUILD/guest/vnc.iso" "$ROOT/test/images/" || return 1
    gcc -O2 -Wall -Wextra -Werror -o "$BUILD/rfb-client" \
        "$XEN_TESTS/dom0/rfb-client.c" -lvncclient || return 1
    rootfs_program "$BUILD/rfb-client" /test/rfb-client
}

# The SDL scenario: an X server (Xvfb, xkbcomp, the xkb data), xwd and
# our XWD-to-PPM converter, and the X libraries SDL2 dlopen()s (ldd cannot
# see them): about 9 MB more in the compressed initramfs, only when the
# scenario is selected.
rootfs_sdl()
{
    cp "$XEN_TESTS/dom0/sdl.sh" "$ROOT/test/" || return 1
    case " $SCENARIOS " in *" sdl-window "*) ;; *) return 0 ;; esac
    for prog in /usr/bin/Xvfb /usr/bin/xkbcomp /usr/bin/xwd; do
        rootfs_program "$prog" || return 1
    done
    mkdir -p "$ROOT/usr/share/X11" "$ROOT/var/lib/xkb"
    cp -a /usr/share/X11/xkb "$ROOT/usr/share/X11/" || return 1
    for lib in libX11.so.6 libXext.so.6 libXcursor.so.1 libXi.so.6 \
               libXfixes.so.3 libXrandr.so.2 libXss.so.1; do
        rootfs_program "$(rootfs_libpath "$lib")" || return 1
    done
    gcc -O2 -Wall -Wextra -Werror -o "$BUILD/xwd2ppm" \
        "$XEN_TESTS/dom0/xwd2ppm.c" || return 1
    cp "$BUILD/xwd2ppm" "$ROOT/test/xwd2ppm"
}

rootfs_skeleton()
{
    for d in dev proc sys tmp run etc root test usr/bin usr/sbin sbin \
             var/log/xen/console var/lib/xen var/lib/xenstored; do
        mkdir -p "$ROOT/$d"
    done
    ln -s ../run "$ROOT/var/run"
    echo "root:x:0:0:root:/root:/bin/sh" > "$ROOT/etc/passwd"
    echo "root:x:0:" > "$ROOT/etc/group"
}

rootfs_build()
{
    ROOT=$BUILD/rootfs
    rm -rf "$ROOT"
    KVER=$(rootfs_kernel_version)
    if [ -z "$KVER" ]; then
        echo "rootfs: no /boot/vmlinuz-* with modules in /lib/modules" >&2
        return 1
    fi
    rootfs_skeleton &&
    rootfs_busybox &&
    rootfs_xen_tools &&
    rootfs_device_models &&
    rootfs_modules &&
    rootfs_test_files &&
    rootfs_pack || return 1
    cp "/boot/vmlinuz-$KVER" "$BUILD/vmlinuz"
}

rootfs_pack()
{
    (cd "$ROOT" && find . | cpio -o -H newc --quiet) | gzip -1 \
        > "$BUILD/dom0.cpio.gz"
}
