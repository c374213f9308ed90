/**
 * F5-shaped errors (`reference/bigip-icontrol.md` §7). `/mgmt/tm` answers `{code,message,errorStack:[],apiError}`;
 * `/mgmt/shared` (restjavad) answers `{code,message,referer,restOperationId,kind:":resterrorresponse"}`. The
 * request pipeline fills in `referer` and `restOperationId` when it renders a {@link SimError}.
 */

export type ErrorShape = 'tm' | 'shared';

export interface SimErrorOptions {
  shape?: ErrorShape;
  /** `/mgmt/tm` only; default 3 (an MCP validation error). */
  apiError?: number;
  /** Answer this HTML instead of JSON (e.g. Apache's 401 page). */
  html?: string;
  /** Extra fields for a shared-shape body (e.g. `originalRequestBody`). */
  extra?: Record<string, unknown>;
  headers?: Record<string, string>;
}

export class SimError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly opts: SimErrorOptions = {},
  ) {
    super(message);
    this.name = 'SimError';
  }
}

export function tmError(status: number, message: string, apiError = 3): SimError {
  return new SimError(status, message, { shape: 'tm', apiError });
}

export function sharedError(status: number, message: string, extra?: Record<string, unknown>): SimError {
  return new SimError(status, message, { shape: 'shared', ...(extra ? { extra } : {}) });
}

/** `01020036:3: The requested <what> (<fullPath>) was not found.` */
export function notFound(what: string, fullPath: string): SimError {
  return tmError(404, `01020036:3: The requested ${what} (${fullPath}) was not found.`);
}

/** `01020066:3: The requested <what> (<fullPath>) already exists in partition <partition>.` */
export function alreadyExists(what: string, fullPath: string): SimError {
  const partition = fullPath.split('/')[1] ?? 'Common';
  return tmError(409, `01020066:3: The requested ${what} (${fullPath}) already exists in partition ${partition}.`);
}

/** A 400 for a body the device would refuse at validation (generic MCP "Values … specified" code). */
export function badValue(message: string): SimError {
  return tmError(400, `01070712:3: ${message}`);
}

export const INVALID_JSON = 'Found invalid JSON body in the request.';

/** The object kinds as MCP names them in messages. */
export const WHAT = {
  cert: 'Certificate File',
  key: 'Certificate Key File',
  profile: 'ClientSSL Profile',
  dataGroup: 'value list',
  rule: 'iRule',
  virtual: 'Virtual Server',
} as const;
