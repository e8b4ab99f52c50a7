/*
 * The operator's view in the log: one start-up line saying what runs with
 * which configuration, and one summary line at exit.
 */
#ifndef DM_REPORT_H
#define DM_REPORT_H

struct dm;

#define HVMDM_VERSION "0.1.0"

/*
 * "hvmdm 0.1.0 starting: domain 5 "web", xenfv, 2 vCPUs (max 4), 1024 MiB;
 * devices: ...; disks: hda /img (raw, writeback) ...; serial: pty".
 * dm->cfg and the board must be set up.
 */
void dm_report_startup(const struct dm *dm);
/*
 * One warning per xenstore backend libxl set up for the domain that only
 * QEMU serves (qdisk, vkbd, vfb, qusb, 9pfs). libxl adds some devices after
 * the device model starts, so call it again later: *reported (0 at first)
 * keeps each warning to one.
 */
void dm_report_backends(const struct dm *dm, unsigned int *reported);
/* "exit: N requests served (pio ..., mmio ..., ...); guest errors ...",
 * outside the log cap so it survives a flood. */
void dm_report_exit(const struct dm *dm, double uptime_s);

#endif
