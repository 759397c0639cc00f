# syntax=docker/dockerfile:1
#
# Nexus in the official nginx image.
#
#   docker build -t nexus .
#   docker build --build-arg NGINX_SRC_SHA256=<sha256 of the tarball> -t nexus .
#   docker compose up --build           (see docker-compose.yml)
#
# Stage 1 compiles ngx_http_nexus_module against the source of exactly the
# nginx version the base image runs (the official image sets NGINX_VERSION),
# with --with-compat: nginx.org builds its binaries with it, so a module built
# this way against the same version loads into them. Stage 2 is the same base
# image plus the module, its runtime libraries and conf/docker/nginx.conf.

# Both stages must use the same image. The 1.26 branch gets no new releases,
# so this tag always carries the same nginx version, but Docker Hub rebuilds
# it for Debian updates: pin a digest (nginx:1.26-bookworm@sha256:...) for
# byte-identical builds.
ARG NGINX_IMAGE=nginx:1.26-bookworm


FROM ${NGINX_IMAGE} AS build

# The SHA-256 of nginx-${NGINX_VERSION}.tar.gz. nginx.org publishes PGP
# signatures (.asc next to the tarball), not checksums: verify the tarball
# once against its signature, then pin the sum here or pass it with
# --build-arg. Left empty, the download is protected by HTTPS only and the
# build prints a warning. (Deliberately no value here: never guess one.)
ARG NGINX_SRC_SHA256=

RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends \
        ca-certificates curl gcc make libc6-dev \
        libpcre2-dev zlib1g-dev libssl-dev \
        libpq-dev libhiredis-dev libjansson-dev; \
    rm -rf /var/lib/apt/lists/*

WORKDIR /usr/src

RUN set -eux; \
    tarball="nginx-${NGINX_VERSION}.tar.gz"; \
    curl -fsSL -o "$tarball" "https://nginx.org/download/$tarball"; \
    if [ -n "$NGINX_SRC_SHA256" ]; then \
        echo "$NGINX_SRC_SHA256  $tarball" | sha256sum -c -; \
    else \
        echo "WARNING: $tarball is not checksum-verified; set NGINX_SRC_SHA256" >&2; \
    fi; \
    tar -xzf "$tarball"; \
    mv "nginx-${NGINX_VERSION}" nginx

# only what the module build reads
COPY config /usr/src/nexus/config
COPY src /usr/src/nexus/src

RUN set -eux; \
    cd nginx; \
    ./configure --with-compat --add-dynamic-module=/usr/src/nexus; \
    make -j"$(nproc)" modules; \
    install -m 0644 objs/ngx_http_nexus_module.so /usr/src/ngx_http_nexus_module.so


FROM ${NGINX_IMAGE}

# libpq5 (PostgreSQL 15 client library), hiredis 0.14 and jansson; OpenSSL
# is already there for nginx itself.
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends libpq5 libhiredis0.14 libjansson4; \
    rm -rf /var/lib/apt/lists/* /etc/nginx/conf.d/default.conf

COPY --from=build /usr/src/ngx_http_nexus_module.so /usr/lib/nginx/modules/
COPY conf/docker/nginx.conf /etc/nginx/nginx.conf

# Fail the build, not the deployment, if the module does not load into this
# nginx (wrong version, missing library). The full configuration cannot be
# tested here: it reads the password secret and resolves the Redis host.
RUN set -eux; \
    printf 'load_module modules/ngx_http_nexus_module.so;\nevents {}\n' >/tmp/load.conf; \
    nginx -t -q -c /tmp/load.conf; \
    rm /tmp/load.conf

EXPOSE 8080

# Graceful stop: nginx finishes the requests in flight. The base image's
# entrypoint and CMD ["nginx", "-g", "daemon off;"] are kept.
STOPSIGNAL SIGQUIT
