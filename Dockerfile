# sms-sentinel image: built and unit-tested on debian:bookworm, run on
# bookworm-slim as an unprivileged user. Mount gammu-smsd's spool and log, and
# the config at /etc/sms-sentinel.conf (see README.md, "Docker").
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
 && useradd --system --no-create-home --home-dir /var/lib/sms-sentinel --shell /usr/sbin/nologin sentinel \
 && mkdir -p /var/lib/sms-sentinel \
 && chown sentinel:sentinel /var/lib/sms-sentinel
COPY --from=build /build/sms-sentinel /usr/bin/sms-sentinel
USER sentinel
VOLUME ["/var/lib/sms-sentinel"]
ENTRYPOINT ["/usr/bin/sms-sentinel"]
CMD ["-c", "/etc/sms-sentinel.conf"]
