/* pool: when an agent belongs to the send pool, and the shared-subscription
 * filter it joins with. Pure; see pool.h. */
#include "sms-sentinel/pool.h"

#include <string.h>

#include "sms-sentinel/strbuf.h"

static bool health_can_send(enum health_state s)
{
    switch (s) {
    case HEALTH_OK:
    case HEALTH_DEGRADED:
        return true;
    case HEALTH_STARTING:
    case HEALTH_RECOVERING:
    case HEALTH_COOLDOWN:
    case HEALTH_FAILED:
        return false;
    }
    return false;
}

static bool out(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return false;
}

bool pool_member_wanted(const struct pool_facts *f, const char **why)
{
    if (!f->configured)
        return out(why, "no pool configured");
    if (!f->connected)
        return out(why, "not connected to the broker");
    if (!f->outbox_known)
        return out(why, "no outbox folder is known");
    if (!health_can_send(f->health))
        return out(why, "health is not ok or degraded");
    if (f->modem_present == TRI_NO)
        return out(why, "the modem is missing");
    if (f->smsd_running == TRI_NO)
        return out(why, "gammu-smsd is not running");
    if (why)
        *why = "healthy";
    return true;
}

int pool_share_filter(const char *name, char *buf, size_t size)
{
    if (!name || !*name || strpbrk(name, "/+#"))
        return -1;
    return format_checked(buf, size, "$share/%s/%s", name, POOL_REQUEST_TOPIC);
}
