// The answer a browser gets for a console page without a valid login (operator trial 59): the 401 and its Basic
// challenge as for every route, but as a short page a phone shows at its own width, saying how to be asked again and
// where logins come from, instead of one line of plain text drawn at desktop width (tiny on a phone). It names no
// path, login or setting value of this server: whoever sees it has not signed in. No script, no style, no link.
import type { Request } from 'express';

export const CONSOLE_SIGN_IN_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in needed · Oktell console</title>
</head>
<body>
<main>
<h1>Sign-in needed</h1>
<p>401 Unauthorized: valid Oktell credentials are required. The console asks for a login and its password (HTTP Basic
authentication); this page is shown when none was given, or the one given was refused.</p>
<p><b>Reload the page to be asked again.</b></p>
<p>The console takes the logins of <code>OKTELL_USERS</code> (or <code>users:</code> in the configuration file) that have
the console or view right. A server configured with none makes the login <code>oktell</code>: its password is in
<code>server-user.json</code> in the server's data folder.</p>
</main>
</body>
</html>
`;

/** The page's own policy: nothing loads, nothing runs, no frame. */
export const SIGN_IN_PAGE_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** A browser opening a page (GET or HEAD that asks for HTML), not a script or a form post: it gets the page. */
export function wantsSignInPage(req: Request): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && /\btext\/html\b/.test(req.get('accept') ?? '');
}
