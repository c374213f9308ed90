import http from 'node:http';
import https from 'node:https';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from '../../db/client.ts';
import type { Database } from '../../db/client.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';

/** Requests and new connections to Pebble, seen at Node's agents (whatever agent the gateway uses). */
function countCaTraffic(caPort: () => number) {
  const counts = { newNonce: 0, post: 0, connections: 0 };
  type Agent = { addRequest: (req: http.ClientRequest, o: { port?: unknown }) => void };
  type Connect = { createConnection: (o: { port?: unknown }, ...rest: unknown[]) => unknown };
  const agentProto = http.Agent.prototype as unknown as Agent & Connect;
  const httpsProto = https.Agent.prototype as unknown as Connect;
  const addRequest = agentProto.addRequest;
  const createConnection = httpsProto.createConnection;
  agentProto.addRequest = function (req, o) {
    if (Number(o.port) === caPort()) {
      if (req.method === 'HEAD' && req.path.includes('nonce')) counts.newNonce += 1;
      if (req.method === 'POST') counts.post += 1;
    }
    return addRequest.call(this, req, o);
  };
  httpsProto.createConnection = function (o, ...rest) {
    if (Number(o.port) === caPort()) counts.connections += 1;
    return createConnection.call(this, o, ...rest);
  };
  return {
    take() {
      const copy = { ...counts };
      counts.newNonce = counts.post = counts.connections = 0;
      return copy;
    },
    restore() {
      agentProto.addRequest = addRequest;
      httpsProto.createConnection = createConnection;
    },
  };
}

describeWithPebble('nonce pool and kept-alive connections against Pebble', () => {
  const pebble = usePebble({ nonceReject: 0, authzReuse: 0 });
  let database: Database;
  let core: TestCore;
  let traffic: ReturnType<typeof countCaTraffic>;
  const name = (label: string) => `${label}.nonces.example.test`;

  beforeAll(async () => {
    traffic = countCaTraffic(() => Number(new URL(pebble().directoryUrl).port));
    database = await openDatabase({ memory: true });
    await database.migrate();
    core = await startTestCore(database, pebble());
  });
  afterAll(async () => {
    traffic?.restore();
    await core?.close();
    await database?.close();
  });

  it('after the first signed request, orders ask for (almost) no new nonce and open (almost) no new connection', async () => {
    const { services } = core;
    traffic.take();
    // The account is the first signed request to this CA: the pool is empty, one HEAD newNonce is needed.
    await services.profiles.create(
      { name: 'ec', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true },
      'test',
    );
    await services.domains.add('ec', [name('first'), name('second')], 'http-01', 'test');
    const setup = traffic.take();

    const first = await services.certificates.request({ profile: 'ec', commonName: name('first') }, 'test');
    expect(first.state).toBe('issued');
    const firstOrder = traffic.take();

    const second = await services.certificates.request({ profile: 'ec', commonName: name('second') }, 'test');
    expect(second.state).toBe('issued');
    const secondOrder = traffic.take();

    const seen = JSON.stringify({ setup, firstOrder, secondOrder });
    expect(setup.newNonce, seen).toBeGreaterThanOrEqual(1);
    expect(setup.connections, seen).toBeGreaterThanOrEqual(1);
    // newOrder, authorization, challenge, polls, finalize, download: each a signed POST that acme-client
    // alone would precede with a HEAD newNonce, often on a new connection. With the pool and the kept-alive
    // agent an order normally needs neither; at most one, when two requests overlap (a background GET or two
    // polls at once) and find the pool empty or the socket busy.
    for (const order of [firstOrder, secondOrder]) {
      expect(order.post, seen).toBeGreaterThanOrEqual(6);
      expect(order.newNonce, seen).toBeLessThanOrEqual(1);
      expect(order.connections, seen).toBeLessThanOrEqual(1);
    }
  });
});
