/**
 * {@link BigIpClient} over iControl REST (`reference/bigip-icontrol.md`): one method per call, full paths
 * converted in `bigip-path.ts`, failures classified in `bigip-error.ts`, authentication in
 * `icontrol-session.ts`, the wire in `icontrol-transport.ts`, chunked uploads in `icontrol-upload.ts`. The client
 * holds no transaction: writes that belong to one take its handle explicitly and send `X-F5-REST-Coordination-Id`.
 */
import type { Clock } from '../ports/clock.ts';
import { systemClock } from '../ports/clock.ts';
import type {
  BigIpClient,
  BigIpConnection,
  BigIpTransaction,
  CertKeyChainEntry,
  WriteOptions,
} from '../ports/bigip-client.ts';
import { CoreError } from '../errors.ts';
import { bigIpError, f5CodeOf, isBigIpError, recode, requestLabel } from './bigip-error.ts';
import { assertFullPath, createFields, toUrlSegment } from './bigip-path.ts';
import {
  assertRecordText,
  assertTransactionId,
  assertUploadPath,
  chainForRequest,
  toClientSslProfile,
  toClientSslProfiles,
  toDataGroup,
  toDeviceInfo,
  toIRule,
  toSslCertFile,
  toSslKeyFile,
  toVirtualServer,
  toVirtualServers,
} from './icontrol-records.ts';
import { toDeviceGroups, toGroupMembers, toHaDevices, toSyncStatus } from './icontrol-ha-records.ts';
import { type Call, createSession } from './icontrol-session.ts';
import { createUploader } from './icontrol-upload.ts';
import { createTransport } from './icontrol-transport.ts';

/** A listing of every client-ssl profile can be large; it gets more room than other answers. */
const LIST_BODY_CAP = 32 * 1024 * 1024;

const SSL_CERT = '/mgmt/tm/sys/file/ssl-cert';
const SSL_KEY = '/mgmt/tm/sys/file/ssl-key';
const CLIENT_SSL = '/mgmt/tm/ltm/profile/client-ssl';
const DATA_GROUP = '/mgmt/tm/ltm/data-group/internal';
const RULE = '/mgmt/tm/ltm/rule';
const VIRTUAL = '/mgmt/tm/ltm/virtual';
const TRANSACTION = '/mgmt/tm/transaction';
const CM = '/mgmt/tm/cm';
/** A device group name as sent in `config-sync to-group <name>`: one tmsh word. */
const GROUP_NAME = /^(?:\/[A-Za-z0-9_.-]+\/)?[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

export interface IControlClientOptions {
  /** For token expiry; defaults to the system clock. */
  clock?: Pick<Clock, 'now'>;
  /** Upload chunk size, at most `UPLOAD_CHUNK_BYTES` (`icontrol-upload.ts`). */
  chunkBytes?: number;
}

function coordination(opts: WriteOptions | undefined): Record<string, string> | undefined {
  if (opts?.transaction === undefined) return undefined;
  return { 'X-F5-REST-Coordination-Id': assertTransactionId(opts.transaction.id) };
}

export function createIControlClient(conn: BigIpConnection, options: IControlClientOptions = {}): BigIpClient {
  const transport = createTransport(conn);
  const session = createSession(transport, conn, options.clock ?? systemClock);
  const call = session.call;
  const uploadFile = createUploader(call, options.chunkBytes);

  /** A GET whose 404 means "no such object". */
  async function read<T>(c: Omit<Call, 'method'>, map: (json: unknown) => T): Promise<T | null> {
    try {
      return map((await call({ ...c, method: 'GET' })).json);
    } catch (err) {
      if (isBigIpError(err, 'bigip_not_found')) return null;
      throw err;
    }
  }

  /**
   * A write, queued in `opts.transaction` when given. Nothing is validated when a command is queued, so a 404
   * then means the transaction itself is gone (expired or unknown): that is a failed transaction.
   */
  async function write(c: Call, opts: WriteOptions | undefined): Promise<void> {
    const headers = coordination(opts);
    if (headers === undefined) {
      await call(c);
      return;
    }
    try {
      await call({ ...c, headers: { ...c.headers, ...headers } });
    } catch (err) {
      if (isBigIpError(err, 'bigip_not_found')) throw recode(err, 'bigip_transaction_failed');
      throw err;
    }
  }

  /** A removal whose 404 means the thing is already gone (outside a transaction; see {@link write}). */
  async function idempotentRemove(c: Call, opts?: WriteOptions): Promise<void> {
    try {
      await write(c, opts);
    } catch (err) {
      if (!isBigIpError(err, 'bigip_not_found')) throw err;
    }
  }

  const client: BigIpClient = {
    async deviceInfo() {
      const path = '/mgmt/shared/identified-devices/config/device-info';
      const answer = await call({ method: 'GET', path, action: 'read device info' });
      const info = toDeviceInfo(answer.json);
      if (info === null)
        throw session.unexpected(
          { method: 'GET', path, action: 'read device info' },
          answer.status,
          'no hostname or version',
        );
      return info;
    },

    upload: uploadFile,

    async removeUpload(localFilePath) {
      assertUploadPath(localFilePath);
      const c: Call = {
        method: 'POST',
        path: '/mgmt/tm/util/unix-rm',
        action: `remove uploaded file ${localFilePath}`,
        json: { command: 'run', utilCmdArgs: localFilePath },
      };
      const answer = await call(c);
      // rm's own complaints come back in a 200 as `commandResult`; a file that is already gone is fine.
      const result = (answer.json as { commandResult?: unknown } | null)?.commandResult;
      if (typeof result === 'string' && result.trim() !== '' && !/no such file/i.test(result)) {
        throw session.unexpected(c, answer.status, result.replace(/\s+/g, ' ').trim().slice(0, 300));
      }
    },

    async installKey(fullPath, localFilePath, passphrase) {
      assertFullPath(fullPath, 'key name');
      if (passphrase === '') throw new CoreError('input_invalid', `install key ${fullPath}: the passphrase is empty`);
      assertUploadPath(localFilePath);
      await call({
        method: 'POST',
        path: '/mgmt/tm/sys/crypto/key',
        action: `install key ${fullPath}`,
        json: {
          command: 'install',
          name: fullPath,
          'from-local-file': localFilePath,
          securityType: passphrase === undefined ? 'normal' : 'password',
          ...(passphrase === undefined ? {} : { passphrase }),
        },
        secrets: passphrase === undefined ? undefined : [passphrase],
      });
    },

    async installCert(fullPath, localFilePath) {
      assertFullPath(fullPath, 'certificate name');
      assertUploadPath(localFilePath);
      await call({
        method: 'POST',
        path: '/mgmt/tm/sys/crypto/cert',
        action: `install certificate ${fullPath}`,
        json: { command: 'install', name: fullPath, 'from-local-file': localFilePath },
      });
    },

    async getCert(fullPath) {
      const path = `${SSL_CERT}/${toUrlSegment(fullPath)}`;
      return read({ path, action: `read certificate ${fullPath}` }, (json) => toSslCertFile(json, fullPath));
    },

    async getKey(fullPath) {
      const path = `${SSL_KEY}/${toUrlSegment(fullPath)}`;
      return read({ path, action: `read key ${fullPath}` }, (json) => toSslKeyFile(json, fullPath));
    },

    async deleteCert(fullPath, opts) {
      const path = `${SSL_CERT}/${toUrlSegment(fullPath)}`;
      await idempotentRemove({ method: 'DELETE', path, action: `delete certificate ${fullPath}` }, opts);
    },

    async deleteKey(fullPath, opts) {
      const path = `${SSL_KEY}/${toUrlSegment(fullPath)}`;
      await idempotentRemove({ method: 'DELETE', path, action: `delete key ${fullPath}` }, opts);
    },

    async getClientSslProfile(fullPath) {
      const path = `${CLIENT_SSL}/${toUrlSegment(fullPath)}`;
      return read({ path, action: `read client-ssl profile ${fullPath}` }, (json) =>
        toClientSslProfile(json, fullPath),
      );
    },

    async listClientSslProfiles() {
      const answer = await call({
        method: 'GET',
        path: CLIENT_SSL,
        action: 'list client-ssl profiles',
        cap: LIST_BODY_CAP,
      });
      return toClientSslProfiles(answer.json);
    },

    async createClientSslProfile(profile, opts) {
      const json = {
        ...createFields(profile.fullPath),
        defaultsFrom: assertFullPath(profile.defaultsFrom, 'parent profile'),
        certKeyChain: chainForRequest(profile.certKeyChain),
      };
      const action = `create client-ssl profile ${profile.fullPath}`;
      const secrets = profile.certKeyChain.flatMap((e) => (e.passphrase === undefined ? [] : [e.passphrase]));
      await write({ method: 'POST', path: CLIENT_SSL, action, json, secrets }, opts);
    },

    async setCertKeyChain(profileFullPath: string, chain: CertKeyChainEntry[], opts?: WriteOptions) {
      await write(
        {
          method: 'PATCH',
          path: `${CLIENT_SSL}/${toUrlSegment(profileFullPath)}`,
          action: `set the certificates of client-ssl profile ${profileFullPath}`,
          json: { certKeyChain: chainForRequest(chain) },
          secrets: chain.flatMap((e) => (e.passphrase === undefined ? [] : [e.passphrase])),
        },
        opts,
      );
    },

    async beginTransaction(): Promise<BigIpTransaction> {
      const answer = await call({ method: 'POST', path: TRANSACTION, action: 'begin a transaction', json: {} });
      const id = (answer.json as { transId?: unknown } | null)?.transId;
      if ((typeof id !== 'number' && typeof id !== 'string') || !/^\d+$/.test(String(id))) {
        throw session.unexpected(
          { method: 'POST', path: TRANSACTION, action: 'begin a transaction' },
          answer.status,
          'no transId',
        );
      }
      return { id: String(id) };
    },

    async commitTransaction(tx) {
      const id = assertTransactionId(tx.id);
      let answer: Awaited<ReturnType<typeof call>>;
      try {
        // No coordination header here: with it the commit would itself be queued (and refused).
        answer = await call({
          method: 'PATCH',
          path: `${TRANSACTION}/${id}`,
          action: `commit transaction ${id}`,
          json: { state: 'VALIDATING', validateOnly: false },
        });
      } catch (err) {
        // The device refused the commit (a queued command failed, or the transaction expired): nothing applied.
        if (isBigIpError(err) && err.detail.status !== null && err.detail.status >= 400 && err.detail.status < 500) {
          if (err.code !== 'bigip_auth' && err.code !== 'bigip_busy') throw recode(err, 'bigip_transaction_failed');
        }
        throw err;
      }
      const state = (answer.json as { state?: unknown } | null)?.state;
      if (state === 'FAILED') {
        const reason = (answer.json as { failureReason?: unknown }).failureReason;
        const text = typeof reason === 'string' && reason !== '' ? reason : 'state FAILED';
        throw bigIpError(
          'bigip_transaction_failed',
          `commit transaction ${id} on BIG-IP ${transport.host} failed: ${text.replace(/\s+/g, ' ').slice(0, 300)}`,
          {
            status: answer.status,
            f5Code: f5CodeOf(text),
            apiError: null,
            request: requestLabel('PATCH', `${TRANSACTION}/${id}`),
          },
        );
      }
    },

    async saveConfig() {
      await call({
        method: 'POST',
        path: '/mgmt/tm/sys/config',
        action: 'save the configuration',
        json: { command: 'save' },
      });
    },

    async getDataGroup(fullPath) {
      const path = `${DATA_GROUP}/${toUrlSegment(fullPath)}`;
      return read({ path, action: `read data group ${fullPath}` }, (json) => toDataGroup(json, fullPath));
    },

    async createDataGroup(fullPath) {
      const json = { ...createFields(fullPath), type: 'string', records: [] };
      await call({ method: 'POST', path: DATA_GROUP, action: `create data group ${fullPath}`, json });
    },

    async addDataGroupRecord(fullPath, record) {
      assertRecordText(record.name, 'name');
      assertRecordText(record.data, 'data');
      const path = `${DATA_GROUP}/${toUrlSegment(fullPath)}`;
      const { name } = createFields(fullPath);
      const add: Call = {
        method: 'PATCH',
        path: `${path}?options=${encodeURIComponent(`records add { ${record.name} { data ${record.data} } }`)}`,
        action: `add record ${record.name} to data group ${fullPath}`,
        json: { name },
      };
      try {
        await call(add);
      } catch (err) {
        if (!isBigIpError(err, 'bigip_conflict')) throw err;
        // The record exists (perhaps with other data): replace it.
        await client.deleteDataGroupRecord(fullPath, record.name);
        await call(add);
      }
    },

    async deleteDataGroupRecord(fullPath, recordName) {
      assertRecordText(recordName, 'name');
      const path = `${DATA_GROUP}/${toUrlSegment(fullPath)}`;
      const { name } = createFields(fullPath);
      await idempotentRemove({
        method: 'PATCH',
        path: `${path}?options=${encodeURIComponent(`records delete { ${recordName} }`)}`,
        action: `delete record ${recordName} from data group ${fullPath}`,
        json: { name },
      });
    },

    async getRule(fullPath) {
      const path = `${RULE}/${toUrlSegment(fullPath)}`;
      return read({ path, action: `read iRule ${fullPath}` }, (json) => toIRule(json, fullPath));
    },

    async putRule(fullPath, source) {
      const json = { ...createFields(fullPath), apiAnonymous: source };
      try {
        await call({ method: 'POST', path: RULE, action: `create iRule ${fullPath}`, json });
      } catch (err) {
        if (!isBigIpError(err, 'bigip_conflict')) throw err;
        await call({
          method: 'PATCH',
          path: `${RULE}/${toUrlSegment(fullPath)}`,
          action: `update iRule ${fullPath}`,
          json: { apiAnonymous: source },
        });
      }
    },

    async getVirtual(fullPath) {
      const path = `${VIRTUAL}/${toUrlSegment(fullPath)}`;
      return read({ path, action: `read virtual server ${fullPath}` }, (json) => toVirtualServer(json, fullPath));
    },

    async setVirtualRules(fullPath, rules) {
      for (const rule of rules) assertFullPath(rule, 'iRule');
      await call({
        method: 'PATCH',
        path: `${VIRTUAL}/${toUrlSegment(fullPath)}`,
        action: `set the iRules of virtual server ${fullPath}`,
        json: { rules },
      });
    },

    async listHaDevices() {
      const answer = await call({
        method: 'GET',
        path: `${CM}/device`,
        action: 'list the devices of the trust domain',
      });
      return toHaDevices(answer.json);
    },

    async listDeviceGroups() {
      const answer = await call({ method: 'GET', path: `${CM}/device-group`, action: 'list device groups' });
      return toDeviceGroups(answer.json);
    },

    async listDeviceGroupMembers(groupFullPath) {
      const path = `${CM}/device-group/${toUrlSegment(groupFullPath)}/devices`;
      const answer = await call({ method: 'GET', path, action: `list the members of device group ${groupFullPath}` });
      return toGroupMembers(answer.json);
    },

    async getSyncStatus() {
      const c = { method: 'GET' as const, path: `${CM}/sync-status`, action: 'read the sync status' };
      const answer = await call(c);
      const status = toSyncStatus(answer.json);
      if (status === null) throw session.unexpected(c, answer.status, 'no status');
      return status;
    },

    async configSyncToGroup(group) {
      if (!GROUP_NAME.test(group))
        throw new CoreError('input_invalid', `device group name ${JSON.stringify(group.slice(0, 80))} is not valid`);
      await call({
        method: 'POST',
        path: `${CM}/config-sync`,
        action: `config-sync to-group ${group}`,
        json: { command: 'run', utilCmdArgs: `to-group ${group}` },
      });
    },

    async listVirtuals() {
      const answer = await call({
        method: 'GET',
        path: `${VIRTUAL}?expandSubcollections=true`,
        action: 'list virtual servers',
        cap: LIST_BODY_CAP,
      });
      return toVirtualServers(answer.json);
    },

    close: () => session.close(),
  };
  return client;
}
