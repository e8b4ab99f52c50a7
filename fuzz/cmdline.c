/*
 * The command line: NUL-separated arguments through dm_config_parse(),
 * which also runs the subsystems' sub-option parsers (-drive, -vnc,
 * -chardev, -device, ...). Parsing opens nothing; errors are messages.
 */
#include <stdlib.h>
#include <string.h>

#include "dm/config.h"
#include "dm/log.h"
#include "fuzz/fuzz.h"

#define FZ_MAX_ARGS 64

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = g_malloc(size + 1), *argv[FZ_MAX_ARGS + 2], err[512];
    struct dm_config cfg;
    int argc = 1;
    size_t i = 0;

    memcpy(copy, data, size);
    copy[size] = 0;
    argv[0] = "hvmdm";
    while (i < size && argc <= FZ_MAX_ARGS) {
        argv[argc++] = copy + i;
        i += strlen(copy + i) + 1;
    }
    argv[argc] = NULL;
    fuzz_quiet();
    dm_config_defaults(&cfg);
    (void)dm_config_parse(&cfg, argc, argv, err, sizeof(err));
    dm_config_free(&cfg);
    g_free(copy);
    return 0;
}

/* libxl's command lines (xen-dm-interface.md 3.2) and a few errors. */
static void
cmdline_seeds(void)
{
    static const char *const lines[] = {
        ("-xen-domid\0" "5\0-no-shutdown\0-chardev\0socket,id=libxl-cmd,"
         "path=/var/run/xen/qmp-libxl-5,server=on,wait=off\0-mon\0"
         "chardev=libxl-cmd,mode=control\0-nodefaults\0-no-user-config\0"
         "-name\0guest\0-vnc\0" "127.0.0.1:0,to=99\0-display\0none\0"
         "-serial\0pty\0-device\0VGA,vgamem_mb=16\0-boot\0order=cd\0"
         "-smp\0" "2,maxcpus=2\0-device\0rtl8139,id=nic0,netdev=net0,"
         "mac=00:16:3e:00:00:01\0-netdev\0type=tap,id=net0,"
         "ifname=vif5.0-emu,br=xenbr0,script=no,downscript=no\0-machine\0"
         "xenfv\0-m\0" "1016\0-drive\0file=/a.img,if=ide,index=0,"
         "media=disk,format=raw,cache=writeback\0-drive\0"
         "if=none,readonly=on,id=ide-5696\0-device\0ide-cd,id=ide-5696,"
         "drive=ide-5696,bus=ide.1,unit=0\0"),
        ("-xen-domid\0" "1\0-machine\0pc,accel=xen,max-ram-below-4g=3G\0"
         "-m\0" "4G\0-chroot\0/var/empty\0-runas\0" "1000:1000\0"
         "-xen-domid-restrict\0-block-backing\0raw-ok\0-S\0"),
        ("-drive\0file=x,if=ide,index=9\0-vnc\0:99999\0-m\0-1\0-smp\0"
         "0\0"),
        ("-device\0e1000,netdev=n,mac=zz\0-qmp\0unix:/x,server\0"
         "-kernel\0k\0"),
    };

    for (size_t i = 0; i < G_N_ELEMENTS(lines); i++) {
        const char *p = lines[i];
        size_t len = 0;

        while (p[len] || p[len + 1]) {
            len++;
        }
        fuzz_seed("cmdline", p, len + 1);
    }
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (fuzz_make_seeds(cmdline_seeds)) {
        exit(0);
    }
    return 0;
}
