# syntax=docker/dockerfile:1
# The shop as a container: the release artifact (npm run build) on the official Node 24 LTS
# image, production dependencies only, as the unprivileged `node` user. Every topology runs this
# one image; only the environment differs (docs/deploying.md).

# --- build: the workspace's dev dependencies, then the release folder -------------------------
FROM node:24-slim AS build
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund
RUN npm run build
WORKDIR /src/release
RUN npm ci --omit=dev --no-audit --no-fund

# --- run: the release and its production dependencies, nothing else ----------------------------
FROM node:24-slim
ENV NODE_ENV=production \
    PORT=8080 \
    DATA_DIR=/tmp/shop
WORKDIR /app
COPY --from=build /src/release/ /app/
USER node
EXPOSE 8080
# /health answers while the process lives (readiness, /ready, is for load balancers).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself is PID 1 (no shell, no npm): SIGTERM from the runtime reaches the app, which drains.
CMD ["node", "--enable-source-maps", "dist/main.js"]
