// Which methods each Bpium REST resource takes: 405 (with Allow) for a method the resource does not have, 501 for a
// resource or method Bpium documents and the emulator does not implement. Runs after the emulated routes, so
// whatever reaches it was not handled by one of them.
import type { NextFunction, Request, Response } from 'express';

interface Resource {
  /** The path under /api/v1, one `[^/]+` per id; a trailing slash is accepted as express accepts it. */
  path: RegExp;
  /** Methods Bpium documents for the resource; all of them are what `Allow` lists. */
  methods: readonly string[];
  /** Of those, the ones the emulator does not implement: 501. */
  notEmulated: readonly string[];
}

const ID = '[^/]+';
const at = (pattern: string) => new RegExp(`^${pattern}/?$`);

/** Bpium's documented resources (its API reference), and the emulator's own `/-/` routes. */
export const RESOURCES: readonly Resource[] = [
  { path: at('/catalogs'), methods: ['GET', 'POST'], notEmulated: ['POST'] },
  { path: at(`/catalogs/${ID}`), methods: ['GET', 'PATCH', 'DELETE'], notEmulated: ['PATCH', 'DELETE'] },
  { path: at(`/catalogs/${ID}/records`), methods: ['GET', 'POST'], notEmulated: [] },
  { path: at(`/catalogs/${ID}/records/${ID}`), methods: ['GET', 'PATCH', 'DELETE'], notEmulated: [] },
  { path: at(`/catalogs/${ID}/records/${ID}/relations`), methods: ['GET'], notEmulated: ['GET'] },
  { path: at(`/catalogs/${ID}/fields/${ID}/availableRecords`), methods: ['GET'], notEmulated: ['GET'] },
  { path: at(`/catalogs/${ID}/views(?:/${ID})?`), methods: ['GET'], notEmulated: ['GET'] },
  { path: at(`/catalogs/${ID}/values`), methods: ['GET'], notEmulated: ['GET'] },
  { path: at('/sections'), methods: ['GET', 'POST'], notEmulated: ['GET', 'POST'] },
  { path: at(`/sections/${ID}`), methods: ['GET', 'PATCH', 'DELETE'], notEmulated: ['GET', 'PATCH', 'DELETE'] },
  { path: at('/histories'), methods: ['GET', 'POST'], notEmulated: ['GET', 'POST'] },
  { path: at('/files'), methods: ['POST'], notEmulated: ['POST'] },
  { path: at(`/files/${ID}`), methods: ['GET'], notEmulated: ['GET'] },
  { path: at('/users'), methods: ['GET'], notEmulated: [] },
  { path: at('/profile/me'), methods: ['GET'], notEmulated: [] },
  { path: at('/contacts'), methods: ['GET'], notEmulated: ['GET'] },
  { path: at('/-/webhooks'), methods: ['GET', 'POST'], notEmulated: [] },
  { path: at(`/-/webhooks/${ID}`), methods: ['GET', 'PATCH', 'DELETE'], notEmulated: [] },
  { path: at('/-/deliveries'), methods: ['GET'], notEmulated: [] },
];

/** Bpium lists these areas (reports, rights, company, licence) without their methods: any request gets 501. */
const UNDOCUMENTED_AREAS = /^\/(?:boards|rights|companies|license)(?:\/|$)/;

/** The `Allow` value: the documented methods, HEAD beside GET (express answers HEAD for every GET route). */
function allowOf(resource: Resource): string {
  return resource.methods.flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])).join(', ');
}

/**
 * Mounted at /api/v1 after the emulated routes: 501 or 405 for a known resource, `next()` (→ 404) for anything else.
 * `fail` writes the emulator's `{"message"}` error body.
 */
export function resourceMethods(fail: (res: Response, status: number, message: string) => void) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const path = req.path;
    if (UNDOCUMENTED_AREAS.test(path)) return fail(res, 501, `${req.method} ${path}: a Bpium resource the emulator does not implement`);
    const resource = RESOURCES.find((r) => r.path.test(path));
    if (!resource) return next();
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    if (resource.notEmulated.includes(method)) return fail(res, 501, `${req.method} ${path}: a Bpium resource method the emulator does not implement`);
    res.set('Allow', allowOf(resource));
    if (resource.methods.includes(method)) return next(); // an emulated method that fell through (cannot happen today)
    const hint = method === 'PUT' && resource.methods.includes('PATCH') ? '; Bpium changes with PATCH, not PUT' : '';
    fail(res, 405, `${req.method} is not allowed on ${path} (Allow: ${allowOf(resource)})${hint}`);
  };
}
