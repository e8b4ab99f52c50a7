# The Linux guest of tests/xen (sourced by tests/xen/run; POSIX sh): the
# host's unmodified Debian kernel, booted directly (xl.cfg kernel=,
# ramdisk=, cmdline= -> fw_cfg), with a small busybox initramfs built here
# from tests/xen/guest/linux-init. Everything lands in $BUILD/linux/ and is
# copied into dom0's /test/linux/.
#
# Extending the guest (e.g. networking):
#   linux_guest_add_modules e1000 xen-netfront   kernel modules (+ deps)
#   linux_guest_add_hook FILE.sh                 run by the guest's /init
#                                                after the disk checks
#   linux_guest_add_file SRC DEST                any file, e.g. a program
# Call them before linux_guest_build (e.g. at the top level of a lib file
# that tests/xen/run sources).

LINUX_GUEST_MODULES="ata_piix sd_mod xen-blkfront"
LINUX_GUEST_HOOKS=""
LINUX_GUEST_FILES=""
LINUX_PATTERN_MB=1

linux_guest_add_modules()
{
    LINUX_GUEST_MODULES="$LINUX_GUEST_MODULES $*"
}

linux_guest_add_hook()
{
    LINUX_GUEST_HOOKS="$LINUX_GUEST_HOOKS $1"
}

linux_guest_add_file()
{
    LINUX_GUEST_FILES="$LINUX_GUEST_FILES $1:$2"
}

# Modules and their dependencies, in load order, as paths under
# /lib/modules/ (one list the guest's /init insmods in order).
linux_guest_modules()
{
    groot=$1
    : > "$groot/lib/modules/list"
    for mod in $LINUX_GUEST_MODULES; do
        modprobe -S "$KVER" --show-depends "$mod" > "$BUILD/gmod.out" ||
            return 1
        for ko in $(awk '$1 == "insmod" { print $2 }' "$BUILD/gmod.out"); do
            name=${ko##*/}
            grep -qx "$name" "$groot/lib/modules/list" && continue
            cp "$ko" "$groot/lib/modules/$name" || return 1
            echo "$name" >> "$groot/lib/modules/list"
        done
    done
}

linux_guest_initramfs()
{
    groot=$BUILD/linux/root
    rm -rf "$groot"
    mkdir -p "$groot/bin" "$groot/sbin" "$groot/lib/modules" \
        "$groot/etc/guest.d" "$groot/proc" "$groot/sys" "$groot/dev" \
        "$groot/tmp"
    cp /bin/busybox "$groot/bin/busybox" || return 1
    for app in $(/bin/busybox --list); do
        [ -e "$groot/bin/$app" ] || ln -s busybox "$groot/bin/$app"
    done
    cp "$XEN_TESTS/guest/linux-init" "$groot/init" || return 1
    chmod 755 "$groot/init"
    gcc -static -O2 -Wall -o "$groot/bin/xp-hostile" \
        "$XEN_TESTS/guest/xp-hostile.c" || return 1
    linux_guest_modules "$groot" || return 1
    for h in $LINUX_GUEST_HOOKS; do
        cp "$h" "$groot/etc/guest.d/" || return 1
    done
    for f in $LINUX_GUEST_FILES; do
        mkdir -p "$groot$(dirname "${f#*:}")"
        cp -L "${f%%:*}" "$groot${f#*:}" || return 1
    done
    (cd "$groot" && find . | cpio -o -H newc --quiet) | gzip -9 \
        > "$BUILD/linux/initrd.gz" || return 1
}

# $BUILD/linux/: vmlinuz, initrd.gz and pattern.bin (the first MiB of
# every Linux guest's disk).
linux_guest_build()
{
    KVER=${KVER:-$(rootfs_kernel_version)}
    mkdir -p "$BUILD/linux"
    cp "/boot/vmlinuz-$KVER" "$BUILD/linux/vmlinuz" || return 1
    dd if=/dev/urandom of="$BUILD/linux/pattern.bin" bs=1M \
        count=$LINUX_PATTERN_MB 2>/dev/null || return 1
    linux_guest_initramfs
}
