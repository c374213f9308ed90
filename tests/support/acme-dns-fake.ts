/**
 * A faithful fake of acme-dns's HTTP API (github.com/joohoi/acme-dns, README "API"), for tests: the real server
 * is not packaged here. What it keeps of the real one:
 * - `POST /register` (optional body `{"allowfrom": [...]}`) → 201 `{username, password, fulldomain, subdomain,
 *   allowfrom}`; username and subdomain UUIDs, a 40-character password, fulldomain `<subdomain>.<domain>`.
 * - `POST /update` with `X-Api-User` / `X-Api-Key` and `{"subdomain", "txt"}` → 200 `{"txt"}`; 401
 *   `{"error":"forbidden"}` for unknown credentials or another account's subdomain; 400 `{"error":"bad_txt"}`
 *   unless txt is exactly 43 characters of base64url, `bad_subdomain`, `malformed_json_payload`.
 * - `GET /health` → 200.
 * - The last two TXT values per subdomain are served (a wildcard and its apex validate together); an update
 *   pushes the oldest out.
 * The DNS side is the test's: `onTxt` is told the values to serve for a fulldomain (a test writes them into
 * BIND with nsupdate).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AcmeDnsFake {
  url: string;
  /** The TXT values served for a subdomain now, newest last. */
  txt(subdomain: string): string[];
  /** Requests received, newest last (path and status), for assertions. */
  requests: { path: string; status: number }[];
  /** Forgets every account, as a server whose database was lost would: updates then get 401. */
  forgetAccounts(): void;
  close(): Promise<void>;
}

interface Account {
  username: string;
  password: string;
  subdomain: string;
}

const TXT = /^[A-Za-z0-9_-]{43}$/;

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (text += d));
    req.on('end', () => resolve(text));
  });
}

export async function startAcmeDnsFake(opts: {
  /** The acme-dns zone, e.g. `auth.example.test`. */
  domain: string;
  onTxt?: (fulldomain: string, values: string[]) => Promise<void>;
}): Promise<AcmeDnsFake> {
  let accounts = new Map<string, Account>();
  const records = new Map<string, string[]>();
  const requests: { path: string; status: number }[] = [];

  const server: Server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const send = (status: number, payload: unknown) => {
      requests.push({ path, status });
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
    };
    const text = await body(req);
    if (req.method === 'GET' && path === '/health') {
      requests.push({ path, status: 200 });
      res.writeHead(200).end();
      return;
    }
    if (req.method !== 'POST') return send(405, { error: 'method_not_allowed' });
    let json: Record<string, unknown> = {};
    if (text.trim()) {
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return send(400, { error: 'malformed_json_payload' });
      }
    }
    if (path === '/register') {
      const account: Account = {
        username: randomUUID(),
        password: randomBytes(30).toString('base64url'),
        subdomain: randomUUID(),
      };
      accounts.set(account.username, account);
      return send(201, {
        username: account.username,
        password: account.password,
        fulldomain: `${account.subdomain}.${opts.domain}`,
        subdomain: account.subdomain,
        allowfrom: Array.isArray(json['allowfrom']) ? json['allowfrom'] : [],
      });
    }
    if (path === '/update') {
      const user = req.headers['x-api-user'];
      const key = req.headers['x-api-key'];
      const account = typeof user === 'string' ? accounts.get(user) : undefined;
      if (!account || account.password !== key) return send(401, { error: 'forbidden' });
      const subdomain = json['subdomain'];
      const txt = json['txt'];
      if (typeof subdomain !== 'string' || !/^[0-9a-f-]{36}$/.test(subdomain))
        return send(400, { error: 'bad_subdomain' });
      if (subdomain !== account.subdomain) return send(401, { error: 'forbidden' });
      if (typeof txt !== 'string' || !TXT.test(txt)) return send(400, { error: 'bad_txt' });
      const values = [...(records.get(subdomain) ?? []), txt].slice(-2);
      records.set(subdomain, values);
      await opts.onTxt?.(`${subdomain}.${opts.domain}`, values);
      return send(200, { txt });
    }
    return send(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    txt: (subdomain) => [...(records.get(subdomain) ?? [])],
    requests,
    forgetAccounts: () => {
      accounts = new Map();
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
