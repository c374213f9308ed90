/**
 * Several simulated BIG-IPs forming one device group (`reference/bigip-icontrol.md` §6). Each member is a full
 * simulator with its own management URL and configuration; this file is the group between them:
 *
 * - A member whose configuration changed since the last sync makes the group "Changes Pending" (the change
 *   is noticed from the member's configuration generation, so every write counts, in a transaction or not).
 * - `config-sync to-group` from a member answers 200 at once ("started"), shows "Syncing" for `syncDelayMs`,
 *   then copies the sync-able configuration (certificates, keys, profiles, data groups, iRules, virtual
 *   servers; not uploaded files) to every connected peer: the group is "In Sync" again, or "Changes Pending"
 *   while a peer missed it.
 * - Auto-sync groups sync from the changed member `autoSyncDelayMs` after its change, and bring a reconnected
 *   peer up to date.
 * - A disconnected member receives nothing; every member reports "Disconnected" while one is.
 * - Faults: `failAt('config-sync', …)` on a member refuses the request; `stallSyncs(true)` accepts syncs that
 *   never complete (the group stays "Changes Pending").
 * - A new group can start "Awaiting Initial Sync".
 *
 * `serveVirtualTls` gives a virtual server a real TLS listener on loopback that answers with the configuration
 * of whichever member is active (the floating address), and writes the address it listens on into every
 * member's `destination` without counting as a change.
 */
import type { Server } from 'node:net';
import { startBigIpSimulator } from './index.ts';
import type { HaDeviceView, HaMemberLink, HaSyncView } from './routes-ha.ts';
import { restore, snapshot } from './state.ts';
import { tmError } from './errors.ts';
import { listenTlsVirtual } from './tls-virtual.ts';
import type { BigIpSimulator, BigIpSimulatorOptions } from './types.ts';

export interface BigIpClusterOptions {
  /** Device names, e.g. ['bigip1', 'bigip2']; the first is active unless `active` says otherwise. */
  members: string[];
  /** Device group name, default 'dg1'. */
  group?: string;
  type?: 'sync-failover' | 'sync-only';
  autoSync?: boolean;
  /** How long a sync shows "Syncing" before the peers have the configuration (default 30). */
  syncDelayMs?: number;
  /** Auto-sync: how long after a change the group syncs (default 50). */
  autoSyncDelayMs?: number;
  active?: string;
  /** Start as a new group that was never synced. */
  awaitingInitialSync?: boolean;
  /** Passed to every member (hostname is set per member). */
  simulator?: BigIpSimulatorOptions;
}

export interface SyncRecord {
  from: string;
  /** Peers that received the configuration. */
  to: string[];
}

export interface BigIpCluster {
  group: string;
  members: BigIpSimulator[];
  member(name: string): BigIpSimulator;
  /** Fails over: `name` becomes active, every other member standby. */
  setActive(name: string): void;
  active(): string;
  disconnect(name: string): void;
  reconnect(name: string): void;
  /** On: syncs are accepted and never complete. */
  stallSyncs(on: boolean): void;
  /** The status `name` reports (`In Sync`, `Changes Pending`, …). */
  syncStatus(name?: string): string;
  /** A finished sync from `from`, at once (for seeding: configure one member, then copy it). */
  syncNow(from: string): void;
  /** Every sync that finished, in order. */
  syncs: SyncRecord[];
  /** A TLS listener for `vsFullPath` answering with the active member's configuration; returns its port. */
  serveVirtualTls(vsFullPath: string): Promise<number>;
  /**
   * Fault: on, the TLS listeners keep presenting what the active member held at this moment (a data plane
   * that did not pick up the new configuration); off, they follow the configuration again.
   */
  freezeServedTls(on: boolean): void;
  close(): Promise<void>;
}

interface Member {
  name: string;
  sim: BigIpSimulator;
  connected: boolean;
  /** The configuration generation at this member's last sync. */
  syncedGeneration: number;
  /** The sync version this member holds. */
  holds: number;
  changedSince: number | null;
}

export async function startBigIpCluster(options: BigIpClusterOptions): Promise<BigIpCluster> {
  const groupName = options.group ?? 'dg1';
  const type = options.type ?? 'sync-failover';
  const autoSync = options.autoSync ?? false;
  const syncDelayMs = options.syncDelayMs ?? 30;
  const autoSyncDelayMs = options.autoSyncDelayMs ?? 50;
  let active = options.active ?? options.members[0]!;
  let version = options.awaitingInitialSync ? 0 : 1;
  let syncing = false;
  let stalled = false;
  const syncs: SyncRecord[] = [];
  const members: Member[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const listeners: Server[] = [];
  let frozen: ReturnType<typeof snapshot> | null = null;

  const byName = (name: string): Member => {
    const m = members.find((x) => x.name === name);
    if (!m) throw new Error(`no cluster member ${name}`);
    return m;
  };
  const changed = (m: Member) => m.sim.state.generation !== m.syncedGeneration;

  function status(): HaSyncView {
    const peers = members.map((m) => `${m.name}: ${m.connected ? 'connected' : 'disconnected'}`);
    const say = (status: string, color: string, summary: string, extra: string[] = []): HaSyncView => ({
      status,
      color,
      summary,
      details: [...peers, `${groupName} (${status}): ${summary}`, ...extra],
    });
    const down = members.filter((m) => !m.connected);
    if (down.length > 0) return say('Disconnected', 'red', `${down.map((m) => m.name).join(', ')} cannot be reached`);
    if (syncing) return say('Syncing', 'blue', 'A sync is in progress');
    if (version === 0)
      return say('Awaiting Initial Sync', 'blue', 'The device group is awaiting the initial config sync');
    const sources = members.filter(changed);
    const behind = members.filter((m) => m.holds < version);
    if (sources.length > 1)
      return say(
        'Changes Pending',
        'yellow',
        `There is a possible change conflict between ${sources.map((m) => m.name).join(' and ')}.`,
        [` - Recommended action: Synchronize ${sources[0]!.name} to group ${groupName}`],
      );
    if (sources.length === 1)
      return say('Changes Pending', 'yellow', `${sources[0]!.name} has changes not yet synced to the group`, [
        ` - Recommended action: Synchronize ${sources[0]!.name} to group ${groupName}`,
      ]);
    if (behind.length > 0)
      return say('Changes Pending', 'yellow', `${behind.map((m) => m.name).join(', ')} missed the last sync`);
    return say('In Sync', 'green', 'All devices in the device group are in sync');
  }

  /** Copies `from`'s sync-able configuration to every connected peer. */
  function finishSync(from: Member): void {
    version += 1;
    from.holds = version;
    from.syncedGeneration = from.sim.state.generation;
    from.changedSince = null;
    const to: string[] = [];
    for (const peer of members) {
      if (peer === from || !peer.connected) continue;
      const copy = snapshot(from.sim.state);
      copy.uploads = new Map(peer.sim.state.uploads);
      copy.saves = peer.sim.state.saves;
      restore(peer.sim.state, copy);
      peer.syncedGeneration = peer.sim.state.generation;
      peer.holds = version;
      peer.changedSince = null;
      to.push(peer.name);
    }
    syncs.push({ from: from.name, to });
  }

  function startSync(from: Member): void {
    if (stalled) return;
    syncing = true;
    const timer = setTimeout(() => {
      timers.delete(timer);
      syncing = false;
      finishSync(from);
    }, syncDelayMs);
    timers.add(timer);
  }

  function link(self: string): HaMemberLink {
    return {
      self,
      devices: (): HaDeviceView[] =>
        members.map((m) => ({ name: m.name, failoverState: m.name === active ? 'active' : 'standby' })),
      group: () => ({ name: groupName, type, autoSync, members: members.map((m) => m.name) }),
      syncStatus: status,
      configSync: () => {
        const from = byName(self);
        if (!from.connected)
          throw tmError(400, `01070712:3: Config sync from ${self} failed: the device group has no connected peers`);
        if (syncing) return;
        startSync(from);
      },
    };
  }

  for (const name of options.members) {
    const sim = await startBigIpSimulator({
      ...options.simulator,
      hostname: `${name}.example.test`,
      password: options.simulator?.password ?? `cluster-password-${groupName}-9K`,
      ha: link(name),
    });
    members.push({
      name,
      sim,
      connected: true,
      syncedGeneration: sim.state.generation,
      holds: version,
      changedSince: null,
    });
  }

  // Auto-sync: a change is synced from its member after the delay; a member that missed a sync is caught up.
  const poll = setInterval(() => {
    if (!autoSync || syncing || stalled) return;
    const now = Date.now();
    for (const m of members) {
      if (!m.connected) continue;
      if (changed(m)) m.changedSince ??= now;
    }
    const due = members.find((m) => m.connected && m.changedSince !== null && now - m.changedSince >= autoSyncDelayMs);
    if (due) return startSync(due);
    const behind = members.some((m) => m.connected && m.holds < version);
    const holder = members.find((m) => m.connected && m.holds === version);
    if (behind && holder && version > 0) startSync(holder);
  }, 10);
  poll.unref();

  return {
    group: groupName,
    members: members.map((m) => m.sim),
    member: (name) => byName(name).sim,
    setActive(name) {
      byName(name);
      active = name;
    },
    active: () => active,
    disconnect(name) {
      byName(name).connected = false;
    },
    reconnect(name) {
      byName(name).connected = true;
    },
    stallSyncs(on) {
      stalled = on;
    },
    syncStatus: () => status().status,
    syncNow(from) {
      finishSync(byName(from));
    },
    syncs,
    async serveVirtualTls(vsFullPath) {
      const started = await listenTlsVirtual(() => frozen ?? byName(active).sim.state, vsFullPath);
      listeners.push(started.server);
      for (const m of members) {
        const vs = m.sim.state.virtuals.get(vsFullPath);
        if (vs) vs.destination = `/Common/127.0.0.1:${started.port}`;
      }
      return started.port;
    },
    freezeServedTls(on) {
      frozen = on ? snapshot(byName(active).sim.state) : null;
    },
    async close() {
      clearInterval(poll);
      for (const t of timers) clearTimeout(t);
      await Promise.all(listeners.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      await Promise.all(members.map((m) => m.sim.close()));
    },
  };
}
