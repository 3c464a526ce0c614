# One image for the four services and the worker: docker-compose.yml chooses the process with `command`
# (`node --import tsx services/<name>/main.ts`, or the default below, the worker).
#
# Why `node --import tsx FILE` and not `npx tsx FILE` (what the README uses on a workstation): it is the same tsx
# TypeScript loader in a single process, which receives `docker stop`'s SIGTERM itself and shuts down cleanly (the
# worker finishes the tasks in hand, a service closes its connections). Under npx the process chain is
# npm -> sh -> tsx -> node, and npm exits on SIGTERM without passing it on: the container stops mid-task.
# Node 26, the Active LTS line since October 2026 (maintained until 2029-04-30; Node 24 is in maintenance, Node 20
# reached end of life on 2026-04-30), on Debian 13 (trixie). Every dependency allows it (Temporal's SDK >= 20.3.0, its
# native core-bridge is N-API, so one prebuilt binary serves every Node major; Prisma 7 >= 24.0; npm 11), and the saga
# tests pass on it.
ARG NODE_IMAGE=node:26-trixie-slim

# --- dependencies: installed exactly as the lock file says, Prisma clients generated -----------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# package.json's `allowScripts` (which dependencies may run install scripts) is an npm 11 feature, and the lock file
# is npm 11's. The npm is pinned rather than taken from the base image: an older npm would ignore allowScripts and run
# every dependency's install scripts (@prisma/engines' would try to download engines the project does not use).
ARG NPM_VERSION=11.19.1
RUN npm install --global --no-audit --no-fund npm@${NPM_VERSION}
# Only what `npm ci` reads, so that this layer is rebuilt only when dependencies change: the manifest, the lock file,
# and what the postinstall (`tsx scripts/prisma-generate.ts`: the four Prisma clients) needs.
COPY package.json package-lock.json ./
COPY scripts/prisma-generate.ts scripts/
COPY services/catalog.ts services/
COPY prisma/ prisma/
# The saga kit, an npm workspace package the postinstall builds (tsc to packages/saga-kit/dist).
COPY packages/saga-kit/ packages/saga-kit/
# Full install first (the postinstall runs the Prisma CLI, a dev dependency), then drop the dev dependencies.
RUN npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund

# --- runtime ------------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
# The generated Prisma clients (prisma/*/generated, excluded from the build context by .dockerignore).
COPY --from=deps /app/prisma ./prisma
# The saga kit's build (packages/*/dist, excluded from the build context like every build output).
COPY --from=deps /app/packages/saga-kit/dist ./packages/saga-kit/dist
# The code stays owned by root and read-only to the process: it runs as the image's unprivileged `node` user.
USER node
EXPOSE 4101 4102 4103 4104
CMD ["node", "--import", "tsx", "worker.ts"]
