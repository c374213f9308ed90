import dnsPacket from 'dns-packet';

/**
 * RFC 2136 UPDATE and plain query messages, encoded by dns-packet. dns-packet writes the header, the zone
 * section and the records; the one thing it cannot say is class NONE (254), which RFC 2136 §2.5.4 uses to
 * delete one value of an RRset, so a deletion's class is set on the record's encoded bytes.
 */

export interface TxtChange {
  op: 'add' | 'delete';
  /** Owner name, e.g. `_acme-challenge.example.com`. */
  name: string;
  value: string;
}

const OPCODE_UPDATE = 5;
const CLASS_NONE = 254;
/** TTL of the records added: short, the CA asks once and the record goes right after. */
export const UPDATE_TXT_TTL = 60;

/** One record's wire bytes, without compression (dns-packet never compresses). */
function encodeRecord(change: TxtChange): Buffer {
  const packet = dnsPacket.encode({
    type: 'query',
    id: 0,
    answers: [
      {
        type: 'TXT',
        name: change.name,
        class: 'IN',
        ttl: change.op === 'add' ? UPDATE_TXT_TTL : 0,
        data: [Buffer.from(change.value, 'utf8')],
      },
    ],
  });
  const record = Buffer.from(packet.subarray(12));
  if (change.op === 'delete') {
    // The owner name ends at the first zero-length label; TYPE (2 bytes) follows, then CLASS.
    let at = 0;
    while (record[at] !== 0) at += (record[at] ?? 0) + 1;
    record.writeUInt16BE(CLASS_NONE, at + 3);
  }
  return record;
}

/** An UPDATE of `zone` (zone section: the zone's SOA) with the given TXT additions and deletions. */
export function buildTxtUpdate(id: number, zone: string, changes: readonly TxtChange[]): Buffer {
  const head = dnsPacket.encode({
    type: 'query',
    id,
    flags: OPCODE_UPDATE << 11,
    questions: [{ type: 'SOA', name: zone, class: 'IN' }],
  });
  const message = Buffer.concat([head, ...changes.map(encodeRecord)]);
  message.writeUInt16BE(changes.length, 8); // NSCOUNT is UPCOUNT in an UPDATE
  return message;
}

/** A non-recursive question, e.g. the SOA of a name (its zone's SOA comes back in the answer or authority). */
export function buildQuery(id: number, name: string, type: 'SOA' | 'TXT' | 'CNAME'): Buffer {
  return dnsPacket.encode({ type: 'query', id, flags: 0, questions: [{ type, name, class: 'IN' }] });
}
