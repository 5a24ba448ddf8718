// PostgreSQL: the node's settings, in PostgreSQL's SQL on node-postgres (see ../postgres-stores.ts).
import type { PgSql } from '../pg-sql.ts';
import type { SettingStore } from '../settings.ts';

export function postgresSettingStore(sql: PgSql): SettingStore {
  return {
    all: async () =>
      new Map(
        (await sql.query<{ key: string; value: string }>('SELECT "key", "value" FROM "NodeSetting"')).rows.map((s) => [
          s.key,
          s.value,
        ]),
      ),
    async put(key, value) {
      await sql.query(
        `INSERT INTO "NodeSetting" ("key", "value") VALUES ($1, $2)
          ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value"`,
        [key, value],
      );
    },
  };
}
