# The linux-fb scenario's host side (sourced by tests/xen/run after
# report.sh; POSIX sh): when linux-fb is selected, the Linux guest gets
# bochs-drm (module "bochs" and the DRM modules it needs; about 0.5 MB of
# initramfs the other runs do not carry) and the hook that puts known text
# on its framebuffer console. The dom0 side is linux_run_fb in
# tests/xen/dom0/vga.sh.

case " $SCENARIOS " in *" linux-fb "*)
    linux_guest_add_modules bochs
    linux_guest_add_hook "$XEN_TESTS/guest/fb-hook.sh"
esac
