# The Linux network scenarios' host side (sourced by tests/xen/run; POSIX
# sh): the guest gets the e1000 and xen-netfront drivers, a DHCP client
# script and the hook that brings eth0 up, pings dom0 and sends 32 MiB to
# it over TCP. The dom0 side is tests/xen/dom0/net.sh.

linux_guest_add_modules e1000 xen-netfront
linux_guest_add_hook "$XEN_TESTS/guest/net-hook.sh"
linux_guest_add_file "$XEN_TESTS/guest/udhcpc.script" /etc/udhcpc.script
