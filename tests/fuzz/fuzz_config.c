/* libFuzzer target: loading any bytes as sms-sentinel.conf must not crash or
 * leak, must explain every refusal with at least one "FILE:LINE: message" whose
 * line exists, and what it accepts must print as a config that loads again. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sms-sentinel/config.h"
#include "sms-sentinel/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_level(LOG_LEVEL_ERROR);
    return 0;
}

static int count_lines(const char *text, size_t len)
{
    int lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    return lines;
}

static void check_errors(const struct config_errors *errs, int max_line)
{
    if (errs->count <= 0)
        abort(); /* refused without saying why */
    for (int i = 0; i < errs->count; i++)
        if (errs->items[i].line < 0 || errs->items[i].line > max_line || !errs->items[i].message[0])
            abort();
}

/* Printing and loading again must give the same printout, unless a printed
 * line is longer than the parser takes. */
static void check_round_trip(const struct config *cfg)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f)
        return;
    config_print(cfg, f);
    fclose(f);
    struct config_errors errs = {0};
    struct config *again = config_load_string(out, len, "printed.conf", "fuzzhost", &errs);
    bool long_line = errs.count > 0 && strstr(errs.items[0].message, "line too long");
    if (!again && !long_line)
        abort();
    config_errors_clear(&errs);
    config_free(again);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    /* [smsd] config names a file to read; only regular files are read, but some
     * under /proc and /sys block or take long. */
    if (memmem(text, size, "/proc", 5) || memmem(text, size, "/sys/", 5))
        return 0;
    char *copy = malloc(size ? size : 1); /* no terminator: ASan sees over-reads */
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    struct config_errors errs = {0};
    struct config *cfg = config_load_string(copy, size, "fuzz.conf", "fuzzhost", &errs);
    if (!cfg)
        check_errors(&errs, count_lines(copy, size));
    else if (errs.count != 0)
        abort(); /* accepted, yet complained */
    if (cfg)
        check_round_trip(cfg);
    config_errors_clear(&errs);
    config_free(cfg);
    free(copy);
    return 0;
}
