# sms-sentinel image: built and unit-tested on debian:bookworm, run on
# bookworm-slim as the unprivileged user sentinel (uid 990, group dialout =
# gid 20 for the modem's USB node, see contrib/90-sms-sentinel.rules).
# Volumes: /var/spool/gammu (gammu-smsd's spool: the inbox is read and
# archived, SMS are queued in the outbox), /var/log/gammu (gammu-smsd's log
# file, read-only is enough), /var/lib/sms-sentinel (state). Mount the config
# at /etc/sms-sentinel.conf and gammu-smsdrc at /etc/gammu-smsdrc. See
# README.md "Docker" and contrib/docker-compose.yml.
FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake pkg-config \
      libmosquitto-dev libusb-1.0-0-dev libjson-c-dev libinih-dev libcmocka-dev \
 && rm -rf /var/lib/apt/lists/*
COPY . /src
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && cmake --build /build -j"$(nproc)" \
 && ctest --test-dir /build -L unit --output-on-failure

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmosquitto1 libusb-1.0-0 libjson-c5 libinih1 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 990 sentinel \
 && useradd --system --uid 990 --gid 990 --groups dialout --no-create-home \
      --home-dir /var/lib/sms-sentinel --shell /usr/sbin/nologin sentinel \
 && mkdir -p /var/lib/sms-sentinel /var/spool/gammu/inbox /var/spool/gammu/outbox \
      /var/spool/gammu/sent /var/spool/gammu/error /var/log/gammu /run/gammu \
 && chown sentinel:sentinel /var/lib/sms-sentinel /var/spool/gammu/inbox /var/spool/gammu/outbox \
      /var/spool/gammu/sent /var/spool/gammu/error /var/log/gammu /run/gammu
COPY --from=build /build/sms-sentinel /usr/bin/sms-sentinel
USER sentinel
VOLUME ["/var/lib/sms-sentinel", "/var/spool/gammu", "/var/log/gammu"]
ENTRYPOINT ["/usr/bin/sms-sentinel"]
CMD ["-c", "/etc/sms-sentinel.conf"]
