// cpnet replaces @prisma/streams-local with this stub (root package.json "overrides"): the real package needs
// Node >= 22, which made `npm install` warn EBADENGINE on the Node 20 the project supports, and only `prisma dev`
// (a local Prisma Postgres server) imports it. cpnet uses SQLite and never runs `prisma dev`.
export async function startLocalDurableStreamsServer() {
  throw new Error(
    '@prisma/streams-local is stubbed out in cpnet (see vendor/prisma-streams-local-stub); `prisma dev` is not supported',
  );
}
