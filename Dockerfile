# bigip-acme: the service (responder; scheduler and Slack bot when they exist) and the CLI, in one image.
#   docker build -t bigip-acme .
#   docker run -p 8080:8080 -v bigip-acme-data:/data bigip-acme              # embedded PGlite in /data
#   docker exec -it <container> ./bin/bigip-acme --help                      # CLI (forwarded to the service)
# Build stage: compile the TypeScript once (decision 0025); only dist/ is taken from here.
# Node 24 is the current LTS (Node 20, still supported by the code, is past its end of life).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:24-bookworm-slim

ENV NODE_ENV=production \
    DATA_DIR=/data \
    RESPONDER_HOST=0.0.0.0 \
    RESPONDER_PORT=8080

WORKDIR /app

# The image runs the compiled JavaScript, so dev dependencies (the compiler) are left out; scripts are skipped
# because `prepare` builds, which the build stage did.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# Sources stay owned by root: the service can read but not change its own code.
COPY . .
COPY --from=build /app/dist ./dist

# Embedded mode keeps the database, master.key and cli.sock here; the directory must be owner-only.
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data
VOLUME ["/data"]

USER node
EXPOSE 8080

# Readiness of the responder (roles without a responder, e.g. "serve --role worker", need another check).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.RESPONDER_PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"

CMD ["node", "dist/cli/main.js", "serve"]
