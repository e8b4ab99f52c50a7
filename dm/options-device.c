/*
 * -device, -usb and -usbdevice (dm/options.c has the option rows): one
 * row per driver libxl may name, each implemented (with its parser),
 * accepted with a warning, or refused with advice that works.
 */
#include <glib.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "dm/options-int.h"

/* "00:16:3e:00:00:01" */
static int
parse_mac(const char *s, uint8_t mac[6])
{
    unsigned int i;

    for (i = 0; i < 6; i++) {
        if (!g_ascii_isxdigit(s[0]) || !g_ascii_isxdigit(s[1]) ||
            s[2] != (i == 5 ? '\0' : ':')) {
            return -1;
        }
        mac[i] = (uint8_t)(g_ascii_xdigit_value(s[0]) << 4 |
                           g_ascii_xdigit_value(s[1]));
        s += 3;
    }
    return 0;
}

/* VGA / cirrus-vga,vgamem_mb=N (QEMU's limits: VGA 1-512, cirrus 4/8/16);
 * VGA also takes edid=on|off and the EDID's preferred mode xres=, yres=. */
static int
dev_vga(struct parse_ctx *c, struct dm_opts *o, const char *driver)
{
    struct dm_config *cfg = c->cfg;
    bool cirrus = strcmp(driver, "cirrus-vga") == 0;
    uint64_t mb = cirrus ? 4 : 16, x = 0, y = 0;
    const char *id, *edid = NULL;

    if (dm_opts_str(o, "id", &id) < 0 ||
        dm_opts_uint(o, "vgamem_mb", 1, 512, &mb) < 0 ||
        (!cirrus && (dm_opts_str(o, "edid", &edid) < 0 ||
                     dm_opts_uint(o, "xres", 640, 2560, &x) < 0 ||
                     dm_opts_uint(o, "yres", 480, 1600, &y) < 0)) ||
        dm_opts_finish(o, cirrus ? "id, vgamem_mb"
                                 : "id, vgamem_mb, edid, xres, yres") < 0) {
        return -1;
    }
    if (edid && dm_parse_bool(edid, &cfg->vga_edid) < 0) {
        return perr(c, "edid=%s: expected on or off", edid);
    }
    cfg->vga_edid_set = edid != NULL;
    cfg->vga_xres = (unsigned int)x;
    cfg->vga_yres = (unsigned int)y;
    if (cirrus && mb != 4 && mb != 8 && mb != 16) {
        return perr(c, "vgamem_mb=%" PRIu64 ": cirrus-vga has 4, 8 or 16 "
                    "MiB; set videoram=8 or 16 in the domain config", mb);
    }
    if (cfg->vga) {
        return perr(c, "a second display adapter (%s after %s); keep one "
                    "vga= setting", driver, cfg->vga);
    }
    cfg->vga = g_strdup(driver);
    cfg->vgamem_mb = (unsigned int)mb;
    return 0;
}

static int
dev_nic(struct parse_ctx *c, struct dm_opts *o, const char *driver)
{
    struct dm_config *cfg = c->cfg;
    struct dm_nic_cfg *nic;
    const char *id, *netdev, *mac;
    uint8_t addr[6];

    if (dm_opts_str(o, "id", &id) < 0 ||
        dm_opts_str(o, "netdev", &netdev) < 0 ||
        dm_opts_str(o, "mac", &mac) < 0 ||
        dm_opts_finish(o, "id, netdev, mac") < 0) {
        return -1;
    }
    if (!netdev) {
        return perr(c, "%s needs netdev=ID naming a -netdev", driver);
    }
    if (mac && parse_mac(mac, addr) < 0) {
        return perr(c, "mac=%s is not a MAC address like 00:16:3e:00:00:01",
                    mac);
    }
    if (cfg->nr_nics == DM_MAX_NICS) {
        return perr(c, "more than %d NICs", DM_MAX_NICS);
    }
    nic = &cfg->nics[cfg->nr_nics++];
    memset(nic, 0, sizeof(*nic));
    nic->model = g_strdup(driver);
    nic->id = g_strdup(id);
    nic->netdev = g_strdup(netdev);
    nic->have_mac = mac != NULL;
    if (mac) {
        memcpy(nic->mac, addr, sizeof(addr));
    }
    return 0;
}

/* bus=ide.N,unit=M -> index N * 2 + M */
static int
ide_position(struct parse_ctx *c, struct dm_opts *o, int *index)
{
    const char *bus;
    uint64_t unit = UINT64_MAX, channel;

    if (dm_opts_str(o, "bus", &bus) < 0 ||
        dm_opts_uint(o, "unit", 0, 1, &unit) < 0) {
        return -1;
    }
    if (!bus || !g_str_has_prefix(bus, "ide.") ||
        dm_parse_uint(bus + 4, 0, 1, &channel) < 0) {
        return perr(c, "bus=%s: the PIIX IDE buses are ide.0 and ide.1 (for "
                    "AHCI use hdtype=\"ide\")", bus ? bus : "(missing)");
    }
    if (unit == UINT64_MAX) {
        return perr(c, "missing unit=0 (master) or unit=1 (slave)");
    }
    *index = (int)(channel * 2 + unit);
    return 0;
}

/* ide-cd / ide-hd,drive=ID,bus=ide.N,unit=M: attaches an if=none drive. */
static int
dev_ide(struct parse_ctx *c, struct dm_opts *o, const char *driver)
{
    struct ide_attach *a;
    const char *drive, *id;
    int pos = -1;

    if (dm_opts_str(o, "drive", &drive) < 0 || dm_opts_str(o, "id", &id) < 0 ||
        ide_position(c, o, &pos) < 0 ||
        dm_opts_finish(o, "id, drive, bus, unit") < 0) {
        return -1;
    }
    if (!drive) {
        return perr(c, "%s needs drive=ID naming an if=none -drive", driver);
    }
    if (c->nr_attach == DM_MAX_DRIVES) {
        return perr(c, "more than %d IDE devices", DM_MAX_DRIVES);
    }
    a = &c->attach[c->nr_attach++];
    a->drive = g_strdup(drive);
    a->index = pos;
    a->media = strcmp(driver, "ide-cd") == 0 ? DM_MEDIA_CDROM : DM_MEDIA_DISK;
    return 0;
}

static int
dev_xen_platform(struct parse_ctx *c, struct dm_opts *o, const char *driver)
{
    const char *id;

    if (dm_opts_str(o, "id", &id) < 0 || dm_opts_finish(o, "id") < 0) {
        return -1;
    }
    c->cfg->xen_platform = true;
    return 0;
}

/* piix3-usb-uhci,id=usb (usbversion=1) */
static int
dev_usb_uhci(struct parse_ctx *c, struct dm_opts *o, const char *driver)
{
    const char *id;

    if (dm_opts_str(o, "id", &id) < 0 || dm_opts_finish(o, "id") < 0) {
        return -1;
    }
    c->cfg->usb = true;
    return 0;
}

/* usb-tablet / usb-mouse / usb-kbd */
static int
dev_usb_hid(struct parse_ctx *c, struct dm_opts *o, const char *driver)
{
    const char *id, *bus;

    if (dm_opts_str(o, "id", &id) < 0 || dm_opts_str(o, "bus", &bus) < 0 ||
        dm_opts_finish(o, "id, bus") < 0) {
        return -1;
    }
    if (strcmp(driver, "usb-tablet") == 0) {
        c->cfg->usb_tablet = true;
    }
    return 0;
}

/* Advice of the refused drivers (dm/options-int.h has the shared ones). */
#define NO_USB2 "USB 2.0/3.0 controllers are not emulated; remove " \
    "usbversion= and usbdevice= from the domain config"
#define NO_SCSI "SCSI is not emulated; name the disk hdX (not sdX) in the " \
    "disk spec"

/* The other NIC models (libxl's default is rtl8139): e1000 instead. */
#define NIC_OTHER(m)                                                    \
    { { "-device", m, DM_OPT_REFUSED, "NIC model " m " is not emulated; " \
        "use model=e1000 in the vif spec", NULL,                        \
        "-device " m ",id=nic0,netdev=net0,mac=00:16:3e:00:00:01 "       \
        "-netdev type=tap,id=net0" }, dev_nic }
#define SOUND(m)                                                        \
    { { "-device", m, DM_OPT_REFUSED, "sound hardware (" m ") is not "  \
        "emulated; remove soundhw= from the domain config", NULL,       \
        "-device " m }, NULL }
#define REFUSE_DEV(m, why)                                              \
    { { "-device", m, DM_OPT_REFUSED, why, NULL, "-device " m }, NULL }

struct device_def {
    struct dm_opt_row row;      /* value: the driver */
    int (*parse)(struct parse_ctx *c, struct dm_opts *o, const char *driver);
};

static const struct device_def device_defs[] = {
    { { "-device", "ide-hd", DM_OPT_IMPLEMENTED, NULL,
        "ide-hd,drive=ID,bus=ide.N,unit=M  IDE disk",
        "-drive file=/a.img,if=none,id=d "
        "-device ide-hd,drive=d,bus=ide.0,unit=0" }, dev_ide },
    { { "-device", "ide-cd", DM_OPT_IMPLEMENTED, NULL,
        "ide-cd,drive=ID,bus=ide.N,unit=M  ATAPI CD-ROM",
        "-drive if=none,readonly=on,id=ide-5632 "
        "-device ide-cd,id=ide-5632,drive=ide-5632,bus=ide.1,unit=0" },
      dev_ide },
    { { "-device", "e1000", DM_OPT_IMPLEMENTED, NULL,
        "e1000,netdev=ID[,mac=M]  Intel 82540EM NIC",
        "-device e1000,id=nic0,netdev=net0,mac=00:16:3e:00:00:01 "
        "-netdev type=tap,id=net0" }, dev_nic },
    { { "-device", "xen-platform", DM_OPT_IMPLEMENTED, NULL,
        "xen-platform  Xen platform PCI device",
        "-device xen-platform" }, dev_xen_platform },
    { { "-device", "VGA", DM_OPT_IMPLEMENTED, NULL,
        "VGA[,vgamem_mb=N][,edid=on|off][,xres=W,yres=H]  standard VGA "
        "(vga=\"stdvga\"); EDID by default except on xenfv",
        "-device VGA,vgamem_mb=16" }, dev_vga },
    { { "-device", "cirrus-vga", DM_OPT_WARN, NO_CIRRUS,
        "cirrus-vga[,vgamem_mb=N]  Cirrus (shown as the standard VGA)",
        "-device cirrus-vga,vgamem_mb=8" }, dev_vga },
    { { "-device", "piix3-usb-uhci", DM_OPT_WARN, NOT_YET_USB,
        "piix3-usb-uhci  USB 1.1 controller",
        "-device piix3-usb-uhci,id=usb" }, dev_usb_uhci },
    { { "-device", "usb-tablet", DM_OPT_WARN, NOT_YET_USB,
        "usb-tablet  USB tablet", "-device usb-tablet" }, dev_usb_hid },
    { { "-device", "usb-mouse", DM_OPT_WARN, NOT_YET_USB,
        "usb-mouse  USB mouse", "-device usb-mouse" }, dev_usb_hid },
    { { "-device", "usb-kbd", DM_OPT_WARN, NOT_YET_USB,
        "usb-kbd  USB keyboard", "-device usb-kbd" }, dev_usb_hid },
    REFUSE_DEV("qxl-vga", "QXL is not emulated; use vga=\"stdvga\" in the "
               "domain config"),
    NIC_OTHER("rtl8139"), NIC_OTHER("ne2k_pci"), NIC_OTHER("pcnet"),
    NIC_OTHER("i82550"), NIC_OTHER("i82551"), NIC_OTHER("i82557b"),
    NIC_OTHER("i82559er"), NIC_OTHER("e1000e"), NIC_OTHER("vmxnet3"),
    NIC_OTHER("virtio-net-pci"),
    REFUSE_DEV("ahci", "AHCI is not emulated; use hdtype=\"ide\" in the "
               "domain config"),
    REFUSE_DEV("lsi53c895a", NO_SCSI),
    REFUSE_DEV("scsi-hd", NO_SCSI),
    REFUSE_DEV("xen-pvdevice", "the XenServer PV device is not emulated; "
               "remove vendor_device= from the domain config"),
    REFUSE_DEV("ich9-usb-ehci1", NO_USB2),
    REFUSE_DEV("ich9-usb-uhci1", NO_USB2),
    REFUSE_DEV("ich9-usb-uhci2", NO_USB2),
    REFUSE_DEV("ich9-usb-uhci3", NO_USB2),
    REFUSE_DEV("nec-usb-xhci", NO_USB2),
    REFUSE_DEV("usb-redir", NO_SPICE),
    REFUSE_DEV("virtio-serial", NO_SPICE),
    REFUSE_DEV("virtserialport", NO_SPICE),
    SOUND("intel-hda"), SOUND("hda-duplex"), SOUND("AC97"), SOUND("ac97"),
    SOUND("ES1370"), SOUND("es1370"), SOUND("sb16"), SOUND("cs4231a"),
    SOUND("adlib"), SOUND("gus"),
};

static const struct device_def *
device_lookup(const char *driver)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(device_defs); i++) {
        if (strcmp(device_defs[i].row.value, driver) == 0) {
            return &device_defs[i];
        }
    }
    return NULL;
}

int
opt_device(struct parse_ctx *c, const char *arg)
{
    const struct device_def *def;
    struct dm_opts o;
    const char *driver;
    int rc = -1;

    if (opts_parse(c, &o, arg, "driver") < 0 ||
        dm_opts_str(&o, "driver", &driver) < 0) {
        goto out;
    }
    def = driver ? device_lookup(driver) : NULL;
    if (!def) {
        perr(c, "unknown device '%s'; hvmdm emulates ide-hd and ide-cd "
             "(hvmdm --help lists them)", driver ? driver : "(none)");
    } else if (row_apply(c, &def->row) == 0) {
        rc = def->parse(c, &o, driver);
    }
out:
    dm_opts_free(&o);
    return rc;
}

/* -usb: a USB 1.1 controller (usb=1). */
int
opt_usb(struct parse_ctx *c, const char *arg)
{
    c->cfg->usb = true;
    return 0;
}

/* -usbdevice tablet|mouse|keyboard */
int
opt_usbdevice(struct parse_ctx *c, const char *arg)
{
    if (strcmp(arg, "tablet") == 0) {
        c->cfg->usb_tablet = true;
    } else if (strcmp(arg, "mouse") != 0 && strcmp(arg, "keyboard") != 0) {
        return perr(c, "usbdevice '%s' is not supported; remove it from "
                    "the domain config", arg);
    }
    return 0;
}

size_t
device_nr_rows(void)
{
    return G_N_ELEMENTS(device_defs);
}

const struct dm_opt_row *
device_row(size_t i)
{
    return i < G_N_ELEMENTS(device_defs) ? &device_defs[i].row : NULL;
}
