/**
 * Ack latency of the six-interaction path (issue 15: p99 under 300 ms while issuing), decision 0035.
 *
 * One process, as `serve --role all` runs: the real Bolt HTTP receiver on loopback in front of the core (real
 * acme-client gateway against a fresh Pebble, real responder, PGlite or PostgreSQL), the BIG-IP simulator, and
 * a local stub for Slack's Web API. Each round is the whole path of tests/bot/six-interactions.test.ts, by an
 * admin and an approver: `/acme setup`, Create (profile + ToS), Add (BIG-IP), the client-ssl options load,
 * Request, Approve. Rounds run back to back without waiting for the previous round's issuance and deploy, and
 * `--workers` loops renew certificates meanwhile, so every ack is measured while the core issues. One sample is
 * one signed request, timed from its start to the end of Bolt's HTTP answer (the ack Slack waits 3 s for).
 *
 *   npx tsx bench/slack-six.ts [--rounds 20] [--workers 2] [--db pglite|postgres]
 *
 * Prints one JSON line: p50/p95/p99/max over all acks and per step, rounds whose certificate ended up serving
 * on the simulator, and renewals completed while sampling. PostgreSQL: BENCH_DATABASE_URL, else DATABASE_URL,
 * else postgres://postgres@127.0.0.1:5432/bigip_acme_bench_slack_six (created when missing).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { APPROVE_ACTION, approvalBlockId } from '../bot/blocks/approval.ts';
import { DEVICE_BLOCK } from '../bot/modals/device-add.ts';
import { PROFILE_BLOCK } from '../bot/modals/profile-create.ts';
import { SERVE_BLOCK, SERVE_REQUEST_VIEW } from '../bot/modals/serve-request.ts';
import { startBotHarness } from '../tests/bot/bot-harness.ts';
import { startBigIpSimulator } from '../tests/support/bigip-simulator/index.ts';
import { freeTcpPort } from '../tests/support/free-port.ts';
import { startPebble } from '../tests/support/pebble.ts';
import { startTestCore } from '../tests/support/test-core.ts';
import { openBenchDatabase } from './lib/bench-database.ts';
import { percentile } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    workers: { type: 'string', default: '2' },
    db: { type: 'string', default: 'pglite' },
  },
});
const ROUNDS = Number(args.rounds);
const WORKERS = Number(args.workers);
const ADMIN = 'U0ADMIN';
const BOB = 'U0BOB';
const PASSWORD = 'bench-Pa55word-six';

function summary(ms: number[]) {
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: percentile(sorted, 100),
  };
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await probe();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function main(): Promise<void> {
  const pebble = await startPebble({ httpPort: await freeTcpPort(), tlsPort: await freeTcpPort() });
  const database = await openBenchDatabase(args.db, 'postgres://postgres@127.0.0.1:5432/bigip_acme_bench_slack_six');
  const core = await startTestCore(database, pebble, randomBytes(32).toString('base64'), {
    approvers: [`slack:${BOB}`],
  });
  const h = await startBotHarness({
    core: { database, store: core.store, secrets: core.deps.secrets, services: core.services },
    env: { SLACK_ADMINS: ADMIN, SLACK_APPROVERS: BOB },
  });
  const sim = await startBigIpSimulator({ password: PASSWORD });
  const acks: Record<string, number[]> = {};
  const problems: string[] = [];
  const timed = async <T extends { status: number }>(step: string, send: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const res = await send();
    const ms = performance.now() - started;
    acks[step] = [...(acks[step] ?? []), ms];
    if (res.status !== 200) problems.push(`${step}: HTTP ${res.status}`);
    return res;
  };
  const v = (value: unknown) => ({ value });
  const viewAfter = (before: number, callbackId: string) =>
    until(`views.update ${callbackId}`, async () =>
      h.stub
        .api('views.update')
        .slice(before)
        .map((c) => c['view'] as { callback_id: string; private_metadata?: string })
        .find((view) => view.callback_id === callbackId),
    );

  try {
    const { services } = core;
    // Background issuing: renewals of a few certificates, back to back, for the whole run.
    await services.profiles.create(
      { name: 'load', server: pebble.directoryUrl, keySpec: 'rsa-2048', acceptTos: true },
      'bench',
    );
    const loadNames = Array.from({ length: 4 }, (_, i) => `load-${i}.six.example.test`);
    await services.domains.add('load', loadNames, 'http-01', 'bench');
    for (const name of loadNames) await services.certificates.request({ profile: 'load', commonName: name }, 'bench');
    let stop = false;
    let renewals = 0;
    const workers = Array.from({ length: WORKERS }, async (_, w) => {
      for (let k = w; !stop; k += WORKERS) {
        try {
          await services.certificates.renew(loadNames[k % loadNames.length]!, 'bench');
          renewals++;
        } catch {
          // counted as not renewed; the acks are what is measured
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1_000));

    const certificates: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const vsProfile = `/Common/six_${round}_clientssl`;
      sim.addProfile(vsProfile);
      const opens = h.stub.api('views.open').length;
      await timed('setup', () => h.command('setup', { userId: ADMIN, channelId: 'C0TEAM' }));
      const [opened] = (await h.stub.waitForApi('views.open', opens + 1)).slice(opens);
      let before = h.stub.api('views.update').length;
      await timed('create profile', () =>
        h.submitView(
          'profile_create',
          {
            [PROFILE_BLOCK.name]: v(`six-${round}`),
            [PROFILE_BLOCK.server]: v({ selected: 'custom' }),
            [PROFILE_BLOCK.serverUrl]: v(pebble.directoryUrl),
            [PROFILE_BLOCK.keySpec]: v({ selected: 'ec-p256' }),
            [PROFILE_BLOCK.contact]: v(''),
            [PROFILE_BLOCK.renewDays]: v({ type: 'number_input', value: '30' }),
            [PROFILE_BLOCK.deployTime]: v({ type: 'timepicker', selected_time: '03:00' }),
            [PROFILE_BLOCK.timeZone]: v('UTC'),
            [PROFILE_BLOCK.automation]: v({ multi: ['auto_renew', 'auto_deploy'] }),
            [PROFILE_BLOCK.approvals]: v({ multi: [] }),
            [PROFILE_BLOCK.tos]: v({ multi: ['accept'] }),
          },
          { userId: ADMIN, privateMetadata: (opened!['view'] as { private_metadata: string }).private_metadata },
        ),
      );
      const deviceView = await viewAfter(before, 'device_add');
      before = h.stub.api('views.update').length;
      await timed('add BIG-IP', () =>
        h.submitView(
          'device_add',
          {
            [DEVICE_BLOCK.name]: v(`bigip-${round}`),
            [DEVICE_BLOCK.url]: v(sim.url),
            [DEVICE_BLOCK.username]: v(sim.username),
            [DEVICE_BLOCK.password]: v(PASSWORD),
            [DEVICE_BLOCK.partition]: v('Common'),
            [DEVICE_BLOCK.caPem]: v(sim.caPem!),
            [DEVICE_BLOCK.insecure]: v({ multi: [] }),
          },
          { userId: ADMIN, privateMetadata: deviceView.private_metadata ?? '' },
        ),
      );
      const requestView = await viewAfter(before, SERVE_REQUEST_VIEW);
      const picker = await timed('client-ssl options', () =>
        h.suggest(SERVE_BLOCK.clientSsl, '', { userId: ADMIN, privateMetadata: requestView.private_metadata ?? '' }),
      );
      if (!picker.options.some((o) => o.value === vsProfile)) problems.push(`round ${round}: ${vsProfile} not offered`);
      before = h.stub.api('views.update').length;
      await timed('request', () =>
        h.submitView(
          SERVE_REQUEST_VIEW,
          {
            [SERVE_BLOCK.profile]: v({ selected: `six-${round}` }),
            [SERVE_BLOCK.names]: v(`r${round}.six.example.test`),
            [SERVE_BLOCK.challenge]: v({ selected: 'http-01' }),
            [SERVE_BLOCK.device]: v({ selected: `bigip-${round}` }),
            [SERVE_BLOCK.clientSsl]: v({ selected: vsProfile }),
          },
          { userId: ADMIN, privateMetadata: requestView.private_metadata ?? '' },
        ),
      );
      await viewAfter(before, `${SERVE_REQUEST_VIEW}_done`);
      const pending = await until('the approval', async () =>
        (await services.approvals.list('pending')).find((a) => a.certificateName === `r${round}.six.example.test`),
      );
      certificates.push(pending.certificateName);
      await timed('approve', () =>
        h.click(APPROVE_ACTION, pending.id, {
          userId: BOB,
          blockId: approvalBlockId('message', pending.id),
          channelId: 'C0APPROVALS',
          messageTs: `1700000100.${String(round).padStart(6, '0')}`,
        }),
      );
    }
    stop = true;
    await Promise.all(workers);

    // Every round's certificate ends up served (issued, then deployed by the approval).
    let serving = 0;
    for (const name of certificates) {
      try {
        await until(`${name} serving`, async () => {
          const c = await services.certificates.show(name);
          const b = await services.bindings.list({ certificate: name });
          return c.state === 'issued' && b.length === 1 && b[0]!.deployedFingerprint === c.fingerprintSha256;
        });
        serving++;
      } catch (err) {
        problems.push(err instanceof Error ? err.message : String(err));
      }
    }
    const all = Object.values(acks).flat();
    console.log(
      JSON.stringify({
        db: args.db,
        rounds: ROUNDS,
        workers: WORKERS,
        acks: summary(all),
        perStep: Object.fromEntries(Object.entries(acks).map(([k, ms]) => [k, summary(ms)])),
        serving,
        renewalsDuring: renewals,
        maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
        problems: problems.slice(0, 5),
      }),
    );
  } finally {
    await sim.close();
    await h.close();
    await core.close();
    await database.close();
    await pebble.stop();
  }
  if (problems.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
