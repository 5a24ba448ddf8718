import type { NonceStore } from '@cpnet/security';
import type { Clock } from '@cpnet/identifier';
import type { PrismaClient } from '../generated/prisma/client.ts';

/** A durable replay store over the SeenNonce table: replay memory survives a restart. Expired rows are swept. */
export function createDbNonceStore(prisma: PrismaClient, clock: Clock): NonceStore {
  let nextSweep = 0;
  return {
    durable: true,
    async seen(keyid, nonce, expiresAt) {
      const now = clock.now();
      if (now >= nextSweep) {
        nextSweep = now + 30_000;
        await prisma.seenNonce.deleteMany({ where: { expiresAt: { lt: new Date(now) } } });
      }
      try {
        await prisma.seenNonce.create({ data: { keyid, nonce, expiresAt: new Date(expiresAt) } });
        return false;
      } catch (e) {
        if ((e as { code?: string }).code === 'P2002') return true;
        throw e;
      }
    },
  };
}
