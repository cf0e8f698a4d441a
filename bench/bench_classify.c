/* bench_classify: classifier throughput. Maps a log file, runs
 * smsd_line_classify on every line and counts the lines with a gammu error,
 * as `grep -cE` counts them. Prints "lines errors seconds". */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sms-sentinel/smsd_line.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_classify LOGFILE\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0) {
        perror(argv[1]);
        return 1;
    }
    const char *data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (data == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    double t0 = now_s();
    size_t lines = 0, errors = 0, left = (size_t)st.st_size;
    const char *p = data;
    while (left > 0) {
        const char *nl = memchr(p, '\n', left);
        size_t len = nl ? (size_t)(nl - p) : left;
        struct smsd_line l;
        smsd_line_classify(p, len, &l);
        errors += smsd_line_has_error(&l);
        lines++;
        size_t step = nl ? len + 1 : len;
        p += step;
        left -= step;
    }
    double t = now_s() - t0;
    printf("%zu %zu %.6f\n", lines, errors, t);
    munmap((void *)data, (size_t)st.st_size);
    close(fd);
    return 0;
}
