/*
 * Character backends (see dm/chardev.h). The state of a backend is its fds
 * and watches plus a ring buffer of output not yet taken by the reader.
 *
 * Connection model: out_fd >= 0 means output is delivered. A pty is
 * connected while its slave side is open (the master reports POLLHUP when
 * it is not, polled once a second and on every write, as QEMU does); a
 * socket while it has a peer. Without a connection output is discarded.
 */
#include "dm/chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib-unix.h>   /* g_unix_fd_add */
#include <poll.h>
#include <stdlib.h>      /* posix_openpt, grantpt, unlockpt, ptsname_r */
#include <string.h>
#include <sys/ioctl.h>   /* FIONREAD */
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "dm/config.h"
#include "dm/log.h"
#include "dm/loop.h"     /* dm_loop_watch_fd */
#include "dm/machine.h"
#include "dm/timer.h"

/* How often a pty without a reader is checked for one (QEMU: 1 s). */
#define CHARDEV_PTY_POLL_NS 1000000000ull
#define CHARDEV_READ_CHUNK 256

enum chardev_type {
    CHR_NULL,
    CHR_PTY,
    CHR_FILE,
    CHR_STDIO,
    CHR_SOCKET,
};

struct dm_chardev {
    struct dm *dm;
    enum chardev_type type;
    char *label;
    char *filename;
    char *path;                 /* pty slave, file or socket path */

    int in_fd;                  /* -1: no input now */
    int out_fd;                 /* -1: output is discarded */
    int pty_fd;                 /* pty master, open for the lifetime */
    int listen_fd;              /* socket server */
    bool server;
    bool unlink_path;           /* we bound path: remove it on free */
    unsigned int reconnect_s;   /* socket client: retry period, 0 = none */

    unsigned int in_watch;
    unsigned int out_watch;
    unsigned int hup_watch;
    unsigned int listen_watch;
    bool in_paused;             /* frontend full: input watch removed */
    bool peer_gone;             /* hung up with input left to deliver */
    bool fe_blocked;            /* a short write owes the frontend a call */
    struct dm_timer timer;      /* pty reader poll, socket reconnect */

    bool tty_saved;             /* stdio: terminal settings to restore */
    struct termios saved_tio;
    int saved_fl[2];            /* stdio: fd 0 and 1 file status flags */

    uint8_t obuf[DM_CHARDEV_OUTBUF];
    size_t ohead;
    size_t olen;

    const struct dm_chardev_fe_ops *fe;
    void *fe_opaque;
    struct dm_chardev *next;
};

struct chardev_sock_opts {
    const char *path;
    int fd;                     /* pre-opened socket or -1 */
    bool server;
    bool wait;
    unsigned int reconnect_s;
};

/* Host configuration, not guest state: every machine's backends. */
static struct dm_chardev *chardev_list;

static void chardev_read_ready(void *opaque);
static void chardev_listen_ready(void *opaque);

/* --- helpers ---------------------------------------------------------- */

static bool
chardev_errno_again(int err)
{
    return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

static int
chardev_set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        return -errno;
    }
    return 0;
}

static void
chardev_update_filename(struct dm_chardev *c)
{
    g_free(c->filename);
    switch (c->type) {
    case CHR_PTY:
        c->filename = g_strdup_printf("pty:%s", c->path);
        break;
    case CHR_FILE:
        c->filename = g_strdup_printf("file:%s", c->path);
        break;
    case CHR_STDIO:
        c->filename = g_strdup("stdio");
        break;
    case CHR_SOCKET:
        c->filename = g_strdup_printf("%sunix:%s%s",
                                      c->out_fd < 0 ? "disconnected:" : "",
                                      c->path,
                                      c->server ? ",server=on" : "");
        break;
    case CHR_NULL:
    default:
        c->filename = g_strdup("null");
        break;
    }
}

static void
chardev_event(struct dm_chardev *c, enum dm_chardev_event ev)
{
    if (c->fe && c->fe->event) {
        c->fe->event(c->fe_opaque, ev);
    }
}

/* Tell a frontend that was refused that it may write again. */
static void
chardev_notify_writable(struct dm_chardev *c)
{
    if (!c->fe_blocked || c->olen >= DM_CHARDEV_OUTBUF) {
        return;
    }
    c->fe_blocked = false;
    if (c->fe && c->fe->writable) {
        c->fe->writable(c->fe_opaque);
    }
}

static void
chardev_unwatch(unsigned int *id)
{
    if (*id) {
        g_source_remove(*id);
        *id = 0;
    }
}

/* Output has nowhere to go: drop it and release a waiting frontend. */
static void
chardev_drop_output(struct dm_chardev *c)
{
    chardev_unwatch(&c->out_watch);
    c->ohead = 0;
    c->olen = 0;
    chardev_notify_writable(c);
}

/* --- input ------------------------------------------------------------ */

static void
chardev_input_on(struct dm_chardev *c)
{
    if (c->in_fd >= 0 && !c->in_watch && !c->in_paused) {
        c->in_watch = dm_loop_watch_fd(c->dm, c->in_fd, chardev_read_ready,
                                       c);
    }
}

static void
chardev_input_pause(struct dm_chardev *c)
{
    c->in_paused = true;
    if (c->in_watch) {
        dm_loop_unwatch(c->dm, c->in_watch);
        c->in_watch = 0;
    }
}

static void
chardev_input_off(struct dm_chardev *c)
{
    if (c->in_watch) {
        dm_loop_unwatch(c->dm, c->in_watch);
        c->in_watch = 0;
    }
    c->in_fd = -1;
}

/* --- connection state ------------------------------------------------- */

static gboolean
chardev_hup_ready(gint fd, GIOCondition cond, gpointer opaque);

static void
chardev_connected(struct dm_chardev *c, int fd)
{
    c->in_fd = fd;
    c->out_fd = fd;
    c->in_paused = false;
    chardev_input_on(c);
    c->hup_watch = g_unix_fd_add(fd, G_IO_HUP | G_IO_ERR, chardev_hup_ready,
                                 c);
    chardev_update_filename(c);
    DM_DEBUG("%s: connected (%s)", c->label, c->filename);
    chardev_event(c, DM_CHARDEV_OPENED);
}

static void
chardev_arm_timer(struct dm_chardev *c, uint64_t period_ns)
{
    dm_timer_mod(&c->timer, dm_clock_ns(c->dm) + period_ns);
}

static void
chardev_listen_on(struct dm_chardev *c)
{
    if (c->listen_fd >= 0 && c->out_fd < 0 && !c->listen_watch) {
        c->listen_watch = dm_loop_watch_fd(c->dm, c->listen_fd,
                                           chardev_listen_ready, c);
    }
}

/* The peer went away: drop what it did not read, wait for the next one. */
static void
chardev_hangup(struct dm_chardev *c)
{
    int fd = c->out_fd;

    chardev_input_off(c);
    chardev_unwatch(&c->out_watch);
    chardev_unwatch(&c->hup_watch);
    c->out_fd = -1;
    c->in_paused = false;
    c->peer_gone = false;
    c->ohead = 0;
    c->olen = 0;
    if (c->type == CHR_SOCKET && fd >= 0) {
        close(fd);
        chardev_listen_on(c);
        if (!c->server && c->reconnect_s) {
            chardev_arm_timer(c, c->reconnect_s * 1000000000ull);
        }
    } else if (c->type == CHR_PTY) {
        chardev_arm_timer(c, CHARDEV_PTY_POLL_NS);
    }
    chardev_update_filename(c);
    DM_DEBUG("%s: disconnected", c->label);
    chardev_event(c, DM_CHARDEV_CLOSED);
    chardev_notify_writable(c);
}

/* A file or stdout that failed for good: report once, discard from now. */
static void
chardev_output_failed(struct dm_chardev *c, int err)
{
    if (c->type == CHR_PTY || c->type == CHR_SOCKET) {
        chardev_hangup(c);
        return;
    }
    DM_WARN("%s: output to %s failed (%s); discarding further output",
            c->label, c->filename, g_strerror(err));
    if (c->type == CHR_FILE && c->out_fd >= 0) {
        close(c->out_fd);
    }
    c->out_fd = -1;
    chardev_drop_output(c);
}

static void
chardev_input_closed(struct dm_chardev *c)
{
    if (c->type == CHR_PTY || c->type == CHR_SOCKET) {
        chardev_hangup(c);
    } else {
        chardev_input_off(c);   /* stdin EOF: output goes on */
    }
}

/*
 * The peer hung up. Input it sent before leaving is still delivered (the
 * read that finds the end of it completes the hang-up); output stops now.
 */
static gboolean
chardev_hup_ready(gint fd, GIOCondition cond, gpointer opaque)
{
    struct dm_chardev *c = opaque;
    int pending = 0;

    c->hup_watch = 0;
    if (c->in_fd >= 0 && ioctl(c->in_fd, FIONREAD, &pending) == 0 &&
        pending > 0) {
        c->peer_gone = true;
        chardev_drop_output(c);
        return G_SOURCE_REMOVE;
    }
    chardev_hangup(c);
    return G_SOURCE_REMOVE;
}

/* A pty has a reader when its master does not report POLLHUP. */
static void
chardev_pty_check(struct dm_chardev *c)
{
    struct pollfd p = { .fd = c->pty_fd, .events = 0 };

    if (c->out_fd >= 0) {
        return;
    }
    if (poll(&p, 1, 0) >= 0 && !(p.revents & (POLLHUP | POLLERR))) {
        dm_timer_del(&c->timer);
        chardev_connected(c, c->pty_fd);
    } else if (!dm_timer_pending(&c->timer)) {
        chardev_arm_timer(c, CHARDEV_PTY_POLL_NS);
    }
}

/* --- input callbacks -------------------------------------------------- */

static void
chardev_read_ready(void *opaque)
{
    struct dm_chardev *c = opaque;
    uint8_t buf[CHARDEV_READ_CHUNK];
    size_t room = c->fe ? c->fe->can_receive(c->fe_opaque) : 0;
    ssize_t n;

    if (room == 0) {
        chardev_input_pause(c);
        return;
    }
    n = read(c->in_fd, buf, MIN(room, sizeof(buf)));
    if (n > 0) {
        c->fe->receive(c->fe_opaque, buf, (size_t)n);
    } else if (n == 0 || !chardev_errno_again(errno)) {
        chardev_input_closed(c);
    }
}

static void
chardev_listen_ready(void *opaque)
{
    struct dm_chardev *c = opaque;
    int fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (fd < 0) {
        if (!chardev_errno_again(errno) && errno != ECONNABORTED) {
            DM_WARN("%s: accept on %s: %s", c->label, c->path,
                    g_strerror(errno));
        }
        return;
    }
    /* One client at a time: the next waits in the backlog. */
    chardev_unwatch(&c->listen_watch);
    chardev_connected(c, fd);
}

/* --- output ----------------------------------------------------------- */

static ssize_t
chardev_send(struct dm_chardev *c, const uint8_t *buf, size_t len)
{
    if (c->type == CHR_SOCKET) {
        return send(c->out_fd, buf, len, MSG_NOSIGNAL);
    }
    return write(c->out_fd, buf, len);
}

static size_t
chardev_queue(struct dm_chardev *c, const uint8_t *buf, size_t len)
{
    size_t n = MIN(len, DM_CHARDEV_OUTBUF - c->olen), done = 0;

    while (done < n) {
        size_t tail = (c->ohead + c->olen) % DM_CHARDEV_OUTBUF;
        size_t chunk = MIN(n - done, DM_CHARDEV_OUTBUF - tail);

        memcpy(c->obuf + tail, buf + done, chunk);
        c->olen += chunk;
        done += chunk;
    }
    return n;
}

static gboolean chardev_out_ready(gint fd, GIOCondition cond,
                                  gpointer opaque);

/* Watch for room exactly while output is queued. */
static void
chardev_watch_out(struct dm_chardev *c)
{
    if (c->olen == 0) {
        chardev_unwatch(&c->out_watch);
    } else if (!c->out_watch) {
        c->out_watch = g_unix_fd_add(c->out_fd, G_IO_OUT, chardev_out_ready,
                                     c);
    }
}

/* Send what the reader takes; returns false if the output failed. */
static bool
chardev_flush(struct dm_chardev *c)
{
    while (c->olen > 0) {
        size_t chunk = MIN(c->olen, DM_CHARDEV_OUTBUF - c->ohead);
        ssize_t n = chardev_send(c, c->obuf + c->ohead, chunk);

        if (n < 0) {
            if (chardev_errno_again(errno)) {
                break;
            }
            chardev_output_failed(c, errno);
            return false;
        }
        c->ohead = (c->ohead + (size_t)n) % DM_CHARDEV_OUTBUF;
        c->olen -= (size_t)n;
    }
    if (c->olen == 0) {
        c->ohead = 0;
    }
    chardev_watch_out(c);
    return true;
}

static gboolean
chardev_out_ready(gint fd, GIOCondition cond, gpointer opaque)
{
    struct dm_chardev *c = opaque;

    c->out_watch = 0;
    if (cond & (G_IO_HUP | G_IO_ERR | G_IO_NVAL)) {
        chardev_output_failed(c, EPIPE);
        return G_SOURCE_REMOVE;
    }
    if (chardev_flush(c)) {
        chardev_notify_writable(c);
    }
    return G_SOURCE_REMOVE;
}

size_t
dm_chardev_write(struct dm_chardev *c, const uint8_t *buf, size_t len)
{
    size_t done = 0;
    ssize_t n;

    c->fe_blocked = false;  /* the caller learns from the return value */
    if (c->out_fd < 0 && c->type == CHR_PTY) {
        chardev_pty_check(c);
    }
    if (c->out_fd < 0 || c->peer_gone || len == 0) {
        return len;
    }
    if (c->type == CHR_STDIO && dm_log_console_budget(len) < len) {
        return len;     /* stdout is the log: past its cap, dropped */
    }
    if (c->olen == 0) {
        n = chardev_send(c, buf, len);
        if (n < 0 && !chardev_errno_again(errno)) {
            chardev_output_failed(c, errno);
            return len;
        }
        done = n > 0 ? (size_t)n : 0;
    }
    done += chardev_queue(c, buf + done, len - done);
    chardev_watch_out(c);
    c->fe_blocked = done < len;
    return done;
}

/* --- timers ----------------------------------------------------------- */

static int chardev_unix_connect(struct dm_chardev *c);

static void
chardev_timer_cb(void *opaque)
{
    struct dm_chardev *c = opaque;

    if (c->type == CHR_PTY) {
        chardev_pty_check(c);
    } else if (c->type == CHR_SOCKET && c->out_fd < 0 && c->reconnect_s) {
        if (chardev_unix_connect(c) < 0) {
            chardev_arm_timer(c, c->reconnect_s * 1000000000ull);
        }
    }
}

/* --- backends --------------------------------------------------------- */

static int
chardev_open_null(struct dm_chardev *c, char *err, size_t errlen)
{
    c->type = CHR_NULL;
    return 0;
}

static int
chardev_open_pty(struct dm_chardev *c, char *err, size_t errlen)
{
    char name[64];
    struct termios tio;
    int m, s;

    c->type = CHR_PTY;
    m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0) {
        int e = errno;

        g_snprintf(err, errlen, "cannot allocate a pty: %s", g_strerror(e));
        return -e;
    }
    c->pty_fd = m;
    if (grantpt(m) < 0 || unlockpt(m) < 0 ||
        ptsname_r(m, name, sizeof(name)) != 0 ||
        fcntl(m, F_SETFD, FD_CLOEXEC) < 0 || chardev_set_nonblock(m) < 0 ||
        tcgetattr(m, &tio) < 0) {
        g_snprintf(err, errlen, "cannot set up a pty: %s", g_strerror(errno));
        return -EIO;
    }
    cfmakeraw(&tio);
    tcsetattr(m, TCSANOW, &tio);
    /* Open and close the slave once: only then does the master report
     * POLLHUP while nobody has it open (a never-opened slave buffers
     * output until it is full, which would stall the guest). */
    s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0) {
        g_snprintf(err, errlen, "cannot open %s: %s", name, g_strerror(errno));
        return -EIO;
    }
    close(s);
    c->path = g_strdup(name);
    chardev_update_filename(c);
    chardev_pty_check(c);
    return 0;
}

static int
chardev_open_file(struct dm_chardev *c, const char *path, char *err,
                  size_t errlen)
{
    int fd;

    c->type = CHR_FILE;
    if (!path || !*path) {
        g_snprintf(err, errlen, "missing file name; use file:PATH");
        return -EINVAL;
    }
    /* Truncate like QEMU; O_NONBLOCK so a FIFO never blocks the loop. */
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK | O_CLOEXEC,
              0666);
    if (fd < 0) {
        int e = errno;

        g_snprintf(err, errlen, "cannot open %s: %s", path, g_strerror(e));
        return -e;
    }
    c->out_fd = fd;
    c->path = g_strdup(path);
    chardev_update_filename(c);
    return 0;
}

/* stdin raw (signals kept so ^C still stops hvmdm), as QEMU's stdio. */
static void
chardev_stdio_raw(struct dm_chardev *c)
{
    struct termios tio;

    if (!isatty(0) || tcgetattr(0, &c->saved_tio) < 0) {
        return;
    }
    c->tty_saved = true;
    tio = c->saved_tio;
    tio.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR |
                               IGNCR | ICRNL | IXON);
    tio.c_oflag |= OPOST;
    tio.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | IEXTEN);
    tio.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    tio.c_cflag |= CS8;
    tio.c_cc[VMIN] = 1;
    tio.c_cc[VTIME] = 0;
    tcsetattr(0, TCSANOW, &tio);
}

static int
chardev_open_stdio(struct dm_chardev *c, char *err, size_t errlen)
{
    const struct dm_chardev *o;

    for (o = chardev_list; o; o = o->next) {
        if (o->type == CHR_STDIO) {
            g_snprintf(err, errlen, "stdio is already used by %s; only one "
                       "backend can use stdio", o->label);
            return -EBUSY;
        }
    }
    c->type = CHR_STDIO;
    c->saved_fl[0] = fcntl(0, F_GETFL);
    c->saved_fl[1] = fcntl(1, F_GETFL);
    if (c->saved_fl[0] < 0 || c->saved_fl[1] < 0 ||
        chardev_set_nonblock(0) < 0 || chardev_set_nonblock(1) < 0) {
        g_snprintf(err, errlen, "stdin/stdout unusable: %s",
                   g_strerror(errno));
        return -EBADF;
    }
    chardev_stdio_raw(c);
    c->in_fd = 0;
    c->out_fd = 1;
    chardev_update_filename(c);
    chardev_input_on(c);
    return 0;
}

static int
chardev_unix_addr(const char *path, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa->sun_path)) {
        return -ENAMETOOLONG;
    }
    memcpy(sa->sun_path, path, strlen(path));
    return 0;
}

/* Client side: 0 once connected, else -errno (nothing kept open). */
static int
chardev_unix_connect(struct dm_chardev *c)
{
    struct sockaddr_un sa;
    int fd, rc = chardev_unix_addr(c->path, &sa);

    if (rc < 0) {
        return rc;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    /* A full backlog fails with EAGAIN rather than blocking. */
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    chardev_connected(c, fd);
    return 0;
}

static int
chardev_unix_listen(struct dm_chardev *c, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    int fd, rc = chardev_unix_addr(c->path, &sa);

    if (rc < 0) {
        g_snprintf(err, errlen, "socket path %s is too long (at most %zu "
                   "bytes)", c->path, sizeof(sa.sun_path) - 1);
        return rc;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
        g_snprintf(err, errlen, "socket: %s", g_strerror(errno));
        return rc;
    }
    c->listen_fd = fd;
    unlink(c->path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(fd, 1) < 0) {
        rc = -errno;
        g_snprintf(err, errlen, "cannot listen on %s: %s", c->path,
                   g_strerror(errno));
        return rc;
    }
    c->unlink_path = true;
    return 0;
}

/* server,wait: hold start-up until the first client, as QEMU does. */
static void
chardev_wait_client(struct dm_chardev *c)
{
    struct pollfd p = { .fd = c->listen_fd, .events = POLLIN };

    DM_INFO("%s: waiting for a connection on %s", c->label, c->path);
    while (c->out_fd < 0) {
        if (poll(&p, 1, -1) < 0 && errno != EINTR) {
            return;
        }
        chardev_listen_ready(c);
    }
}

static int
chardev_open_server(struct dm_chardev *c, const struct chardev_sock_opts *o,
                    char *err, size_t errlen)
{
    int rc;

    if (o->fd >= 0) {
        c->listen_fd = o->fd;   /* pre-opened by the toolstack */
        if (chardev_set_nonblock(o->fd) < 0) {
            g_snprintf(err, errlen, "fd=%d is not usable", o->fd);
            return -EBADF;
        }
    } else {
        rc = chardev_unix_listen(c, err, errlen);
        if (rc < 0) {
            return rc;
        }
    }
    if (o->wait) {
        chardev_wait_client(c);
    }
    chardev_listen_on(c);
    return 0;
}

static int
chardev_open_client(struct dm_chardev *c, const struct chardev_sock_opts *o,
                    char *err, size_t errlen)
{
    int rc;

    if (o->fd >= 0) {
        if (chardev_set_nonblock(o->fd) < 0) {
            g_snprintf(err, errlen, "fd=%d is not usable", o->fd);
            return -EBADF;
        }
        chardev_connected(c, o->fd);
        return 0;
    }
    rc = chardev_unix_connect(c);
    if (rc < 0 && !c->reconnect_s) {
        g_snprintf(err, errlen, "cannot connect to %s: %s; start the server "
                   "first, or add ,server or ,reconnect=SECONDS", c->path,
                   g_strerror(-rc));
        return rc;
    }
    if (rc < 0) {
        DM_WARN("%s: cannot connect to %s (%s); retrying every %us",
                c->label, c->path, g_strerror(-rc), c->reconnect_s);
        chardev_arm_timer(c, c->reconnect_s * 1000000000ull);
    }
    return 0;
}

static int
chardev_open_socket(struct dm_chardev *c, const struct chardev_sock_opts *o,
                    char *err, size_t errlen)
{
    int rc;

    c->type = CHR_SOCKET;
    c->server = o->server;
    c->reconnect_s = o->reconnect_s;
    c->path = g_strdup(o->path ? o->path : "");
    chardev_update_filename(c);
    if (!*c->path && o->fd < 0) {
        g_snprintf(err, errlen, "missing socket path; use unix:PATH or "
                   "path=PATH");
        return -EINVAL;
    }
    rc = o->server ? chardev_open_server(c, o, err, errlen)
                   : chardev_open_client(c, o, err, errlen);
    chardev_update_filename(c);
    return rc;
}

/* --- creation from -serial and -chardev ------------------------------- */

static bool
chardev_parse_onoff(const char *v, bool *out)
{
    if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true")) {
        *out = true;
    } else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false")) {
        *out = false;
    } else {
        return false;
    }
    return true;
}

static bool
chardev_parse_unix_opt(struct chardev_sock_opts *o, const char *opt)
{
    const char *eq = strchr(opt, '=');
    char *end;
    unsigned long v;

    if (!strcmp(opt, "server")) {
        o->server = true;
    } else if (!strcmp(opt, "nowait")) {
        o->wait = false;
    } else if (eq && !strncmp(opt, "server=", 7)) {
        return chardev_parse_onoff(eq + 1, &o->server);
    } else if (eq && !strncmp(opt, "wait=", 5)) {
        return chardev_parse_onoff(eq + 1, &o->wait);
    } else if (eq && !strncmp(opt, "reconnect=", 10)) {
        errno = 0;
        v = strtoul(eq + 1, &end, 10);
        if (errno || *end || end == eq + 1 || v > 86400) {
            return false;
        }
        o->reconnect_s = (unsigned int)v;
    } else {
        return false;
    }
    return true;
}

static int
chardev_spec_unix(struct dm_chardev *c, const char *arg, char *err,
                  size_t errlen)
{
    struct chardev_sock_opts o = { .fd = -1, .wait = true };
    gchar **tok = g_strsplit(arg, ",", -1);
    int rc = 0;
    guint i;

    o.path = tok[0];
    for (i = 1; tok[i]; i++) {
        if (!chardev_parse_unix_opt(&o, tok[i])) {
            g_snprintf(err, errlen, "bad socket option '%s'; use server, "
                       "nowait or reconnect=SECONDS", tok[i]);
            rc = -EINVAL;
            break;
        }
    }
    if (rc == 0) {
        rc = chardev_open_socket(c, &o, err, errlen);
    }
    g_strfreev(tok);
    return rc;
}

static int
chardev_spec_pty(struct dm_chardev *c, const char *arg, char *err,
                 size_t errlen)
{
    return chardev_open_pty(c, err, errlen);
}

static int
chardev_spec_null(struct dm_chardev *c, const char *arg, char *err,
                  size_t errlen)
{
    return chardev_open_null(c, err, errlen);
}

static int
chardev_spec_stdio(struct dm_chardev *c, const char *arg, char *err,
                   size_t errlen)
{
    return chardev_open_stdio(c, err, errlen);
}

static int
chardev_spec_file(struct dm_chardev *c, const char *arg, char *err,
                  size_t errlen)
{
    return chardev_open_file(c, arg, err, errlen);
}

/* -serial SPEC forms; exact entries must match the whole spec. */
static const struct chardev_spec {
    const char *prefix;
    bool exact;
    int (*open)(struct dm_chardev *c, const char *arg, char *err,
                size_t errlen);
} chardev_specs[] = {
    { "pty", true, chardev_spec_pty },
    { "null", true, chardev_spec_null },
    { "stdio", true, chardev_spec_stdio },
    { "file:", false, chardev_spec_file },
    { "unix:", false, chardev_spec_unix },
};

static struct dm_chardev *
chardev_alloc(struct dm *dm, const char *label)
{
    struct dm_chardev *c = g_new0(struct dm_chardev, 1);

    c->dm = dm;
    c->label = g_strdup(label);
    c->in_fd = -1;
    c->out_fd = -1;
    c->pty_fd = -1;
    c->listen_fd = -1;
    dm_timer_init(&c->timer, dm, chardev_timer_cb, c);
    return c;
}

static void
chardev_link(struct dm_chardev *c)
{
    struct dm_chardev **pp = &chardev_list;

    while (*pp) {
        pp = &(*pp)->next;
    }
    *pp = c;
}

static void
chardev_unlink(struct dm_chardev *c)
{
    struct dm_chardev **pp = &chardev_list;

    while (*pp && *pp != c) {
        pp = &(*pp)->next;
    }
    if (*pp) {
        *pp = c->next;
    }
    c->next = NULL;
}

static const struct dm_chardev_cfg *
chardev_cfg_find(const struct dm_config *cfg, const char *id)
{
    unsigned int i;

    for (i = 0; cfg && i < cfg->nr_chardevs && i < DM_MAX_CHARDEVS; i++) {
        if (cfg->chardevs[i].id && !strcmp(cfg->chardevs[i].id, id)) {
            return &cfg->chardevs[i];
        }
    }
    return NULL;
}

static struct dm_chardev *
chardev_new_ref(struct dm *dm, const struct dm_config *cfg, const char *id,
                char *err, size_t errlen)
{
    const struct dm_chardev_cfg *cc = chardev_cfg_find(cfg, id);

    if (!cc) {
        g_snprintf(err, errlen, "-serial chardev:%s: no -chardev with id=%s",
                   id, id);
        return NULL;
    }
    return dm_chardev_new_cfg(dm, cc, err, errlen);
}

static const struct chardev_spec *
chardev_spec_find(const char *spec)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(chardev_specs); i++) {
        const struct chardev_spec *s = &chardev_specs[i];

        if (s->exact ? !strcmp(spec, s->prefix)
                     : !strncmp(spec, s->prefix, strlen(s->prefix))) {
            return s;
        }
    }
    return NULL;
}

struct dm_chardev *
dm_chardev_new_spec(struct dm *dm, const struct dm_config *cfg,
                    const char *spec, const char *label, char *err,
                    size_t errlen)
{
    const struct chardev_spec *s = chardev_spec_find(spec);
    struct dm_chardev *c;
    char why[256] = "";

    if (!strncmp(spec, "chardev:", 8)) {
        return chardev_new_ref(dm, cfg, spec + 8, err, errlen);
    }
    if (!s) {
        g_snprintf(err, errlen, "-serial %s: unknown backend; use pty, null, "
                   "none, stdio, file:PATH, unix:PATH[,server][,nowait] or "
                   "chardev:ID", spec);
        return NULL;
    }
    c = chardev_alloc(dm, label);
    if (s->open(c, spec + strlen(s->prefix), why, sizeof(why)) < 0) {
        g_snprintf(err, errlen, "-serial %s: %s", spec, why);
        dm_chardev_free(c);
        return NULL;
    }
    chardev_link(c);
    return c;
}

static int
chardev_cfg_open(struct dm_chardev *c, const struct dm_chardev_cfg *cc,
                 char *err, size_t errlen)
{
    const char *b = cc->backend ? cc->backend : "";

    if (!strcmp(b, "socket")) {
        struct chardev_sock_opts o = { .path = cc->path, .fd = cc->fd,
                                       .server = cc->server,
                                       .wait = cc->wait };

        return chardev_open_socket(c, &o, err, errlen);
    } else if (!strcmp(b, "pty")) {
        return chardev_open_pty(c, err, errlen);
    } else if (!strcmp(b, "file")) {
        return chardev_open_file(c, cc->path, err, errlen);
    } else if (!strcmp(b, "stdio")) {
        return chardev_open_stdio(c, err, errlen);
    } else if (!strcmp(b, "null")) {
        return chardev_open_null(c, err, errlen);
    }
    g_snprintf(err, errlen, "unsupported backend '%s'; use socket, pty, "
               "file, stdio or null", b);
    return -EINVAL;
}

struct dm_chardev *
dm_chardev_new_cfg(struct dm *dm, const struct dm_chardev_cfg *cc, char *err,
                   size_t errlen)
{
    const char *id = cc->id ? cc->id : "";
    struct dm_chardev *c;
    char why[256] = "";

    if (dm_chardev_find(dm, id)) {
        g_snprintf(err, errlen, "-chardev id=%s is already in use; give each "
                   "user its own -chardev", id);
        return NULL;
    }
    c = chardev_alloc(dm, id);
    if (chardev_cfg_open(c, cc, why, sizeof(why)) < 0) {
        g_snprintf(err, errlen, "-chardev id=%s: %s", id, why);
        dm_chardev_free(c);
        return NULL;
    }
    chardev_link(c);
    return c;
}

static void
chardev_close_fds(struct dm_chardev *c)
{
    if (c->type == CHR_STDIO) {
        if (c->tty_saved) {
            tcsetattr(0, TCSANOW, &c->saved_tio);
        }
        fcntl(0, F_SETFL, c->saved_fl[0]);
        fcntl(1, F_SETFL, c->saved_fl[1]);
        return;
    }
    if (c->out_fd >= 0 && c->out_fd != c->pty_fd) {
        close(c->out_fd);
    }
    if (c->pty_fd >= 0) {
        close(c->pty_fd);
    }
    if (c->listen_fd >= 0) {
        close(c->listen_fd);
    }
    if (c->unlink_path) {
        unlink(c->path);
    }
}

void
dm_chardev_free(struct dm_chardev *c)
{
    if (!c) {
        return;
    }
    c->fe = NULL;           /* no callbacks into a frontend going away */
    c->fe_blocked = false;
    if (c->olen > 0 && c->out_fd >= 0) {
        chardev_flush(c);   /* best effort, never blocks */
    }
    chardev_unlink(c);
    chardev_input_off(c);
    chardev_unwatch(&c->out_watch);
    chardev_unwatch(&c->hup_watch);
    chardev_unwatch(&c->listen_watch);
    dm_timer_del(&c->timer);
    chardev_close_fds(c);
    g_free(c->label);
    g_free(c->filename);
    g_free(c->path);
    g_free(c);
}

/* --- frontend side ---------------------------------------------------- */

void
dm_chardev_attach(struct dm_chardev *c, const struct dm_chardev_fe_ops *ops,
                  void *opaque)
{
    c->fe = ops;
    c->fe_opaque = opaque;
    dm_chardev_accept_input(c);
}

void
dm_chardev_detach(struct dm_chardev *c)
{
    chardev_input_pause(c);
    c->fe = NULL;
    c->fe_opaque = NULL;
    c->fe_blocked = false;
}

void
dm_chardev_accept_input(struct dm_chardev *c)
{
    if (!c->in_paused) {
        return;
    }
    c->in_paused = false;
    chardev_input_on(c);
}

bool
dm_chardev_connected(const struct dm_chardev *c)
{
    return c->out_fd >= 0 && !c->peer_gone;
}

struct dm_chardev *
dm_chardev_next(const struct dm *dm, const struct dm_chardev *prev)
{
    struct dm_chardev *c = prev ? prev->next : chardev_list;

    while (c && c->dm != dm) {
        c = c->next;
    }
    return c;
}

struct dm_chardev *
dm_chardev_find(const struct dm *dm, const char *label)
{
    struct dm_chardev *c;

    for (c = dm_chardev_next(dm, NULL); c; c = dm_chardev_next(dm, c)) {
        if (!strcmp(c->label, label)) {
            return c;
        }
    }
    return NULL;
}

const char *
dm_chardev_label(const struct dm_chardev *c)
{
    return c->label;
}

const char *
dm_chardev_filename(const struct dm_chardev *c)
{
    return c->filename;
}

bool
dm_chardev_frontend_open(const struct dm_chardev *c)
{
    return c->fe != NULL;
}
