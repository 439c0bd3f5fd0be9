// What the configuration needs to know of a PostgreSQL store URL without loading the pg driver: its schema name rule,
// and the URL as it may be shown (in logs, the start banner, error messages), with every password masked.

/** `?schema=`: a plain lower-case identifier, so it can be named in SQL (`search_path`, CREATE SCHEMA) unquoted. */
export const PG_SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Why `schema` cannot be the store's schema, or undefined when it can. */
export function pgSchemaProblem(schema: string): string | undefined {
  return PG_SCHEMA_NAME.test(schema) ? undefined : `schema "${schema}" is not a plain lower-case identifier: use lower-case letters, digits and _ (not first), at most 63 characters`;
}

/** The `?schema=` of a store URL; undefined when there is none (the tables then live in the role's search_path). */
export function pgSchemaOf(url: string): string | undefined {
  try {
    return new URL(url).searchParams.get('schema') || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The URL with its passwords masked: the userinfo's (`postgres://u:***@…`) and any query parameter that carries one
 * (libpq's `?password=`, `?sslpassword=`), which the driver accepts as well.
 */
export function redactPostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const name of [...u.searchParams.keys()]) {
      if (/password/i.test(name)) u.searchParams.set(name, '***');
    }
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}
