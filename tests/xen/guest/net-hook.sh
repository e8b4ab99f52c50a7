# Guest hook (run by /init after the disk checks; output goes to the
# results): when the guest has eth0, get a DHCP lease from dom0's udhcpd
# over the bridge, ping dom0, send net_mb MiB (default 32) to dom0's nc
# over TCP, then receive what dom0's nc serves until it closes (dom0 sends
# NET_RX_MB MiB, default 16, and checks our md5).
# Serial markers (the test in dom0 waits for them):
#   NET UP <uptime cs>              eth0's carrier came up
#   NET LEASE <ip> | NET NOLEASE    the DHCP outcome
#   NET PING ok|fail                3 echo requests to dom0 (10.0.0.1)
#   NET TX <md5> <kB/s> <driver>    net_mb MiB sent; md5 of what was sent
#   NET RX <md5> <kB/s> <driver>    dom0's data received; its md5
#   NET TXFAIL | NET RXFAIL <rc>    nc failed (or timed out) on that step
#   NET NONE                        no eth0 in this guest

# Only in the network scenarios (net=1 on the kernel command line).
[ "${net:-}" = 1 ] || exit 0

mark()
{
    echo "$*" > /dev/ttyS0
}

now_cs()
{
    read -r up _ < /proc/uptime
    echo $(( ${up%.*} * 100 + 1${up#*.} - 100 ))
}

i=0
while [ ! -e /sys/class/net/eth0 ] && [ "$i" -lt 300 ]; do
    sleep 0.1
    i=$((i + 1))
done
if [ ! -e /sys/class/net/eth0 ]; then
    mark "NET NONE"
    exit 0
fi
drv=$(basename "$(readlink /sys/class/net/eth0/device/driver)")
echo "net: eth0 driver $drv"
chmod 755 /etc/udhcpc.script
ip link set lo up
ip link set eth0 up
i=0
while [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" != 1 ] &&
    [ "$i" -lt 300 ]; do
    sleep 0.1
    i=$((i + 1))
done
mark "NET UP $(now_cs)"
t0=$(now_cs)
if udhcpc -i eth0 -s /etc/udhcpc.script -t 20 -T 3 -n -q > /tmp/udhcpc.log \
    2>&1; then
    mark "NET LEASE $(cat /tmp/lease) $(( $(now_cs) - t0 ))"
else
    mark "NET NOLEASE"
    cat /tmp/udhcpc.log
    exit 0
fi
if ping -c 3 -W 5 10.0.0.1 > /tmp/ping.log 2>&1; then
    mark "NET PING ok"
else
    mark "NET PING fail"
fi
cat /tmp/ping.log
mb=${net_mb:-32}
dd if=/dev/urandom of=/tmp/data bs=1M count="$mb" 2>/dev/null
sum=$(md5sum < /tmp/data | cut -d' ' -f1)
# What the send cost the NIC: frames each way (fewer transmitted than
# 1448-byte segments means TSO) and eth0's interrupts.
net_counts()
{
    st=/sys/class/net/eth0/statistics
    echo "net: $1: tx_packets $(cat $st/tx_packets) rx_packets" \
        "$(cat $st/rx_packets) rx_missed $(cat $st/rx_missed_errors)" \
        "irq $(grep eth0 /proc/interrupts)"
}
net_counts before
t0=$(now_cs)
if ! timeout "${net_s:-600}" nc 10.0.0.1 5001 < /tmp/data; then
    mark "NET TXFAIL"
    exit 0
fi
t1=$(now_cs)
mark "NET TX $sum $(( mb * 1024 * 100 / (t1 - t0 + 1) )) $drv"
net_counts after
rm -f /tmp/data
# Receive: dom0's nc listens on 5002 from before this guest booted and
# serves its own random data; we read until it closes. Our nc's stdin is a
# FIFO that never ends (we hold its write end too): busybox nc half-closes
# the connection when its stdin ends, and dom0's nc stops sending on that.
mkfifo /tmp/rx-in
t0=$(now_cs)
timeout "${net_s:-600}" nc 10.0.0.1 5002 <> /tmp/rx-in > /tmp/rx
rc=$?
t1=$(now_cs)
n=$(wc -c < /tmp/rx)
echo "net: rx $n bytes in $(( t1 - t0 )) cs, nc exit $rc"
if [ "$rc" != 0 ] || [ "$n" = 0 ]; then
    mark "NET RXFAIL $rc"
else
    sum=$(md5sum < /tmp/rx | cut -d' ' -f1)
    mark "NET RX $sum $(( n / 1024 * 100 / (t1 - t0 + 1) )) $drv"
fi
net_counts "after rx"
rm -f /tmp/rx /tmp/rx-in
