/* fsutil: small filesystem helpers: atomic replace of a file (hidden temp,
 * fsync, rename, fsync of the folder), whole-file reads, mkdir -p, moves that
 * also work across mounts. */
#ifndef SMS_SENTINEL_FSUTIL_H
#define SMS_SENTINEL_FSUTIL_H

#include <stddef.h>

/* Writes data to dir/name through dir/.name.tmp; returns 0 or -errno. On failure
 * the temp file is removed and any old dir/name is left untouched. */
int fs_write_atomic(const char *dir, const char *name, const void *data, size_t len);

/* Reads a whole file (at most max bytes) into a new NUL-terminated buffer owned by
 * the caller. Returns 0 or -errno (-EFBIG when larger than max). */
int fs_read_file(const char *path, size_t max, char **out, size_t *out_len);

/* Creates dir and its parents with mode (like mkdir -p); 0 or -errno. */
int fs_mkdir_p(const char *dir, unsigned mode);

/* Moves the file from to dir/name: rename(2), or, when the two are on
 * different mounts (EXDEV: separate container volumes, or the bind mounts of
 * systemd's ReadWritePaths= even on one filesystem), an atomic copy of at most
 * max bytes then unlink of from. An existing dir/name is replaced. Returns 0 or
 * -errno (-ENOENT: from is gone); on failure from is left in place. */
int fs_move_file(const char *from, const char *dir, const char *name, size_t max);

#endif
