# labcheck in a container, for learners who have Docker but no Rust toolchain.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY checker ./checker
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p labcheck && cp target/release/labcheck /usr/local/bin/labcheck

FROM debian:bookworm-slim
COPY --from=build /usr/local/bin/labcheck /usr/local/bin/labcheck
COPY labs /usr/share/compose-lab/labs
ENV LABCHECK_LABS=/usr/share/compose-lab/labs
ENTRYPOINT ["labcheck"]
CMD ["list"]
