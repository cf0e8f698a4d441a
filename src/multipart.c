/* multipart: a bounded table of pending long-SMS groups; see the header for
 * the joining rules. Pure. */
#include "sms-sentinel/multipart.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct part {
    unsigned index;
    int64_t stamp;
    char *text;
    size_t len;
    char name[INBOX_NAME_MAX + 1];
};

struct group {
    bool used;
    bool evicted;
    unsigned total;           /* 0 = unknown */
    int64_t created_ms, last_ms;
    struct inbox_name first;  /* the lowest part so far */
    struct part *parts;       /* sorted by index, max_parts slots */
    unsigned nparts;
    size_t text_bytes;
};

struct multipart {
    struct multipart_config cfg;
    struct group *groups;
};

void multipart_config_default(struct multipart_config *cfg)
{
    *cfg = (struct multipart_config){
        .max_groups = 32,
        .max_parts = 50,
        .max_text = 64 * 1024,
        .settle_ms = 2000,
        .incomplete_ms = 30000,
        .window_s = 600,
    };
}

struct multipart *multipart_new(const struct multipart_config *cfg)
{
    if (cfg->max_groups == 0 || cfg->max_parts == 0)
        return NULL;
    struct multipart *mp = calloc(1, sizeof(*mp));
    if (!mp)
        return NULL;
    mp->cfg = *cfg;
    mp->groups = calloc(cfg->max_groups, sizeof(*mp->groups));
    if (!mp->groups) {
        free(mp);
        return NULL;
    }
    return mp;
}

static void group_clear(struct group *g)
{
    for (unsigned i = 0; i < g->nparts; i++)
        free(g->parts[i].text);
    free(g->parts);
    memset(g, 0, sizeof(*g));
}

void multipart_free(struct multipart *mp)
{
    if (!mp)
        return;
    for (unsigned i = 0; i < mp->cfg.max_groups; i++)
        group_clear(&mp->groups[i]);
    free(mp->groups);
    free(mp);
}

static bool has_index(const struct group *g, unsigned index)
{
    for (unsigned i = 0; i < g->nparts; i++) {
        if (g->parts[i].index == index)
            return true;
    }
    return false;
}

static bool has_name(const struct group *g, const char *name)
{
    for (unsigned i = 0; i < g->nparts; i++) {
        if (strcmp(g->parts[i].name, name) == 0)
            return true;
    }
    return false;
}

/* SMSC time of part 0, or the earliest part's while part 0 is missing. */
static int64_t anchor(const struct group *g)
{
    int64_t a = g->parts[0].stamp;
    for (unsigned i = 1; i < g->nparts; i++) {
        if (g->parts[i].stamp < a)
            a = g->parts[i].stamp;
    }
    return g->parts[0].index == 0 ? g->parts[0].stamp : a;
}

static bool fits(const struct multipart *mp, const struct group *g, const struct inbox_name *n)
{
    if (!g->used || !inbox_name_same_sender(&g->first, n) || has_index(g, n->part))
        return false;
    if (g->total && n->part >= g->total)
        return false;
    int64_t a = anchor(g), w = mp->cfg.window_s;
    bool have0 = g->parts[0].index == 0;
    if (n->part == 0)
        return a >= n->stamp && a - n->stamp <= w;
    if (have0)
        return n->stamp >= a && n->stamp - a <= w;
    return n->stamp - a <= w && a - n->stamp <= w;
}

/* The earliest (by anchor, then by arrival) pending group n may join. */
static struct group *find_group(struct multipart *mp, const struct inbox_name *n)
{
    struct group *best = NULL;
    for (unsigned i = 0; i < mp->cfg.max_groups; i++) {
        struct group *g = &mp->groups[i];
        if (!fits(mp, g, n))
            continue;
        if (!best || anchor(g) < anchor(best) ||
            (anchor(g) == anchor(best) && g->created_ms < best->created_ms))
            best = g;
    }
    return best;
}

static int64_t group_due(const struct multipart *mp, const struct group *g);

/* A free group, or NULL when the table is full. Then a group that is due now
 * (a finished message) is what the caller polls to make room; only when none
 * is due is the oldest evicted, so a backlog of short messages never splits a
 * long one that is still waiting for its parts. */
static struct group *new_group(struct multipart *mp, int64_t now_ms)
{
    struct group *oldest = NULL;
    bool any_due = false;
    for (unsigned i = 0; i < mp->cfg.max_groups; i++) {
        struct group *g = &mp->groups[i];
        if (!g->used) {
            g->parts = calloc(mp->cfg.max_parts, sizeof(*g->parts));
            if (!g->parts)
                return NULL;
            g->used = true;
            g->created_ms = now_ms;
            return g;
        }
        if (!oldest || g->created_ms < oldest->created_ms)
            oldest = g;
        any_due = any_due || group_due(mp, g) <= now_ms;
    }
    if (!any_due)
        oldest->evicted = true;
    return NULL;
}

static void insert_part(struct group *g, const struct inbox_name *n, char *text, size_t len)
{
    unsigned at = 0;
    while (at < g->nparts && g->parts[at].index < n->part)
        at++;
    memmove(&g->parts[at + 1], &g->parts[at], (g->nparts - at) * sizeof(g->parts[0]));
    struct part *p = &g->parts[at];
    p->index = n->part;
    p->stamp = n->stamp;
    p->text = text;
    p->len = len;
    memcpy(p->name, n->name, sizeof(p->name));
    g->nparts++;
    g->text_bytes += len;
    if (at == 0)
        g->first = *n;
}

static bool any_has_name(const struct multipart *mp, const char *name)
{
    for (unsigned i = 0; i < mp->cfg.max_groups; i++) {
        if (mp->groups[i].used && has_name(&mp->groups[i], name))
            return true;
    }
    return false;
}

enum multipart_add_result multipart_add(struct multipart *mp, const struct inbox_name *name,
                                        const char *text, size_t len, unsigned total,
                                        int64_t now_ms)
{
    if (any_has_name(mp, name->name))
        return MULTIPART_DUPLICATE;
    if (name->part >= mp->cfg.max_parts || len > mp->cfg.max_text)
        return MULTIPART_REJECTED;
    struct group *g = find_group(mp, name);
    if (g && (g->nparts >= mp->cfg.max_parts || g->text_bytes + len > mp->cfg.max_text))
        return MULTIPART_REJECTED;
    bool fresh = !g;
    if (fresh) {
        bool was_full = true;
        for (unsigned i = 0; i < mp->cfg.max_groups; i++)
            was_full = was_full && mp->groups[i].used;
        g = new_group(mp, now_ms);
        if (!g)
            return was_full ? MULTIPART_FULL : MULTIPART_NO_MEMORY;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        if (fresh)
            group_clear(g);
        return MULTIPART_NO_MEMORY;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    insert_part(g, name, copy, len);
    if (total && (!g->total || total > g->total))
        g->total = total;
    g->last_ms = now_ms;
    return MULTIPART_ADDED;
}

static bool gap_free(const struct group *g)
{
    for (unsigned i = 0; i < g->nparts; i++) {
        if (g->parts[i].index != i)
            return false;
    }
    return true;
}

static enum multipart_end group_end(const struct group *g)
{
    if (g->evicted)
        return MULTIPART_EVICTED;
    if (g->total && g->nparts == g->total && gap_free(g))
        return MULTIPART_COMPLETE;
    return gap_free(g) ? MULTIPART_SETTLED : MULTIPART_INCOMPLETE;
}

static int64_t group_due(const struct multipart *mp, const struct group *g)
{
    switch (group_end(g)) {
    case MULTIPART_EVICTED: return INT64_MIN;
    case MULTIPART_COMPLETE: return g->last_ms;
    case MULTIPART_SETTLED: return g->last_ms + mp->cfg.settle_ms;
    case MULTIPART_INCOMPLETE: return g->last_ms + mp->cfg.incomplete_ms;
    }
    return g->last_ms;
}

static struct group *earliest_due(const struct multipart *mp, int64_t *due)
{
    struct group *best = NULL;
    for (unsigned i = 0; i < mp->cfg.max_groups; i++) {
        struct group *g = &mp->groups[i];
        if (!g->used)
            continue;
        int64_t d = group_due(mp, g);
        if (!best || d < *due) {
            best = g;
            *due = d;
        }
    }
    return best;
}

static int take(struct group *g, struct multipart_message *out)
{
    memset(out, 0, sizeof(*out));
    out->text = malloc(g->text_bytes + 1);
    out->files = malloc(g->nparts * sizeof(out->files[0]));
    if (!out->text || !out->files) {
        multipart_message_free(out);
        return -1;
    }
    size_t off = 0;
    for (unsigned i = 0; i < g->nparts; i++) {
        memcpy(out->text + off, g->parts[i].text, g->parts[i].len);
        off += g->parts[i].len;
        memcpy(out->files[i], g->parts[i].name, sizeof(out->files[i]));
    }
    out->text[off] = '\0';
    out->text_len = off;
    out->parts = g->nparts;
    out->first = g->first;
    out->end = group_end(g);
    group_clear(g);
    return 1;
}

int multipart_poll(struct multipart *mp, int64_t now_ms, struct multipart_message *out)
{
    int64_t due = 0;
    struct group *g = earliest_due(mp, &due);
    if (!g || due > now_ms)
        return 0;
    return take(g, out);
}

void multipart_message_free(struct multipart_message *msg)
{
    free(msg->text);
    free(msg->files);
    msg->text = NULL;
    msg->files = NULL;
    msg->text_len = 0;
    msg->parts = 0;
}

int64_t multipart_next_deadline(const struct multipart *mp)
{
    int64_t due = 0;
    if (!earliest_due(mp, &due))
        return -1;
    return due < 0 ? 0 : due;
}

unsigned multipart_pending(const struct multipart *mp)
{
    unsigned n = 0;
    for (unsigned i = 0; i < mp->cfg.max_groups; i++)
        n += mp->groups[i].used;
    return n;
}

const char *multipart_add_result_str(enum multipart_add_result r)
{
    switch (r) {
    case MULTIPART_ADDED: return "added";
    case MULTIPART_DUPLICATE: return "duplicate";
    case MULTIPART_FULL: return "full";
    case MULTIPART_REJECTED: return "rejected";
    case MULTIPART_NO_MEMORY: return "out of memory";
    }
    return "unknown";
}

const char *multipart_end_str(enum multipart_end e)
{
    switch (e) {
    case MULTIPART_COMPLETE: return "complete";
    case MULTIPART_SETTLED: return "settled";
    case MULTIPART_INCOMPLETE: return "incomplete";
    case MULTIPART_EVICTED: return "evicted";
    }
    return "unknown";
}
