# syntax=docker/dockerfile:1
# AI Ops Studio: one image for every role (`aiops start --role api|worker|all`). See README "Production".
# The server runs its TypeScript sources through tsx (no compile step); the studio is built here.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: every dependency, the studio (apps/web/dist), then only the runtime dependencies ---------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps/cli/package.json apps/cli/
COPY apps/server/package.json apps/server/
COPY apps/web/package.json apps/web/
COPY packages/config/package.json packages/config/
COPY packages/contracts/package.json packages/contracts/
COPY packages/core/package.json packages/core/
COPY packages/db/package.json packages/db/
COPY packages/engine/package.json packages/engine/
COPY packages/providers/package.json packages/providers/
COPY packages/sdk/package.json packages/sdk/
COPY packages/testing/package.json packages/testing/
RUN npm ci --no-audit --no-fund
COPY . .
# The studio is static files served by the API; vite and the other build tools go after it (prune).
RUN npm run build -w @aiops/web \
    && npm prune --omit=dev --no-audit --no-fund \
    && npm cache clean --force

# --- runtime ------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    AIOPS_DATA_DIR=/data/db \
    AIOPS_ARCHIVE_DIR=/data/archive \
    AIOPS_KEY_FILE=/data/keys
WORKDIR /app
COPY --from=build --chown=root:root /app /app
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
# /readyz: 200 when the database is reachable and migrated, 503 otherwise (see README "Production").
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# docker stop sends SIGTERM: new requests get 503, in-flight ones and running steps finish, then exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "apps/cli/bin/aiops.js"]
CMD ["start"]
