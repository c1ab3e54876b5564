# syntax=docker/dockerfile:1
# The patchwright service (`patchwright serve`) with the package managers its fix PRs re-lock
# with: npm and yarn 1 (package-lock.json, yarn.lock), cargo (Cargo.lock), go (go.mod + go.sum),
# Poetry (poetry.lock) and pipenv (Pipfile.lock). Hashed requirements need no program. See
# README "Run in a container".
#
#   docker build -t patchwright .
#
# Base images are pinned by tag, not digest: `patchwright scan Dockerfile` says so (info), and
# tests/dogfood.rs checks this file scans with nothing above info.

FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin patchwright \
    && install -D target/release/patchwright /out/patchwright

# Debian's golang-go (1.19) is too old for `toolchain` lines in go.mod: the Go project's own.
FROM golang:1-bookworm AS go

# Node.js LTS with a current npm (Debian's npm 9 writes older lockfiles).
FROM node:22-bookworm-slim AS node

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates git python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*

COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
    && npm install --global --ignore-scripts --no-audit --no-fund yarn@1 \
    && npm cache clean --force

COPY --from=go /usr/local/go /usr/local/go

# cargo is a rustup proxy: the toolchain comes with it (cargo reads rustc's version to resolve).
ENV RUSTUP_HOME=/usr/local/rustup
COPY --from=builder /usr/local/rustup /usr/local/rustup
COPY --from=builder /usr/local/cargo/bin/cargo /usr/local/cargo/bin/rustup /usr/local/cargo/bin/rustc /usr/local/cargo/bin/

RUN python3 -m venv /opt/poetry \
    && /opt/poetry/bin/pip install --no-cache-dir --disable-pip-version-check 'poetry>=2,<3' \
    && ln -s /opt/poetry/bin/poetry /usr/local/bin/poetry

# pipenv in a venv of its own (it wants a newer setuptools than Poetry's venv holds).
RUN python3 -m venv /opt/pipenv \
    && /opt/pipenv/bin/pip install --no-cache-dir --disable-pip-version-check 'pipenv>=2024.1' \
    && ln -s /opt/pipenv/bin/pipenv /usr/local/bin/pipenv

COPY --from=builder /out/patchwright /usr/local/bin/patchwright

ENV PATH=/usr/local/cargo/bin:/usr/local/go/bin:$PATH \
    PATCHWRIGHT_LISTEN=0.0.0.0:3000 \
    PATCHWRIGHT_LOG_FORMAT=json

# Re-locks run the package managers on untrusted repositories' manifests (install scripts off,
# but still): never as root.
RUN useradd --system --create-home --home-dir /var/lib/patchwright --uid 10001 patchwright
USER patchwright
WORKDIR /var/lib/patchwright
EXPOSE 3000
ENTRYPOINT ["patchwright"]
CMD ["serve"]
