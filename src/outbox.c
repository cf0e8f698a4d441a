/* outbox: atomic writes of gammu-smsd files-backend outbox files (names,
 * ids, UTF-16LE encoding, temp + fsync + rename through a folder fd). */
#include "sms-sentinel/outbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sms-sentinel/strbuf.h"

static const char id_alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
#define ID_ALPHABET_LEN 36
/* Bytes at or above this are dropped so that each character is uniform. */
#define ID_BYTE_LIMIT (256 - 256 % ID_ALPHABET_LEN)
/* gammu-smsd 1.42 reads at most this much of an outbox file. */
#define OUTBOX_MAX_FILE_BYTES 65000

int outbox_open(struct outbox *ob, const char *path)
{
    *ob = (struct outbox){.dirfd = -1};
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ob->dirfd = fd;
    return 0;
}

void outbox_close(struct outbox *ob)
{
    if (ob->dirfd >= 0)
        close(ob->dirfd);
    ob->dirfd = -1;
}

/* The folder fd goes stale when the outbox is removed and made again (or a
 * mount is put over it): a file written through it would never be seen. */
static bool dirfd_current(int dirfd, const char *path)
{
    struct stat held, now;
    return fstat(dirfd, &held) == 0 && held.st_nlink > 0 && stat(path, &now) == 0 && held.st_dev == now.st_dev &&
           held.st_ino == now.st_ino;
}

int outbox_ensure(struct outbox *ob, const char *path)
{
    if (ob->dirfd >= 0 && dirfd_current(ob->dirfd, path))
        return 0;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    outbox_close(ob);
    ob->dirfd = fd; /* last_stamp and serial carry on: names keep their order */
    return 0;
}

/* --- ids --- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Only when getrandom has nothing yet (early boot on an old kernel). */
static void clock_bytes(unsigned char *buf, size_t n)
{
    struct timespec a, b;
    clock_gettime(CLOCK_REALTIME, &a);
    clock_gettime(CLOCK_MONOTONIC, &b);
    uint64_t x = (uint64_t)a.tv_sec * 1000000007ull ^ (uint64_t)a.tv_nsec ^ ((uint64_t)b.tv_nsec << 20) ^
                 ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)buf;
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)(splitmix64(&x) >> 56);
}

static void random_bytes(unsigned char *buf, size_t n)
{
    ssize_t got = getrandom(buf, n, GRND_NONBLOCK);
    if (got < 0 && errno == EAGAIN)
        got = getrandom(buf, n, GRND_INSECURE);
    if (got != (ssize_t)n)
        clock_bytes(buf, n);
}

void outbox_make_id(char id[OUTBOX_ID_SIZE])
{
    size_t have = 0;
    while (have < OUTBOX_ID_LEN) {
        unsigned char bytes[32];
        random_bytes(bytes, sizeof(bytes));
        for (size_t i = 0; i < sizeof(bytes) && have < OUTBOX_ID_LEN; i++)
            if (bytes[i] < ID_BYTE_LIMIT)
                id[have++] = id_alphabet[bytes[i] % ID_ALPHABET_LEN];
    }
    id[OUTBOX_ID_LEN] = '\0';
}

static bool id_valid(const char *id, size_t len)
{
    return len == OUTBOX_ID_LEN && strspn(id, id_alphabet) >= OUTBOX_ID_LEN;
}

/* --- names --- */

int outbox_name(char *buf, size_t size, time_t stamp, int serial, const char *number, const char *id, bool flash,
                bool delivery_report)
{
    char e[8];
    struct tm tm;
    char when[32];
    if (serial < 0 || serial > 99 || sms_number_check(number, strlen(number), e, sizeof(e)) < 0 ||
        !id_valid(id, strlen(id)) || !localtime_r(&stamp, &tm) ||
        strftime(when, sizeof(when), "%Y%m%d_%H%M%S", &tm) != 15)
        return -1;
    return format_checked(buf, size, "OUTC%s_%02d_%s_%s.txt%s%s", when, serial, number, id,
                          delivery_report ? "d" : "", flash ? "f" : "");
}

int outbox_name_id(const char *name, char id[OUTBOX_ID_SIZE])
{
    const char *u = strrchr(name, '_');
    if (strncmp(name, "OUTC", 4) != 0 || !u || strlen(u + 1) < OUTBOX_ID_LEN + 4 ||
        !id_valid(u + 1, OUTBOX_ID_LEN) || strncmp(u + 1 + OUTBOX_ID_LEN, ".txt", 4) != 0)
        return -1;
    const char *flags = u + 1 + OUTBOX_ID_LEN + 4;
    if (strspn(flags, "df") != strlen(flags))
        return -1;
    memcpy(id, u + 1, OUTBOX_ID_LEN);
    id[OUTBOX_ID_LEN] = '\0';
    return 0;
}

/* --- text --- */

static unsigned char *put_unit(unsigned char *p, uint32_t u)
{
    p[0] = (unsigned char)(u & 0xFF);
    p[1] = (unsigned char)(u >> 8);
    return p + 2;
}

int outbox_encode(const char *text, size_t len, unsigned char **out, size_t *out_len)
{
    /* Each UTF-8 byte gives at most one UTF-16 unit (4 bytes -> 2 units). */
    unsigned char *buf = malloc(2 + 2 * len);
    if (!buf)
        return -ENOMEM;
    unsigned char *p = put_unit(buf, 0xFEFF);
    for (size_t i = 0; i < len;) {
        uint32_t cp = 0;
        size_t n = sms_utf8_next(text + i, len - i, &cp);
        if (n == 0 || cp == 0) {
            free(buf);
            return -EINVAL;
        }
        if (cp > 0xFFFF) {
            p = put_unit(p, 0xD800 + ((cp - 0x10000) >> 10));
            p = put_unit(p, 0xDC00 + ((cp - 0x10000) & 0x3FF));
        } else {
            p = put_unit(p, cp);
        }
        i += n;
    }
    *out = buf;
    *out_len = (size_t)(p - buf);
    return 0;
}

/* --- files --- */

/* One file on its way: hidden temp name, then the name gammu looks at. */
struct staged {
    char name[OUTBOX_NAME_SIZE];
    char tmp[OUTBOX_NAME_SIZE + 8];
    bool temp_exists, visible;
};

/* Name order is queue order: a second second of serials when 100 are used. */
static void next_slot(struct outbox *ob, time_t now, time_t *stamp, int *serial)
{
    if ((int64_t)now > ob->last_stamp || (int64_t)now < ob->last_stamp - 60) {
        ob->last_stamp = (int64_t)now;
        ob->serial = 0;
    } else if (++ob->serial > 99) {
        ob->last_stamp++;
        ob->serial = 0;
    }
    *stamp = (time_t)ob->last_stamp;
    *serial = ob->serial;
}

static int write_all(int fd, const unsigned char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Creates tmp (never an existing file, never through a symlink), writes and
 * fsyncs it. 0644 before the umask: gammu-smsd may run as another user; the
 * outbox folder's own permissions guard the text. */
static int write_temp(int dirfd, const char *tmp, const unsigned char *data, size_t len)
{
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int rc = write_all(fd, data, len);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    return rc;
}

/* Rename without replacing; plain rename where the filesystem lacks
 * RENAME_NOREPLACE (the random id already makes a clash unlikely). */
static int publish(int dirfd, const char *tmp, const char *name)
{
    if (renameat2(dirfd, tmp, dirfd, name, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -errno;
    if (faccessat(dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
        return -EEXIST;
    return renameat(dirfd, tmp, dirfd, name) == 0 ? 0 : -errno;
}

static int stage_one(struct outbox *ob, const struct outbox_sms *m, time_t now, struct staged *st,
                     struct outbox_entry *e)
{
    time_t stamp;
    int serial;
    outbox_make_id(e->id);
    next_slot(ob, now, &stamp, &serial);
    if (outbox_name(st->name, sizeof(st->name), stamp, serial, m->number, e->id, m->flash, m->delivery_report) < 0 ||
        format_checked(st->tmp, sizeof(st->tmp), ".%s.tmp", st->name) < 0)
        return -EINVAL;
    memcpy(e->name, st->name, sizeof(e->name));
    unsigned char *data;
    size_t len;
    int rc = outbox_encode(m->text, m->text_len, &data, &len);
    if (rc < 0)
        return rc;
    if (len > OUTBOX_MAX_FILE_BYTES) {
        free(data);
        return -EMSGSIZE;
    }
    st->temp_exists = true;
    rc = write_temp(ob->dirfd, st->tmp, data, len);
    free(data);
    return rc;
}

/* Undoes what is left of a failed queue; returns how many files gammu-smsd
 * had already taken (so they could not be withdrawn). */
static int unstage(int dirfd, struct staged *st, int count)
{
    int taken = 0;
    for (int i = 0; i < count; i++) {
        if (st[i].temp_exists)
            unlinkat(dirfd, st[i].tmp, 0);
        if (st[i].visible && unlinkat(dirfd, st[i].name, 0) < 0)
            taken++;
    }
    fsync(dirfd);
    return taken;
}

static int fail(int rc, const char *what, const char *name, int taken, int count, char *err, size_t errsize)
{
    char buf[128];
    const char *reason = rc == -EINVAL ? "invalid number or text" : strerror_r(-rc, buf, sizeof(buf));
    if (taken > 0)
        format_checked(err, errsize, "outbox: cannot %s %s: %s (%d of %d already taken by gammu-smsd)", what,
                       name, reason, taken, count);
    else
        format_checked(err, errsize, "outbox: cannot %s %s: %s", what, name, reason);
    return rc;
}

static int publish_all(int dirfd, struct staged *st, int count, char *err, size_t errsize)
{
    for (int i = 0; i < count; i++) {
        int rc = publish(dirfd, st[i].tmp, st[i].name);
        if (rc < 0)
            return fail(rc, "rename to", st[i].name, unstage(dirfd, st, count), count, err, errsize);
        st[i].temp_exists = false;
        st[i].visible = true;
    }
    if (fsync(dirfd) < 0) {
        int rc = -errno;
        return fail(rc, "fsync", "the outbox folder", unstage(dirfd, st, count), count, err, errsize);
    }
    return 0;
}

int outbox_queue(struct outbox *ob, const struct outbox_sms *msgs, int count, time_t now,
                 struct outbox_entry *entries, char *err, size_t errsize)
{
    if (ob->dirfd < 0 || count < 1 || count > SMS_SEND_MAX_RECIPIENTS) {
        format_checked(err, errsize, "outbox: nothing to queue or outbox not open");
        return -EINVAL;
    }
    struct staged st[SMS_SEND_MAX_RECIPIENTS];
    memset(st, 0, sizeof(st));
    for (int i = 0; i < count; i++) {
        int rc = stage_one(ob, &msgs[i], now, &st[i], &entries[i]);
        if (rc < 0) {
            unstage(ob->dirfd, st, count);
            return fail(rc, "write", st[i].name[0] ? st[i].name : "a message", 0, count, err, errsize);
        }
    }
    return publish_all(ob->dirfd, st, count, err, errsize);
}

int outbox_queue_send(struct outbox *ob, const struct sms_send *req, time_t now,
                      struct outbox_entry entries[SMS_SEND_MAX_RECIPIENTS], char *err, size_t errsize)
{
    struct outbox_sms msgs[SMS_SEND_MAX_RECIPIENTS];
    for (int i = 0; i < req->count && i < SMS_SEND_MAX_RECIPIENTS; i++)
        msgs[i] = (struct outbox_sms){
            .number = req->numbers[i],
            .text = req->text,
            .text_len = req->text_len,
            .flash = req->flash,
            .delivery_report = req->delivery_report,
        };
    return outbox_queue(ob, msgs, req->count, now, entries, err, errsize);
}
