/* bench_mqtt: the MQTT ends of the benchmarks, on plain libmosquitto.
 *   bench_mqtt sub HOST PORT TOPIC        prints "<unix ns> <payload>" per message
 *                                         (after "READY" once subscribed)
 *   bench_mqtt pub HOST PORT TOPIC N GAP_US
 *                                         publishes N messages at QoS 1, each
 *                                         "<i> <unix ns at publish>", waiting for
 *                                         its PUBACK, then GAP_US microseconds
 *   bench_mqtt idle HOST PORT KEEPALIVE   a bare connected client doing nothing */
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long unix_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static const char *sub_topic;
static int acked;

static void on_connect(struct mosquitto *m, void *obj, int rc)
{
    if (rc != 0) {
        fprintf(stderr, "connect: %d\n", rc);
        exit(1);
    }
    if (sub_topic)
        mosquitto_subscribe(m, NULL, sub_topic, 1);
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *q)
{
    printf("READY\n");
    fflush(stdout);
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
    long long t = unix_ns();
    printf("%lld %.*s\n", t, msg->payloadlen, (const char *)msg->payload);
    fflush(stdout);
}

static void on_publish(struct mosquitto *m, void *obj, int mid) { acked = mid; }

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: bench_mqtt sub|pub|idle HOST PORT TOPIC|KEEPALIVE [N GAP_US]\n");
        return 2;
    }
    const char *mode = argv[1], *host = argv[2];
    int port = atoi(argv[3]);
    int keepalive = strcmp(mode, "idle") == 0 ? atoi(argv[4]) : 60;
    mosquitto_lib_init();
    struct mosquitto *m = mosquitto_new(NULL, true, NULL);
    if (!m)
        return 1;
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_subscribe_callback_set(m, on_subscribe);
    mosquitto_message_callback_set(m, on_message);
    mosquitto_publish_callback_set(m, on_publish);
    if (strcmp(mode, "sub") == 0)
        sub_topic = argv[4];
    if (mosquitto_connect(m, host, port, keepalive) != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "cannot connect to %s:%d\n", host, port);
        return 1;
    }
    if (strcmp(mode, "pub") == 0 && argc == 7) {
        int n = atoi(argv[5]);
        long gap = atol(argv[6]);
        for (int i = 0; i < n; i++) {
            char payload[64];
            int len = snprintf(payload, sizeof(payload), "%d %lld", i, unix_ns());
            int mid = 0;
            if (len < 0 || (size_t)len >= sizeof(payload) ||
                mosquitto_publish(m, &mid, argv[4], len, payload, 1, false) != MOSQ_ERR_SUCCESS)
                return 1;
            while (acked != mid)
                if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS)
                    return 1;
            usleep((useconds_t)gap);
        }
        mosquitto_disconnect(m);
        mosquitto_loop(m, 100, 1);
        return 0;
    }
    mosquitto_loop_forever(m, -1, 1);
    return 0;
}
