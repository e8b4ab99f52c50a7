# Guest hook (run by /init after the disk checks; output goes to the
# results), linux-fb only (fb=1 on the kernel command line): bochs-drm
# drives the std VGA (1234:1111), its fbdev emulation gives fbcon a
# framebuffer console. The hook puts known text on it, then waits for dom0
# to take its screendump.
# Serial markers (the test in dom0 waits for them):
#   FB <name> <virtual_size> <driver> end   fb0 is up, the text is drawn
#   FB NONE <driver> end                    no fb0 within 60 s
# ("end": dom0 reads the line once it is whole; COM1 is slow)
#   FB GO | FB TIMEOUT                  dom0's byte came, or 300 s passed

[ "${fb:-}" = 1 ] || exit 0

mark()
{
    echo "$*" > /dev/ttyS0
}

vga_driver()
{
    for d in /sys/bus/pci/devices/*; do
        [ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1234:0x1111 ] ||
            continue
        basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null
        return
    done
    echo no-1234:1111
}

i=0
while [ ! -e /sys/class/graphics/fb0 ] && [ "$i" -lt 600 ]; do
    sleep 0.1
    i=$((i + 1))
done
drv=$(vga_driver)
if [ ! -e /sys/class/graphics/fb0 ]; then
    dmesg | grep -iE 'bochs|drm|fb' | cut -c1-150
    mark "FB NONE $drv end"
    exit 0
fi
name=$(tr ' ' _ < /sys/class/graphics/fb0/name)
size=$(cat /sys/class/graphics/fb0/virtual_size)
echo "fb: fb0 $name $size bpp $(cat /sys/class/graphics/fb0/bits_per_pixel)"
echo "fb: modes $(cat /sys/class/graphics/fb0/modes)"
dmesg | grep -iE 'bochs|fbcon|drm' | cut -c1-150
# A still screen: no kernel messages on the console from here, no blinking
# cursor; cleared, then one known line.
echo 1 > /proc/sys/kernel/printk
echo 0 > /sys/class/graphics/fbcon/cursor_blink 2>/dev/null
printf '\033[?25l\033[2J\033[H' > /dev/tty1
printf 'hvmdm linux-fb: bochs-drm framebuffer console %s\n' "$size" \
    > /dev/tty1
# fbdev emulation copies its shadow buffer to VRAM from a worker.
sleep 2
stty -F /dev/ttyS0 -echo 2>/dev/null
mark "FB $name $size $drv end"
if read -r -t 300 _ < /dev/ttyS0; then
    mark "FB GO"
else
    mark "FB TIMEOUT"
fi
