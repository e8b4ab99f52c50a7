/*
 * The qemu-xen command line parser (dm/options.c): the argv libxl 4.17
 * really passed (captured in run8), the other forms libxl 4.17-4.21 builds
 * (xen-dm-interface.md 3.2), ",," escapes, and the user errors that must
 * come back as one message naming the fix.
 */
#include <glib.h>
#include <string.h>

#include "dm/config.h"
#include "dm/log.h" /* DM_LOG_DEBUG */
#include "tests/t.h"

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Parse args (without argv[0]) into cfg; returns dm_config_parse's rc. */
static int
parse(struct dm_config *cfg, const char *const *args, char *err,
      size_t errlen)
{
    const char *argv[64] = { "hvmdm" };
    int argc = 1;

    while (args[argc - 1]) {
        T_ASSERT(argc < 63);
        argv[argc] = args[argc - 1];
        argc++;
    }
    dm_config_defaults(cfg);
    err[0] = '\0';
    return dm_config_parse(cfg, argc, (char *const *)argv, err, errlen);
}

/* Expect a parse error whose message contains want. */
static void
expect_error(const char *const *args, const char *want)
{
    struct dm_config cfg;
    char err[512];

    T_EQ(parse(&cfg, args, err, sizeof(err)), -1);
    if (!strstr(err, want)) {
        t_fail(__FILE__, __LINE__, "error '%s' lacks '%s'", err, want);
    }
    dm_config_free(&cfg);
}

static void
expect_ok(struct dm_config *cfg, const char *const *args)
{
    char err[512];

    if (parse(cfg, args, err, sizeof(err)) != 0) {
        t_fail(__FILE__, __LINE__, "unexpected error: %s", err);
    }
}

/* run8.data.txt: ARGV[0..35] of the qemu-xen DM libxl 4.17.7 spawned. */
static const char *const run8_argv[] = {
    "-xen-domid", "1", "-no-shutdown",
    "-chardev",
    "socket,id=libxl-cmd,path=/var/run/xen/qmp-libxl-1,server=on,wait=off",
    "-mon", "chardev=libxl-cmd,mode=control",
    "-chardev",
    "socket,id=libxenstat-cmd,path=/var/run/xen/qmp-libxenstat-1,"
    "server=on,wait=off",
    "-mon", "chardev=libxenstat-cmd,mode=control",
    "-nodefaults", "-no-user-config", "-name", "hvmtest",
    "-vnc", "none", "-display", "none", "-serial", "pty", "-nographic",
    "-device", "VGA,vgamem_mb=16", "-boot", "order=c",
    "-device", "e1000,id=nic0,netdev=net0,mac=00:16:3e:00:00:01",
    "-netdev",
    "type=tap,id=net0,ifname=vif1.0-emu,br=xenbr0,script=no,downscript=no",
    "-machine", "xenfv,suppress-vmdesc=on", "-m", "48",
    "-drive",
    "file=/images/boot.img,if=ide,index=0,media=disk,format=raw,"
    "cache=writeback",
    NULL
};

static void
check_run8_monitors(const struct dm_config *cfg)
{
    T_EQ(cfg->nr_chardevs, 2);
    T_ASSERT(strcmp(cfg->chardevs[0].id, "libxl-cmd") == 0);
    T_ASSERT(strcmp(cfg->chardevs[0].backend, "socket") == 0);
    T_ASSERT(strcmp(cfg->chardevs[0].path,
                    "/var/run/xen/qmp-libxl-1") == 0);
    T_EQ(cfg->chardevs[0].fd, -1);
    T_ASSERT(cfg->chardevs[0].server);
    T_ASSERT(!cfg->chardevs[0].wait);
    T_ASSERT(strcmp(cfg->chardevs[1].id, "libxenstat-cmd") == 0);
    T_EQ(cfg->nr_monitors, 2);
    T_ASSERT(strcmp(cfg->monitors[0].chardev, "libxl-cmd") == 0);
    T_ASSERT(cfg->monitors[0].control);
    T_ASSERT(strcmp(cfg->monitors[1].chardev, "libxenstat-cmd") == 0);
}

static void
check_run8_devices(const struct dm_config *cfg)
{
    static const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x01 };

    T_ASSERT(strcmp(cfg->vga, "VGA") == 0);
    T_EQ(cfg->vgamem_mb, 16);
    T_EQ(cfg->nr_nics, 1);
    T_ASSERT(strcmp(cfg->nics[0].model, "e1000") == 0);
    T_ASSERT(strcmp(cfg->nics[0].id, "nic0") == 0);
    T_ASSERT(strcmp(cfg->nics[0].netdev, "net0") == 0);
    T_ASSERT(cfg->nics[0].have_mac);
    T_ASSERT(memcmp(cfg->nics[0].mac, mac, 6) == 0);
    T_EQ(cfg->nr_netdevs, 1);
    T_ASSERT(strcmp(cfg->netdevs[0].id, "net0") == 0);
    T_ASSERT(strcmp(cfg->netdevs[0].ifname, "vif1.0-emu") == 0);
    T_ASSERT(strcmp(cfg->netdevs[0].bridge, "xenbr0") == 0);
    T_ASSERT(strcmp(cfg->netdevs[0].script, "no") == 0);
    T_EQ(cfg->nr_drives, 1);
    T_ASSERT(strcmp(cfg->drives[0].file, "/images/boot.img") == 0);
    T_ASSERT(strcmp(cfg->drives[0].format, "raw") == 0);
    T_EQ(cfg->drives[0].iface, DM_IF_IDE);
    T_EQ(cfg->drives[0].media, DM_MEDIA_DISK);
    T_EQ(cfg->drives[0].cache, DM_CACHE_WRITEBACK);
    T_EQ(cfg->drives[0].index, 0);
    T_ASSERT(!cfg->drives[0].readonly);
}

T_TEST(options_run8_libxl_argv)
{
    struct dm_config cfg;

    expect_ok(&cfg, run8_argv);
    T_EQ(cfg.domid, 1);
    T_ASSERT(cfg.have_domid);
    T_ASSERT(!cfg.domid_restrict);
    T_ASSERT(cfg.no_shutdown);
    T_ASSERT(!cfg.start_paused);
    T_ASSERT(strcmp(cfg.name, "hvmtest") == 0);
    T_ASSERT(strcmp(cfg.vnc, "none") == 0);
    T_ASSERT(strcmp(cfg.display, "none") == 0);
    T_EQ(cfg.nr_serial, 1);
    T_ASSERT(strcmp(cfg.serial[0], "pty") == 0);
    T_ASSERT(cfg.nographic);
    T_ASSERT(strcmp(cfg.boot_order, "c") == 0);
    T_ASSERT(strcmp(cfg.machine, "xenfv") == 0);
    T_ASSERT(cfg.xen_platform);
    T_EQ(cfg.ram_size, 48ull << 20);
    T_EQ(cfg.vcpus, 1);
    T_EQ(cfg.maxcpus, 1);
    T_EQ(cfg.log_level, -1);
    check_run8_monitors(&cfg);
    check_run8_devices(&cfg);
    dm_config_free(&cfg);
}

/* dm_restrict with a pre-opened QMP socket, restore, SMP, pc machine. */
T_TEST(options_libxl_restrict_restore)
{
    struct dm_config cfg;

    expect_ok(&cfg, ARGS("-xen-domid", "7", "-no-shutdown", "-chardev",
                         "socket,id=libxl-cmd,fd=5,server=on,wait=off", "-S",
                         "-mon", "chardev=libxl-cmd,mode=control",
                         "-smp", "2,maxcpus=4", "-net", "none",
                         "-xen-domid-restrict", "-chroot",
                         "/var/run/xen/qemu-root-7",
                         "-machine", "pc,accel=xen,suppress-vmdesc=on,"
                         "max-ram-below-4g=3758096384", "-m", "1G",
                         "-runas", "1000:1000"));
    T_EQ(cfg.domid, 7);
    T_ASSERT(cfg.domid_restrict);
    T_ASSERT(cfg.start_paused);
    T_EQ(cfg.chardevs[0].fd, 5);
    T_ASSERT(cfg.chardevs[0].path == NULL);
    T_EQ(cfg.vcpus, 2);
    T_EQ(cfg.maxcpus, 4);
    T_ASSERT(strcmp(cfg.chroot, "/var/run/xen/qemu-root-7") == 0);
    T_ASSERT(strcmp(cfg.runas, "1000:1000") == 0);
    T_ASSERT(strcmp(cfg.machine, "pc") == 0);
    T_ASSERT(!cfg.xen_platform);
    T_EQ(cfg.max_ram_below_4g, 0xe0000000u);
    T_EQ(cfg.ram_size, 1ull << 30);
    T_EQ(cfg.nr_nics, 0);
    dm_config_free(&cfg);
}

/* libxl's CD-ROM: an if=none drive attached by -device ide-cd. */
T_TEST(options_libxl_cdrom)
{
    struct dm_config cfg;

    expect_ok(&cfg, ARGS("-drive", "if=none,readonly=on,id=ide-5632,"
                         "file=/iso/d.iso,format=raw",
                         "-device", "ide-cd,id=ide-5632,drive=ide-5632,"
                         "bus=ide.1,unit=0",
                         "-drive", "if=none,readonly=on,id=ide-5696",
                         "-device", "ide-cd,id=ide-5696,drive=ide-5696,"
                         "bus=ide.1,unit=1"));
    T_EQ(cfg.nr_drives, 2);
    T_ASSERT(strcmp(cfg.drives[0].id, "ide-5632") == 0);
    T_ASSERT(strcmp(cfg.drives[0].file, "/iso/d.iso") == 0);
    T_EQ(cfg.drives[0].iface, DM_IF_IDE);
    T_EQ(cfg.drives[0].media, DM_MEDIA_CDROM);
    T_EQ(cfg.drives[0].index, 2);
    T_ASSERT(cfg.drives[0].readonly);
    T_ASSERT(cfg.drives[1].file == NULL);       /* empty drive */
    T_EQ(cfg.drives[1].index, 3);
    dm_config_free(&cfg);
}

/* libxl 4.20+ first spawns a probe with no domain; 4.20+ -run-with. */
T_TEST(options_libxl_probe_and_run_with)
{
    struct dm_config cfg;

    expect_error(ARGS("-S", "-no-user-config", "-nodefaults",
                      "-nographic", "-machine", "none,accel=xen",
                      "-chardev",
                      "socket,id=libxl-cmd,fd=3,server=on,wait=off",
                      "-mon", "chardev=libxl-cmd,mode=control"),
                 "-machine none: hvmdm always serves a domain");

    expect_ok(&cfg, ARGS("-xen-domid", "3", "-run-with",
                         "chroot=/var/run/xen/qemu-root-3",
                         "-run-with", "user=xen-qemuuser-range-base"));
    T_ASSERT(strcmp(cfg.chroot, "/var/run/xen/qemu-root-3") == 0);
    T_ASSERT(strcmp(cfg.runas, "xen-qemuuser-range-base") == 0);
    dm_config_free(&cfg);
}

/* ",," is a literal comma, in a leading value and after key=. */
T_TEST(options_comma_escape)
{
    struct dm_config cfg;

    expect_ok(&cfg, ARGS("-name", "a,,b", "-drive",
                         "file=/img/x,,y.img,if=ide,index=1,format=qcow2",
                         "-qmp", "unix:/run/q,,1.sock,server,nowait"));
    T_ASSERT(strcmp(cfg.name, "a,b") == 0);
    T_ASSERT(strcmp(cfg.drives[0].file, "/img/x,y.img") == 0);
    T_ASSERT(strcmp(cfg.drives[0].format, "qcow2") == 0);
    T_EQ(cfg.drives[0].index, 1);
    T_EQ(cfg.nr_chardevs, 1);
    T_ASSERT(strcmp(cfg.chardevs[0].path, "/run/q,1.sock") == 0);
    T_ASSERT(cfg.chardevs[0].server);
    T_ASSERT(!cfg.chardevs[0].wait);
    T_EQ(cfg.nr_monitors, 1);
    T_ASSERT(strcmp(cfg.monitors[0].chardev, cfg.chardevs[0].id) == 0);
    dm_config_free(&cfg);

    expect_error(ARGS("-drive", "file=/a,,b,"), "trailing ','");
    expect_error(ARGS("-device", "e1000,,netdev=n"), "unknown device");
}

T_TEST(options_memory_sizes)
{
    static const struct {
        const char *arg;
        uint64_t bytes;
    } cases[] = {
        { "48", 48ull << 20 }, { "512M", 512ull << 20 },
        { "2G", 2ull << 30 }, { "size=3g", 3ull << 30 },
        { "1048576K", 1ull << 30 },
    };
    struct dm_config cfg;
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        expect_ok(&cfg, ARGS("-m", cases[i].arg));
        T_EQ(cfg.ram_size, cases[i].bytes);
        dm_config_free(&cfg);
    }
    expect_error(ARGS("-m", "abc"), "not a memory size");
    expect_error(ARGS("-m", "48Q"), "not a memory size");
    expect_error(ARGS("-m", "-1"), "not a memory size");
    expect_error(ARGS("-m", "0"), "out of range");
    expect_error(ARGS("-m", "99999999999999999999"), "not a memory size");
    expect_error(ARGS("-m", "48,slots=2"), "unknown parameter 'slots'");
}

T_TEST(options_drive_errors)
{
    expect_error(ARGS("-drive", "file=/a.img,if=ide,index=4"),
                 "index=4 is out of range");
    expect_error(ARGS("-drive", "file=/a.img,if=ide,index=x"),
                 "out of range");
    expect_error(ARGS("-drive", "file=/a.img,format=vmdk"),
                 "disk format vmdk is not supported");
    expect_error(ARGS("-drive", "file=/a.img,if=scsi"), "if=scsi");
    expect_error(ARGS("-drive", "file=/a.img,cache=directsync"),
                 "cache=directsync");
    expect_error(ARGS("-drive", "if=ide,index=0,media=disk"),
                 "a disk needs file=");
    expect_error(ARGS("-drive", "file=/a.img,index=0", "-drive",
                      "file=/b.img,index=0"), "two drives at IDE position 0");
    expect_error(ARGS("-drive", "file=/a.iso,if=none,id=cd"),
                 "-device ide-cd,drive=cd");
    expect_error(ARGS("-device", "ide-cd,drive=cd,bus=ide.0,unit=0"),
                 "no -drive has id=cd");
    expect_error(ARGS("-drive", "file=/a.iso,if=none,id=cd", "-device",
                      "ide-cd,drive=cd,bus=ide.2,unit=0"), "bus=ide.2");
    expect_error(ARGS("-drive", "file=/a.img,readonly=on"),
                 "read-only IDE disks");
    expect_error(ARGS("-drive", "if=none,id=d", "-device",
                      "ide-hd,drive=d,bus=ide.0,unit=0"),
                 "-device: a disk needs file=");
    expect_error(ARGS("-drive", "file=/a.img,if=none,id=d,readonly=on",
                      "-device", "ide-hd,drive=d,bus=ide.0,unit=0"),
                 "-device: read-only IDE disks");
    expect_error(ARGS("-drive", "file=/a.img,if=none,id=d", "-device",
                      "ide-hd,drive=d,bus=ahci0.0,unit=0"), "hdtype=");
    expect_error(ARGS("-drive", "file=/a.img,aio=native"),
                 "unknown parameter 'aio'");
}

/* Auto-assigned IDE positions when index= is left out. */
T_TEST(options_drive_default_index)
{
    struct dm_config cfg;

    expect_ok(&cfg, ARGS("-drive", "file=/a.img,index=0", "-drive",
                         "file=/b.img", "-drive", "file=/c.iso,media=cdrom"));
    T_EQ(cfg.drives[1].index, 1);
    T_EQ(cfg.drives[2].index, 2);
    T_ASSERT(cfg.drives[2].readonly);
    dm_config_free(&cfg);
}

T_TEST(options_device_errors)
{
    expect_error(ARGS("-device", "qxl-vga,vram_size_mb=64"),
                 "use vga=\"stdvga\"");
    expect_error(ARGS("-device", "lsi53c895a"), "hdX (not sdX)");
    expect_error(ARGS("-device", "nec-usb-xhci,id=usb"), "usbversion=");
    expect_error(ARGS("-device", "intel-hda"), "soundhw=");
    expect_error(ARGS("-device", "floppy"), "unknown device 'floppy'");
    expect_error(ARGS("-device", "e1000,id=nic0,netdev=net9"),
                 "no -netdev has id=net9");
    expect_error(ARGS("-device", "e1000,netdev=n,mac=00:16:3e:00:00"),
                 "not a MAC address");
    expect_error(ARGS("-device", "e1000,netdev=n,romfile="),
                 "unknown parameter 'romfile' (accepted: id, netdev, mac)");
    expect_error(ARGS("-device", "cirrus-vga,vgamem_mb=32"),
                 "cirrus-vga has 4, 8 or 16 MiB");
    expect_error(ARGS("-device", "VGA", "-device", "cirrus-vga"),
                 "a second display adapter");
    expect_error(ARGS("-device", "VGA,xres=4096,yres=2160"),
                 "xres=4096: expected a number from 640");
    expect_error(ARGS("-device", "VGA,edid=maybe"), "edid=maybe");
    expect_error(ARGS("-device", "cirrus-vga,edid=on"),
                 "unknown parameter 'edid'");
    expect_error(ARGS("-netdev", "vde,id=n"),
                 "-netdev: hvmdm has the tap device");
    expect_error(ARGS("-device", "e1000,netdev=n", "-device", "e1000,netdev=n",
                      "-netdev", "tap,id=n"), "used by two NICs");
    expect_error(ARGS("-netdev", "tap,id=n", "-netdev", "tap,id=n"),
                 "duplicate id 'n'");
    expect_error(ARGS("-net", "nic,model=e1000"), "legacy -net");
}

/* The std VGA's EDID: edid=, xres=, yres=; xenfv (xenfv-3.1) has none by
 * default, as QEMU's compat properties say, xenfv-4.2 and pc have one. */
T_TEST(options_vga_edid)
{
    struct dm_config cfg;

    expect_ok(&cfg, ARGS("-xen-domid", "1", "-device",
                         "VGA,vgamem_mb=16,edid=on,xres=1280,yres=800",
                         "-machine", "xenfv,suppress-vmdesc=on"));
    T_ASSERT(cfg.vga_edid_set && cfg.vga_edid);
    T_EQ(cfg.vga_xres, 1280);
    T_EQ(cfg.vga_yres, 800);
    T_ASSERT(cfg.machine_no_edid);
    dm_config_free(&cfg);
    expect_ok(&cfg, ARGS("-xen-domid", "1", "-device", "VGA", "-machine",
                         "xenfv-4.2"));
    T_ASSERT(!cfg.vga_edid_set && !cfg.machine_no_edid);
    dm_config_free(&cfg);
    expect_ok(&cfg, ARGS("-xen-domid", "1", "-device", "VGA,edid=off",
                         "-machine", "pc,accel=xen"));
    T_ASSERT(cfg.vga_edid_set && !cfg.vga_edid && !cfg.machine_no_edid);
    dm_config_free(&cfg);
}

/* Devices emulated later are accepted (with a warning). */
T_TEST(options_device_later)
{
    struct dm_config cfg;

    expect_ok(&cfg, ARGS("-device", "cirrus-vga,vgamem_mb=8", "-usb",
                         "-usbdevice", "tablet", "-device",
                         "piix3-usb-uhci,id=usb", "-device", "xen-platform",
                         "-no-acpi"));
    T_ASSERT(strcmp(cfg.vga, "cirrus-vga") == 0);
    T_EQ(cfg.vgamem_mb, 8);
    T_ASSERT(!cfg.vga_edid_set);
    T_ASSERT(cfg.usb);
    T_ASSERT(cfg.usb_tablet);
    T_ASSERT(cfg.xen_platform);
    T_ASSERT(cfg.no_acpi);
    dm_config_free(&cfg);
}

T_TEST(options_process_errors)
{
    expect_error(ARGS("-machine", "xenfv", "-m", "48"),
                 "-xen-domid is missing");
    expect_error(ARGS("-xen-domid-restrict"), "-xen-domid is missing");
    expect_error(ARGS("-xen-domid", "0"), "not a guest domain id");
    expect_error(ARGS("-xen-domid", "1x"), "not a guest domain id");
    expect_error(ARGS("-xen-domid", "32752"), "not a guest domain id");
    expect_error(ARGS("-xen-domid"), "-xen-domid: missing argument");
    expect_error(ARGS("-frobnicate"), "unknown option '-frobnicate'");
    expect_error(ARGS("disk.img"), "unknown option 'disk.img'");
    expect_error(ARGS("-kernel", ""), "empty file name");
    expect_error(ARGS("-initrd", "/boot/initrd.img"),
                 "-initrd: only allowed with -kernel");
    expect_error(ARGS("-append", "quiet"),
                 "-append: only allowed with -kernel");
    expect_error(ARGS("-smp", "4,maxcpus=2"), "more than maxcpus=2");
    expect_error(ARGS("-smp", "129"), "from 1 to 128");
    expect_error(ARGS("-machine", "q35,accel=xen"), "i440FX");
    expect_error(ARGS("-machine", "xenpv"), "HVM guests only");
    expect_error(ARGS("-machine", "pc,accel=kvm"), "accel=kvm");
    expect_error(ARGS("-mon", "chardev=c"), "add mode=control");
    expect_error(ARGS("-mon", "chardev=c,mode=control"),
                 "no -chardev has id=c");
    expect_error(ARGS("-chardev", "socket,id=c"), "exactly one of path=");
    expect_error(ARGS("-chardev", "socket,id=c,host=::1,port=4444"),
                 "TCP sockets");
    expect_error(ARGS("-chardev", "pty,id=c", "-chardev", "pty,id=c"),
                 "duplicate chardev id 'c'");
    expect_error(ARGS("-chardev", "socket,id=c,path=/p,server=maybe"),
                 "server=maybe: expected on or off");
    expect_error(ARGS("-serial", "tcp:1.2.3.4:5"), "serial=\"pty\"");
    expect_error(ARGS("-serial", "chardev:nope"), "no -chardev has id=nope");
    expect_error(ARGS("-boot", "order=cc"), "repeated");
    expect_error(ARGS("-log-level", "loud"), "not a log level");
    expect_error(ARGS("-display", "gtk"), "-display: only none and sdl");
    expect_error(ARGS("-incoming", "fd:9"), "xl create");
    expect_error(ARGS("-ioreq-spin", "1001"), "0 to 1000");
    expect_error(ARGS("-ioreq-spin", "-1"), "0 to 1000");
    expect_error(ARGS("-ioreq-spin", "2us"), "0 to 1000");
}

/* The small options and their defaults. */
T_TEST(options_misc)
{
    struct dm_config cfg;

    expect_ok(&cfg, ARGS("-boot", "dc", "-k", "de", "-pidfile", "/run/p",
                         "-log-level", "debug", "-D", "/tmp/log",
                         "-serial", "file:/tmp/s", "-serial", "none",
                         "-vnc", "127.0.0.1:0,password=on,to=99",
                         "--display", "sdl", "-M", "xenfv-4.2",
                         "-xen-domid", "0x10", "-xen-attach"));
    T_ASSERT(strcmp(cfg.boot_order, "dc") == 0);
    T_ASSERT(strcmp(cfg.keymap, "de") == 0);
    T_ASSERT(strcmp(cfg.pidfile, "/run/p") == 0);
    T_EQ(cfg.log_level, DM_LOG_DEBUG);
    T_ASSERT(strcmp(cfg.logfile, "/tmp/log") == 0);
    T_EQ(cfg.nr_serial, 2);
    T_ASSERT(strcmp(cfg.serial[1], "none") == 0);
    T_ASSERT(strcmp(cfg.vnc, "127.0.0.1:0,password=on,to=99") == 0);
    T_ASSERT(strcmp(cfg.display, "sdl") == 0);
    T_ASSERT(strcmp(cfg.machine, "xenfv") == 0);
    T_EQ(cfg.domid, 16);
    dm_config_free(&cfg);

    expect_ok(&cfg, ARGS("-xen-domid", "010"));     /* decimal, not octal */
    T_EQ(cfg.domid, 10);
    dm_config_free(&cfg);

    expect_ok(&cfg, ARGS("-serial", "pty"));
    T_EQ(cfg.ram_size, 128ull << 20);
    T_ASSERT(strcmp(cfg.boot_order, "cad") == 0);
    T_ASSERT(cfg.machine == NULL);
    T_ASSERT(!cfg.xen_platform);
    dm_config_free(&cfg);
}
