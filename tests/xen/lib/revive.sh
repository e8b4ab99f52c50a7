# The emulated machine went silent: record its state and try to wake it
# before the runner boots a fresh one (sourced by tests/xen/run; POSIX sh).
# Seen about once in five full runs, with either device model: just after
# a Linux guest registers its event-channel upcall vector ("upcall vector
# f3"), Xen halts in its idle loop (hlt with interrupts enabled) and nothing
# wakes it. Every step tried and what followed is a NOTE line.
# To drive this path on purpose (a healthy run never gets here): run with
# STALL=90 and, during a scenario, stop the emulated CPU through QMP:
#   printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"stop"}' |
#       socat - UNIX-CONNECT:build/xen/machine.qmp
# The debug keys then find dom0 still silent and QMP stop + cont revives it
# (NOTE lines in build/xen/restarts.txt, samples in machine-stall.txt).

# Send QMP command $1 (JSON) to the emulated machine; its answer on stdout.
machine_qmp()
{
    printf '%s\n' '{"execute":"qmp_capabilities"}' "$1" |
        timeout 10 socat -t 2 - "UNIX-CONNECT:$BUILD/machine.qmp" 2>&1
}

# The text a monitor (HMP) command $1 prints, e.g. "info lapic".
machine_hmp()
{
    cmd='{"execute":"human-monitor-command","arguments":'
    machine_qmp "$cmd{\"command-line\":\"$1\"}}" |
        grep -a '"return": "' | sed 's/\\r//g; s/\\n/\n/g; s/\\t/\t/g'
}

# Type printf format $1 on Xen's serial console (COM1 input: the FIFO
# $BUILD/console.in that start_machine gives QEMU).
machine_keys()
{
    timeout 5 sh -c 'printf "$1" > "$2"' sh "$1" "$BUILD/console.in"
}

# The CPU's state in one line: RIP, CPL, HLT.
machine_cpu()
{
    machine_hmp "info registers" |
        grep -aoE 'RIP=[0-9a-f]+|CPL=[0-9]|HLT=[01]' | tr '\n' ' '
}

revive_note()
{
    echo "check-xen: NOTE boot $BOOT stall: $*" | tee -a "$BUILD/restarts.txt"
}

# Does dom0 go on within $1 s: a new "[dom0 ...]" line on the console (it
# logs every step, and every 60 s while it waits) or a new result?
machine_alive()
{
    c0=$(grep -ac '^\[dom0 ' "$LOGS/xen-console.log")
    r0=$(wc -c < "$BOOT_RESULTS")
    end=$(( $(date +%s) + $1 ))
    while [ "$(date +%s)" -lt "$end" ]; do
        sleep 3
        kill -0 "$MACHINE" 2>/dev/null || return 1
        [ "$(grep -ac '^\[dom0 ' "$LOGS/xen-console.log")" -gt "$c0" ] &&
            return 0
        [ "$(wc -c < "$BOOT_RESULTS")" -gt "$r0" ] && return 0
    done
    return 1
}

# Xen's debug keys (switch console input to Xen with CTRL-a three times;
# a: timers, t: time, r: run queues, q: domains and vCPUs; then back to
# dom0), then a space for dom0's console: an event-channel interrupt in
# dom0, whose exit re-arms its next timer (no program there reads the
# console). The serial receive interrupt alone may wake the CPU; the dumps
# show Xen's timers and vCPUs as it stalled.
revive_keys()
{
    n0=$(wc -c < "$LOGS/xen-console.log")
    machine_keys '\001\001\001'
    sleep 3
    for key in a t r q; do
        machine_keys "$key"
        sleep 4
    done
    machine_keys '\001\001\001'
    sleep 3
    machine_keys ' '
    sleep 3
    n=$(( $(wc -c < "$LOGS/xen-console.log") - n0 ))
    if [ "$n" -gt 0 ]; then
        echo "Xen answered ($n bytes on its console)"
    else
        echo "no answer on Xen's console"
    fi
}

# Log the machine's CPU and local APIC after step $1.
revive_sample()
{
    {
        echo "=== after $1: $(date -u +%T)"
        machine_hmp "info registers"
        machine_hmp "info lapic"
    } >> "$LOGS/machine-stall.txt" 2>&1
}

# QMP commands $@ (names without arguments) in turn, 2 s apart; the
# answers are dropped (a stopped or dead machine is what machine_alive
# finds out).
revive_qmp()
{
    machine_qmp "{\"execute\":\"$1\"}" > /dev/null
    shift
    for qcmd in "$@"; do
        sleep 2
        machine_qmp "{\"execute\":\"$qcmd\"}" > /dev/null
    done
}

# revive_step LABEL SAMPLE ACTION...: one poke. Run ACTION (what it prints
# goes into the NOTE line), log the CPU and local APIC "after SAMPLE" in
# machine-stall.txt, then give dom0 75 s to go on (it logs within 60 s
# when alive). One NOTE line either way; succeeds when dom0 went on.
revive_step()
{
    step_note="$1:"
    step_sample=$2
    shift 2
    step_said=$("$@")
    [ -n "$step_said" ] && step_note="$step_note $step_said;"
    revive_sample "$step_sample"
    if machine_alive 75; then
        revive_note "$step_note dom0 went on"
        return 0
    fi
    revive_note "$step_note dom0 still silent, CPU: $(machine_cpu)"
    return 1
}

# Try to wake the stalled machine, one step at a time, least intrusive
# first; succeed as soon as dom0 goes on.
machine_revive()
{
    revive_step "debug keys a t r q + a space for dom0 on COM1" \
        "debug keys" revive_keys && return 0
    revive_step "QMP stop + cont" "stop + cont" revive_qmp stop cont &&
        return 0
    revive_step "QMP inject-nmi" inject-nmi revive_qmp inject-nmi
}

# The stall as seen (2026-12): the CPU halted (hlt, interrupts on) while its
# local APIC holds Xen's timer interrupt (vector 250) in IRR, deliverable
# (PPR 0x10): the request that should wake the CPU got lost in QEMU. Any
# new interrupt wakes it, and then the pending one is taken too: the first
# byte on COM1 revived it at once. Prints the IRR when that is the state
# (two samples a second apart).
machine_lost_wakeup()
{
    for _ in 1 2; do
        machine_cpu | grep -q 'HLT=1' || return 1
        irr=$(machine_hmp "info lapic" | tr -d '\t' |
            sed -n 's/^IRR *//p' | sed 's/ *$//')
        case $irr in ''|*none*) return 1 ;; esac
        sleep 1
    done
    echo "$irr"
}

# Called every 2 s by follow_machine: after each 10 s without output, is
# the CPU halted on a lost wake-up? Then type a space for dom0 (a serial
# interrupt) at once, and say so in a NOTE line. Waiting STALL s is too
# late: Xen's platform timer (HPET, 32 bits at 100 MHz) wraps in 43 s, and
# after 480 s Xen's time was broken (it spun reprogramming its timer).
machine_wake_check()
{
    [ -n "${last_change:-}" ] || return 0
    quiet=$(( $(date +%s) - last_change ))
    if [ "$quiet" -lt 10 ]; then
        wake_checked=0
        return 0
    fi
    [ "$quiet" -ge $(( ${wake_checked:-0} + 10 )) ] || return 0
    wake_checked=$quiet
    irr=$(machine_lost_wakeup) || return 0
    revive_sample "a lost wake-up after $quiet s of silence"
    machine_keys ' '
    revive_note "after $quiet s of silence the CPU was halted with IRR" \
        "$irr pending (a lost wake-up); typed a space on COM1"
}
