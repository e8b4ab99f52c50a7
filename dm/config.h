/*
 * The machine configuration, parsed from libxl's qemu-xen command line
 * (xen-dm-interface.md 3.2) by dm/options.c. The board and the devices read
 * it; nothing else parses argv.
 */
#ifndef DM_CONFIG_H
#define DM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DM_MAX_SERIAL   4
#define DM_MAX_DRIVES   8
#define DM_MAX_CHARDEVS 8
#define DM_MAX_MONITORS 4
#define DM_MAX_NICS     8
#define DM_MAX_NOTES    32

enum dm_drive_if { DM_IF_IDE, DM_IF_NONE };
enum dm_drive_media { DM_MEDIA_DISK, DM_MEDIA_CDROM };
enum dm_drive_cache { DM_CACHE_WRITEBACK, DM_CACHE_WRITETHROUGH,
                      DM_CACHE_NONE, DM_CACHE_UNSAFE };
/* -block-backing: what a qcow2 image's backing file may be (block/). */
enum dm_backing_policy {
    DM_BACKING_NAMED,           /* on: the image must name its format */
    DM_BACKING_OFF,             /* off: images with a backing file refused */
    DM_BACKING_RAW_OK,          /* raw-ok: no format named means raw */
};

struct dm_drive_cfg {
    char *id;                   /* id= ("ide-5632" for libxl CDs) or NULL */
    char *file;                 /* NULL or "" = empty CD drive */
    char *format;               /* "raw", "qcow2"; NULL = raw */
    enum dm_drive_if iface;
    enum dm_drive_media media;
    enum dm_drive_cache cache;
    int index;                  /* 0..3 for IDE: channel * 2 + unit */
    bool readonly;
};

/* -chardev socket,id=...,path=...,server=on,wait=off (and fd=N) */
struct dm_chardev_cfg {
    char *id;
    char *backend;              /* "socket", "pty", "file", "stdio", "null" */
    char *path;
    int fd;                     /* pre-opened listening socket or -1 */
    bool server;
    bool wait;
};

struct dm_monitor_cfg {
    char *chardev;              /* chardev id */
    bool control;               /* mode=control (QMP) */
};

struct dm_nic_cfg {
    char *model;                /* "e1000" */
    char *id;
    char *netdev;
    uint8_t mac[6];
    bool have_mac;
};

/* -netdev type=tap,id=net0,ifname=vif1.0-emu,br=xenbr0,script=no,... */
struct dm_netdev_cfg {
    char *id;
    char *ifname;               /* tap created by libxl; NULL: any */
    char *bridge;               /* br=, informational */
    char *script;               /* "no" from libxl */
    char *downscript;
    char *type;                 /* "tap", "user", "socket" */
    char *opts;                 /* the whole argument, parsed by net/ */
};

struct dm_config {
    uint32_t domid;
    bool have_domid;
    bool domid_restrict;        /* -xen-domid-restrict */
    char *name;
    uint64_t ram_size;          /* bytes */
    unsigned int vcpus;
    unsigned int maxcpus;
    char boot_order[8];         /* "c", "dc", ... (-boot order=) */
    bool no_shutdown;
    bool start_paused;          /* -S */
    char *incoming;
    char *machine;              /* "xenfv", "pc" or "none" (libxl probe) */
    bool xen_platform;          /* xenfv, or -device xen-platform */
    uint64_t max_ram_below_4g;  /* -machine max-ram-below-4g=; 0: default */
    bool no_acpi;               /* -no-acpi */
    bool nographic;             /* -nographic */
    bool usb;                   /* -usb or -device piix3-usb-uhci */
    bool usb_tablet;            /* -usbdevice tablet or -device usb-tablet */

    /* -serial SPEC: "pty", "null", "none", "stdio", "file:PATH",
     * "unix:PATH[,server][,nowait]", "chardev:ID" */
    char *serial[DM_MAX_SERIAL];
    unsigned int nr_serial;

    struct dm_drive_cfg drives[DM_MAX_DRIVES];
    unsigned int nr_drives;
    struct dm_chardev_cfg chardevs[DM_MAX_CHARDEVS];
    unsigned int nr_chardevs;
    struct dm_monitor_cfg monitors[DM_MAX_MONITORS];
    unsigned int nr_monitors;
    struct dm_nic_cfg nics[DM_MAX_NICS];
    unsigned int nr_nics;
    struct dm_netdev_cfg netdevs[DM_MAX_NICS];
    unsigned int nr_netdevs;

    char *vga;                  /* "VGA", "cirrus-vga", NULL */
    unsigned int vgamem_mb;
    bool vga_edid_set;          /* -device VGA,edid=on|off given */
    bool vga_edid;              /* its value */
    unsigned int vga_xres, vga_yres;    /* VGA,xres=,yres=: EDID's mode */
    bool machine_no_edid;       /* xenfv (xenfv-3.1): QEMU's VGA had none */
    char *vnc;
    char *display;
    char *keymap;
    char *runas;
    char *chroot;
    char *pidfile;
    char *logfile;              /* -D */
    char *kernel;               /* -kernel: bzImage for direct boot */
    char *initrd;               /* -initrd */
    char *append;               /* -append: kernel command line */
    char *firmware_dir;         /* -L: option ROMs; NULL = /usr/share/qemu */
    int log_level;              /* -1: default, else enum dm_log_level */

    /* One warning per accepted option the guest will not (fully) get,
     * "<option>: <what is missing>", for main to log once the log is set
     * up. */
    char *notes[DM_MAX_NOTES];
    unsigned int nr_notes;
    bool show_help;             /* -h / --help: print the help, exit 0 */
    bool show_version;          /* --version */
    enum dm_backing_policy backing; /* -block-backing on|off|raw-ok */
    unsigned int ioreq_spin_us;     /* -ioreq-spin: 0 = never (dm/loop.h) */
};

/*
 * The option table, one row per option (or per -device driver or option
 * value) libxl 4.17-4.21 can pass, as dm/options.c declares it. A row is
 * implemented, accepted with one warning (note: what the guest will not
 * get), or refused (note: the fix, naming something that works).
 */
enum dm_opt_status { DM_OPT_IMPLEMENTED, DM_OPT_WARN, DM_OPT_REFUSED };

struct dm_opt_row {
    const char *name;           /* "-vnc", "-device" */
    const char *value;          /* NULL; "e1000", "none"; "*": any other */
    enum dm_opt_status status;
    const char *note;           /* WARN and REFUSED rows */
    const char *help;           /* synopsis, for --help and the man page */
    const char *sample;         /* arguments exercising the row (tests) */
};

/* Row i of the table (options, -device drivers, values); NULL past it. */
const struct dm_opt_row *dm_option_row(size_t i);

/*
 * Parse argv (argv[0] included) into cfg, which dm_config_defaults() set
 * up; 0 or -1 with the message in err. Free cfg with dm_config_free()
 * either way.
 */
int dm_config_parse(struct dm_config *cfg, int argc, char *const *argv,
                    char *err, size_t errlen);
void dm_config_free(struct dm_config *cfg);
void dm_config_defaults(struct dm_config *cfg);
/* One line per accepted option, for --help. */
void dm_config_print_help(FILE *out);

#endif
