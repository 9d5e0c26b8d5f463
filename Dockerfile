# syntax=docker/dockerfile:1.7
# One image for api, worker and simulator; the command picks the role. Built on the current Node
# LTS (the code also runs on Node 20, which CI uses; the AWS SDK's 2027 releases need Node 22+).
FROM node:26-slim AS build
RUN npm i -g pnpm@10
WORKDIR /src
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json tsconfig.base.json ./
# pnpm applies these while installing (a test-only dependency's fix), so they come first.
COPY patches patches/
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY packages/shared/package.json packages/shared/
COPY packages/foxapi-sim/package.json packages/foxapi-sim/
RUN pnpm install --frozen-lockfile
COPY . .
# Only what the image runs (and what it depends on): the CLI is not part of it.
RUN pnpm --filter '@batchscribe/api...' --filter '@batchscribe/worker...' --filter '@batchscribe/foxapi-sim...' build \
 && pnpm deploy --filter @batchscribe/api --prod --legacy /out/api \
 && pnpm deploy --filter @batchscribe/worker --prod --legacy /out/worker \
 && pnpm deploy --filter @batchscribe/foxapi-sim --prod --legacy /out/foxapi-sim

FROM node:26-slim
ENV NODE_ENV=production
# The fs blob store: mount one volume here in the api and every worker (docker-compose.yml does).
ENV DATA_DIR=/data/blobs
WORKDIR /app
COPY --from=build --chown=node:node /out /app
RUN mkdir -p /data/blobs && chown node:node /data/blobs
USER node
EXPOSE 3000
CMD ["node", "api/dist/main.js"]
