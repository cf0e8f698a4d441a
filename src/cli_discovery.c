/* cli_discovery: prints the discovery set (topic TAB payload per line). */
#include "sms-sentinel/cli_discovery.h"

#include "sms-sentinel/device_facts.h"
#include "sms-sentinel/discovery.h"

int cli_discovery_run(const struct config *cfg, FILE *out, FILE *err_out)
{
    struct discovery_device dev;
    device_facts_read(cfg, &dev);
    struct discovery_set set;
    char err[256];
    if (discovery_build(cfg, &dev, &set, err, sizeof(err)) < 0) {
        fprintf(err_out, "sms-sentinel: %s\n", err);
        return 1;
    }
    if (!cfg->discovery)
        fprintf(err_out, "sms-sentinel: discovery = no: nothing is published (earlier configs are removed)\n");
    for (int i = 0; i < set.count; i++) {
        size_t len = 0;
        const char *text = discovery_payload_text(&set.items[i], &len);
        fprintf(out, "%s\t%.*s\n", set.items[i].topic, (int)len, text);
    }
    discovery_set_clear(&set);
    return fflush(out) == 0 ? 0 : 1;
}
