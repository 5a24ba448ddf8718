/** The path of schema.prisma (the source). */
export declare const SOURCE: string;
/** The path of schema.postgres.prisma (written from it). */
export declare const TARGET: string;
/** The PostgreSQL schema for the text of the SQLite one. */
export declare function postgresSchemaOf(source: string): string;
