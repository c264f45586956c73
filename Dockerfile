# syntax=docker/dockerfile:1

# --- build: compile TypeScript and copy the Lua scripts into dist/ ---
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# --- runtime: production dependencies and the compiled code only ---
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
# The daemon binds loopback by default; inside a container the published port must reach it.
ENV HTTP_HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config
USER node
EXPOSE 9464
# Node's own fetch: the slim image has no curl or wget.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 9464) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# V8 heap flags: without them V8 lets garbage from answers and event bodies pile up to ~100 MB of old space
# before collecting (retained heap under load is ~30 MB); with them peak RSS stays near 120-140 MB
# (npm run bench sections 10-11, README "Tests and benchmark").
CMD ["node", "--max-semi-space-size=4", "--max-old-space-size=128", "dist/cli/main.js", "run"]
