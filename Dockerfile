# syntax=docker/dockerfile:1
# simgate's container image: `docker build -t simgate .`, then
#   docker run -p 8080:8080 -v simgate-data:/var/lib/simgate/data simgate
# Base images are pinned to exact versions (override with --build-arg; pin a digest for releases).
ARG RUST_IMAGE=rust:1.95.0-slim-bookworm
ARG RUNTIME_IMAGE=debian:12.12-slim

# cargo-chef: the dependencies are built in a layer of their own, rebuilt only when Cargo.toml or
# Cargo.lock change, so that a change to simgate's code rebuilds simgate alone.
FROM ${RUST_IMAGE} AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS build
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY migrations ./migrations
COPY config ./config
# Named in GET /version and the start banner: --build-arg SIMGATE_GIT_SHA=$(git rev-parse HEAD)
# (the build context has no .git) and --build-arg SIMGATE_BUILD_DATE=$(date -u +%F).
ARG SIMGATE_GIT_SHA=
ARG SIMGATE_BUILD_DATE=
RUN cargo build --release --locked

# Run: a slim image, a non-root user (uid and gid 10001), data in a volume only it can read.
FROM ${RUNTIME_IMAGE}
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/simgate simgate \
    && mkdir -p /var/lib/simgate/data /etc/simgate \
    && chown -R simgate:simgate /var/lib/simgate \
    && chmod 0700 /var/lib/simgate/data
COPY --from=build /src/target/release/simgate /usr/local/bin/simgate
# The container's own defaults: listen on every interface (a bare SIMGATE_LISTEN port keeps it).
COPY config/container.toml /etc/simgate/simgate.toml
USER simgate:simgate
WORKDIR /var/lib/simgate
# SQLite by default (./data/simgate.db in the volume); set SIMGATE_DATABASE_URL=postgres://... for
# Postgres. A bind mount instead of the volume must be writable by uid 10001 (README, "Docker").
ENV SIMGATE_CONFIG=/etc/simgate/simgate.toml \
    SIMGATE_LOG_FORMAT=json
VOLUME ["/var/lib/simgate/data"]
EXPOSE 8080
# Readiness, not liveness: healthy means the database answers too.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["simgate", "healthcheck", "--ready"]
ENTRYPOINT ["simgate"]
CMD ["serve"]
