/**
 * REST transactions (`reference/bigip-icontrol.md` §5). `POST /mgmt/tm/transaction` starts one; a write sent
 * with `X-F5-REST-Coordination-Id` is queued unvalidated (200 `tm:transaction:commandsstate`); `PATCH
 * /mgmt/tm/transaction/<id> {"state":"VALIDATING"}` (without the header) applies every command in order and
 * then checks the affected profiles, all or nothing: any failure answers 400 `transaction failed:<message>`
 * (apiError 2) with the state exactly as before. An uncommitted transaction silently disappears after
 * `timeoutSeconds`.
 *
 * An armed failure (`failAt`) for the step of a queued command fires when the commit runs that command and
 * fails the transaction like any other error (its `afterApply` is ignored there).
 */
import type { Reply, RouteDef, SimCore } from './context.ts';
import { checkProfiles } from './consistency.ts';
import { atomically, normalizePathname, type RouteMatch } from './dispatch.ts';
import type { Failures } from './failures.ts';
import { type SimError, tmError } from './errors.ts';
import type { SimulatorStep } from './types.ts';

export const TRANSACTION_PATH = '/mgmt/tm/transaction';
const EXECUTION_TIMEOUT_SECONDS = 300;

export interface QueuedCommand {
  commandId: number;
  method: string;
  /** Pathname and query as sent. */
  path: string;
  body: Record<string, unknown> | undefined;
}

type TransactionState = 'STARTED' | 'COMPLETED' | 'FAILED';

export interface Transaction {
  id: string;
  state: TransactionState;
  createdAtMs: number;
  timeoutSeconds: number;
  commands: QueuedCommand[];
  failureReason: string;
  executionTimeMs: number;
  validateOnly: boolean;
}

/** What the commit needs from the pipeline: route lookup and running one queued command. */
export interface CommandRunner {
  resolve(method: string, path: string): RouteMatch | null;
  run(match: RouteMatch, command: QueuedCommand, touched: Set<string>): void;
}

class ValidateOnlyRollback extends Error {}

export function notAllowedInTransaction(id: string, method: string, path: string): SimError {
  return tmError(
    400,
    `Transaction ${id} operation ${method} https://localhost${path} is not allowed to be added to transaction.`,
    1,
  );
}

export class Transactions {
  private readonly all = new Map<string, Transaction>();
  private lastId = 0;

  constructor(
    private readonly core: SimCore,
    private readonly failures: Failures,
    private readonly runner: CommandRunner,
  ) {}

  /** The live transaction `id`, dropping it if it outlived its timeout uncommitted; throws 404 when gone. */
  private get(id: string): Transaction {
    const tx = this.all.get(id);
    if (tx && tx.state === 'STARTED' && this.core.now().getTime() > tx.createdAtMs + tx.timeoutSeconds * 1000) {
      this.all.delete(id);
    }
    const live = this.all.get(id);
    if (!live) throw tmError(404, `Transaction ${id} does not exist or has expired.`, 1);
    return live;
  }

  private link(tail: string): string {
    return `https://localhost${TRANSACTION_PATH}${tail}?ver=${this.core.config.version}`;
  }

  private view(tx: Transaction): Record<string, unknown> {
    return {
      transId: Number(tx.id),
      state: tx.state,
      timeoutSeconds: tx.timeoutSeconds,
      asyncExecution: false,
      validateOnly: tx.validateOnly,
      executionTimeout: EXECUTION_TIMEOUT_SECONDS,
      executionTime: tx.executionTimeMs,
      failureReason: tx.failureReason,
      kind: 'tm:transactionstate',
      selfLink: this.link(`/${tx.id}`),
    };
  }

  private commandView(tx: Transaction, cmd: QueuedCommand): Record<string, unknown> {
    return {
      method: cmd.method,
      uri: `https://localhost${cmd.path}`,
      ...(cmd.body === undefined ? {} : { body: cmd.body }),
      evalOrder: cmd.commandId,
      commandId: cmd.commandId,
      kind: 'tm:transaction:commandsstate',
      selfLink: this.link(`/${tx.id}/commands/${cmd.commandId}`),
    };
  }

  private begin(): Reply {
    // Microsecond-looking ids like the device's (1526674837169915), strictly increasing.
    const id = Math.max(this.lastId + 1, this.core.now().getTime() * 1000);
    this.lastId = id;
    const tx: Transaction = {
      id: String(id),
      state: 'STARTED',
      createdAtMs: this.core.now().getTime(),
      timeoutSeconds: this.core.config.transactionTimeoutSeconds,
      commands: [],
      failureReason: '',
      executionTimeMs: 0,
      validateOnly: false,
    };
    this.all.set(tx.id, tx);
    return { status: 200, json: this.view(tx) };
  }

  /** Queues a write sent with the coordination header; nothing is validated now. */
  enqueue(id: string, method: string, path: string, body: Record<string, unknown> | undefined): Reply {
    const tx = this.get(id);
    if (tx.state !== 'STARTED')
      throw tmError(400, `Transaction ${id} is ${tx.state}; no more commands can be added.`, 1);
    const cmd: QueuedCommand = { commandId: tx.commands.length + 1, method, path, body };
    tx.commands.push(cmd);
    return { status: 200, json: this.commandView(tx, cmd) };
  }

  private commit(id: string, body: Record<string, unknown>): Reply {
    const tx = this.get(id);
    if (body['state'] !== 'VALIDATING') {
      throw tmError(
        400,
        `Transaction ${id}: only "state":"VALIDATING" may be set to commit (got ${JSON.stringify(body['state'])}).`,
        1,
      );
    }
    if (tx.state !== 'STARTED') throw tmError(400, `Transaction ${id} is already ${tx.state}.`, 1);
    tx.validateOnly = body['validateOnly'] === true;
    const started = this.core.now().getTime();
    try {
      atomically(this.core.state, (touched) => {
        for (const cmd of tx.commands) this.apply(cmd, touched);
        if (tx.validateOnly) {
          // Validate like a real commit, then let `atomically` undo everything.
          checkProfiles(this.core.state, touched);
          throw new ValidateOnlyRollback();
        }
      });
    } catch (err) {
      if (err instanceof ValidateOnlyRollback) return this.finish(tx, started);
      const message = err instanceof Error ? err.message : String(err);
      tx.state = 'FAILED';
      tx.failureReason = message;
      tx.executionTimeMs = this.core.now().getTime() - started;
      throw tmError(400, `transaction failed:${message}`, 2);
    }
    return this.finish(tx, started);
  }

  private finish(tx: Transaction, started: number): Reply {
    tx.state = 'COMPLETED';
    tx.executionTimeMs = this.core.now().getTime() - started;
    return { status: 200, json: this.view(tx) };
  }

  private apply(cmd: QueuedCommand, touched: Set<string>): void {
    const pathname = normalizePathname(cmd.path.split('?')[0]!);
    const match = this.runner.resolve(cmd.method, pathname);
    if (!match) throw tmError(404, `URI path ${pathname} not registered.`, 1);
    if (!match.method) throw tmError(405, `${cmd.method} is not supported on ${pathname}.`, 1);
    const step: SimulatorStep | null = match.method.step;
    const failure = this.failures.take(step, { method: cmd.method, path: cmd.path });
    if (failure) throw tmError(failure.status, failure.message);
    this.runner.run(match, cmd, touched);
  }

  routes(): RouteDef[] {
    return [
      {
        pattern: new RegExp(`^${TRANSACTION_PATH}$`),
        area: 'tm',
        methods: {
          POST: { step: 'transaction-begin', handle: () => this.begin() },
          GET: {
            step: null,
            handle: () => ({
              status: 200,
              json: {
                kind: 'tm:transactioncollectionstate',
                selfLink: this.link(''),
                items: [...this.all.keys()].flatMap((id) => {
                  try {
                    return [this.view(this.get(id))];
                  } catch {
                    return [];
                  }
                }),
              },
            }),
          },
        },
      },
      {
        pattern: new RegExp(`^${TRANSACTION_PATH}/(\\d+)$`),
        area: 'tm',
        methods: {
          GET: { step: null, handle: (ctx) => ({ status: 200, json: this.view(this.get(ctx.params[0]!)) }) },
          PATCH: { step: 'transaction-commit', handle: (ctx) => this.commit(ctx.params[0]!, ctx.body) },
          DELETE: {
            step: null,
            handle: (ctx) => {
              this.get(ctx.params[0]!);
              this.all.delete(ctx.params[0]!);
              return { status: 200, text: '' };
            },
          },
        },
      },
      {
        pattern: new RegExp(`^${TRANSACTION_PATH}/(\\d+)/commands$`),
        area: 'tm',
        methods: {
          GET: {
            step: null,
            handle: (ctx) => {
              const tx = this.get(ctx.params[0]!);
              return {
                status: 200,
                json: {
                  kind: 'tm:transaction:commandscollectionstate',
                  selfLink: this.link(`/${tx.id}/commands`),
                  items: tx.commands.map((c) => this.commandView(tx, c)),
                },
              };
            },
          },
        },
      },
    ];
  }
}
