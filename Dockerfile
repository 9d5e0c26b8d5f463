# syntax=docker/dockerfile:1.7
# One image for api, worker and simulator; the command picks the role.
FROM node:20-bookworm-slim AS build
RUN npm i -g pnpm@10
WORKDIR /src
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json tsconfig.base.json ./
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

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /out /app
USER node
EXPOSE 3000
CMD ["node", "api/dist/main.js"]
