#!/bin/sh
# make check-install: make install into a scratch DESTDIR under another
# prefix, check every installed file, run the installed binary, render the
# man page, check it documents every QMP command in the sources, then make
# uninstall and check nothing is left. Prints "N passed, N failed".
set -u
cd "$(dirname "$0")/.."

dest=$(mktemp -d /tmp/hvmdm-install-XXXXXX)
prefix=/opt/hvmdm-check
root=$dest$prefix
pass=0
fail=0

ok()
{
    pass=$((pass + 1))
    echo "ok   $1"
}

bad()
{
    fail=$((fail + 1))
    echo "FAIL $1"
}

check()
{
    name=$1
    shift
    if "$@" > "$dest.out" 2>&1; then
        ok "$name"
    else
        bad "$name: $(head -c 300 "$dest.out")"
    fi
}

mode_is()
{
    [ "$(stat -c %a "$1")" = "$2" ]
}

man_text()
{
    MANWIDTH=80 man -l "$root/share/man/man1/hvmdm.1" 2>/dev/null
}

# Every QMP command name a command table in the sources declares.
qmp_commands()
{
    grep -rhoE '^ *\{ "[a-z][a-z0-9_-]*", [a-z_0-9]+, (true|false)' \
        dm hw ui block net 2>/dev/null | sed 's/^ *{ "\([^"]*\)".*/\1/' |
        sort -u
}

undocumented()
{
    man=$(man_text)
    missing=""
    for c in $(qmp_commands); do
        echo "$man" | grep -qw -- "$c" || missing="$missing $c"
    done
    [ -z "$missing" ] || { echo "not in hvmdm(1):$missing"; return 1; }
}

check "make install" make -s install DESTDIR="$dest" PREFIX="$prefix"
check "binary 0755" mode_is "$root/bin/hvmdm" 755
check "firmware 0644" mode_is "$root/lib/hvmdm/hvmloader" 644
check "VNC module 0644" mode_is "$root/lib/hvmdm/hvmdm-ui-vnc.so" 644
check "SDL module 0644" mode_is "$root/lib/hvmdm/hvmdm-ui-sdl.so" 644
check "man page 0644" mode_is "$root/share/man/man1/hvmdm.1" 644
check "example 0644" mode_is "$root/share/doc/hvmdm/xl.cfg.example" 644
check "installed --version" sh -c \
    "'$root/bin/hvmdm' --version | grep -q '^hvmdm [0-9]'"
check "installed -name -h is not help" sh -c \
    "! '$root/bin/hvmdm' -name -h 2>&1 | grep -q usage"
check "man page renders without warnings" sh -c \
    "groff -man -Tutf8 -ww -z '$root/share/man/man1/hvmdm.1' 2>&1 |
     grep . && exit 1 || exit 0"
check "man page names the prefix" sh -c \
    "man_text() { MANWIDTH=80 man -l '$root/share/man/man1/hvmdm.1'; };
     man_text 2>/dev/null | grep -q '$prefix/bin/hvmdm'"
check "example names the prefix" \
    grep -q "device_model_override = \"$prefix/bin/hvmdm\"" \
    "$root/share/doc/hvmdm/xl.cfg.example"
check "man page lists every implemented option" sh -c \
    "for o in \$('$root/bin/hvmdm' --help | sed -n 's/^  \(-[^ ]*\).*/\1/p' |
                 sort -u); do
         MANWIDTH=80 man -l '$root/share/man/man1/hvmdm.1' 2>/dev/null |
             grep -q -- \"^ *\$o\" || { echo \"missing \$o\"; exit 1; }
     done"
check "man page documents every QMP command" undocumented
check "make uninstall" make -s uninstall DESTDIR="$dest" PREFIX="$prefix"
check "nothing left but directories" sh -c \
    "[ -z \"\$(find '$dest' -type f)\" ] || { find '$dest' -type f; exit 1; }"
rm -rf "$dest" "$dest.out"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
