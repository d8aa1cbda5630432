# Build: the release binary with migrations and the default config compiled in.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY migrations ./migrations
COPY config ./config
RUN cargo build --release --locked

# Run: a slim image, a non-root user, data in a volume.
FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/simgate simgate \
    && mkdir -p /var/lib/simgate/data \
    && chown -R simgate:simgate /var/lib/simgate
COPY --from=build /src/target/release/simgate /usr/local/bin/simgate
USER simgate:simgate
WORKDIR /var/lib/simgate
# SQLite by default (./data/simgate.db in the volume); set SIMGATE_DATABASE_URL=postgres://... for Postgres.
ENV SIMGATE_LISTEN=0.0.0.0:8080 \
    SIMGATE_LOG_FORMAT=json
VOLUME ["/var/lib/simgate/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["simgate", "healthcheck"]
ENTRYPOINT ["simgate"]
CMD ["serve"]
