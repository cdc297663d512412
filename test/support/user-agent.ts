// A scripted user at the authorization server's pages, without a browser:
// follows redirects with its own cookies, fills the login form, confirms
// the consent and device pages, and lands on the application's callback.

export interface ScriptedUserOptions {
  readonly login?: string;
  /** Refuse at the consent page instead of allowing access. */
  readonly deny?: boolean;
  /** Type this code at a device input page. */
  readonly userCode?: string;
}

export interface ScriptedUserResult {
  /** The last URL visited: the callback for a browser login, the success page for a device login. */
  readonly finalUrl: string;
  readonly finalBody: string;
  readonly steps: number;
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)')`, 'i').exec(tag);
  return m ? (m[2] ?? m[3] ?? '').replace(/&amp;/g, '&') : undefined;
}

interface Form {
  readonly action: string;
  readonly fields: URLSearchParams;
  readonly textInputs: string[];
}

function firstForm(html: string): Form | undefined {
  const m = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!m) return undefined;
  const fields = new URLSearchParams();
  const textInputs: string[] = [];
  for (const input of m[2]!.match(/<input\b[^>]*>/gi) ?? []) {
    const name = attr(input, 'name');
    if (!name) continue;
    const type = (attr(input, 'type') ?? 'text').toLowerCase();
    const value = attr(input, 'value');
    if (type === 'hidden' || value !== undefined) fields.set(name, value ?? '');
    else textInputs.push(name);
  }
  return { action: attr(m[1]!, 'action') ?? '', fields, textInputs };
}

export async function scriptedUserLogin(startUrl: string, options: ScriptedUserOptions = {}): Promise<ScriptedUserResult> {
  const cookies = new Map<string, string>();
  const cookieHeader = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const remember = (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
  };
  let url = startUrl;
  let method = 'GET';
  let body: URLSearchParams | undefined;
  for (let steps = 1; steps <= 25; steps++) {
    const target = new URL(url);
    const sameServer = target.origin === new URL(startUrl).origin;
    const response = await fetch(url, {
      method,
      redirect: 'manual',
      headers: sameServer && cookies.size > 0 ? { cookie: cookieHeader() } : {},
      ...(body ? { body } : {}),
    });
    remember(response);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      url = new URL(location, url).href;
      method = 'GET';
      body = undefined;
      continue;
    }
    const html = await response.text();
    if (!sameServer) return { finalUrl: url, finalBody: html, steps };
    if (options.deny) {
      const abort = /href="([^"]*\/abort)"/.exec(html);
      if (abort) {
        url = new URL(abort[1]!, url).href;
        method = 'GET';
        body = undefined;
        continue;
      }
    }
    const form = firstForm(html);
    if (!form) return { finalUrl: url, finalBody: html, steps };
    for (const name of form.textInputs) {
      if (name === 'login') form.fields.set(name, options.login ?? 'alice@example.com');
      else if (name === 'password') form.fields.set(name, 'any-password');
      else if (name === 'user_code') form.fields.set(name, options.userCode ?? '');
    }
    url = new URL(form.action || url, url).href;
    method = 'POST';
    body = form.fields;
  }
  throw new Error(`scripted login did not finish within 25 steps, last at ${url}`);
}
