import { describe, expect, it } from 'vitest';
import { canonicalName, signMessage, splitTsig, tsigErrorName, verifyResponse } from '../../core/dns/tsig.ts';
import { buildTxtUpdate } from '../../core/dns/update-message.ts';
import type { TsigAlgorithm } from '../../core/domain/dns-publisher.ts';

/**
 * Known vectors from BIND 9.18 itself. `captured`: the UPDATE `nsupdate -y <alg>:<key>:<secret>` sent (adding
 * `_acme-challenge.example.test. 60 TXT "vector-value"`), caught by a UDP listener. Our signing of the same
 * message at the same time must give the same bytes: the MAC and the whole TSIG record.
 */
const NSUPDATE_VECTORS: { algorithm: TsigAlgorithm; keyName: string; secret: string; captured: string }[] = [
  {
    algorithm: 'hmac-sha256',
    keyName: 'vector-key-256',
    secret: 'AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=',
    captured:
      '968f28000001000000010001076578616d706c65047465737400000600010f5f61636d652d6368616c6c656e6765c00c001000010000003c000d0c766563746f722d76616c75650e766563746f722d6b65792d3235360000fa00ff00000000003d0b686d61632d7368613235360000006b12f921012c002005f41940e0cf7a7072b0a4e1fb16a483ac64d297e88cf22abc90750c7e8e0390968f00000000',
  },
  {
    algorithm: 'hmac-sha384',
    keyName: 'vector-key-384',
    secret: 'AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIC',
    captured:
      'eae828000001000000010001076578616d706c65047465737400000600010f5f61636d652d6368616c6c656e6765c00c001000010000003c000d0c766563746f722d76616c75650e766563746f722d6b65792d3338340000fa00ff00000000004d0b686d61632d7368613338340000006b12f921012c003055ace40810d2ce45e128330644de1148ee6f2da1626fc1c008909165c942ed56f08ddfbb365711901cbcf07b70c2e151eae800000000',
  },
  {
    algorithm: 'hmac-sha512',
    keyName: 'vector-key-512',
    secret: 'AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw==',
    captured:
      'f51b28000001000000010001076578616d706c65047465737400000600010f5f61636d652d6368616c6c656e6765c00c001000010000003c000d0c766563746f722d76616c75650e766563746f722d6b65792d3531320000fa00ff00000000005d0b686d61632d7368613531320000006b12f921012c00402f3341c6582ca92d48fe783192e3889f4539ce8c1755a77462530750aecc15e6b59b110c552799f3719367dd5487367d96ef2690bf13a0966971ec83772c4daaf51b00000000',
  },
];

/** A signed answer BIND 9.18 sent to one of our signed UPDATEs (key `testkey`, hmac-sha256). */
const BIND_ANSWER = {
  secret: '8HMYx/ycROfPZX8c3/lmS+C9OtHTQyhXwWcXL9Io510=',
  now: 1796405537,
  requestMac: 'a53ee7150097502d4c587536ab0a8d67098145c56df686615c49d1868d38b79b',
  answer:
    '1092a8000001000000000001076578616d706c650474657374000006000107746573746b65790000fa00ff00000000003d0b686d61632d7368613235360000006b12f921012c0020415f8e4eed15af7d8db7227bc54308b262119bca7889bd83d1be92538d74ef71109200000000',
};

describe('TSIG signing (RFC 8945) matches BIND nsupdate byte for byte', () => {
  it.each(NSUPDATE_VECTORS)('$algorithm', ({ algorithm, keyName, secret, captured }) => {
    const wire = Buffer.from(captured, 'hex');
    const split = splitTsig(wire);
    expect(split).not.toBeNull();
    const { unsigned, tsig } = split!;
    expect(tsig).toMatchObject({ keyName, algorithm, fudge: 300, error: 0 });
    const signed = signMessage(
      unsigned,
      { name: keyName, algorithm, secret: Buffer.from(secret, 'base64') },
      tsig.timeSigned,
    );
    expect(signed.mac.toString('hex')).toBe(tsig.mac.toString('hex'));
    expect(signed.message.toString('hex')).toBe(captured);
  });

  it('a different secret gives a different MAC', () => {
    const v = NSUPDATE_VECTORS[0]!;
    const { unsigned, tsig } = splitTsig(Buffer.from(v.captured, 'hex'))!;
    const signed = signMessage(
      unsigned,
      { name: v.keyName, algorithm: v.algorithm, secret: Buffer.alloc(32, 9) },
      tsig.timeSigned,
    );
    expect(signed.mac.equals(tsig.mac)).toBe(false);
  });
});

describe('verifying a signed answer', () => {
  const key = { name: 'testkey', algorithm: 'hmac-sha256' as const, secret: Buffer.from(BIND_ANSWER.secret, 'base64') };
  const answer = Buffer.from(BIND_ANSWER.answer, 'hex');
  const requestMac = Buffer.from(BIND_ANSWER.requestMac, 'hex');

  it.each([
    { case: "BIND's own answer, on time", mutate: (b: Buffer) => b, now: BIND_ANSWER.now, expected: { ok: true } },
    {
      case: 'one byte of the answer changed (the RCODE)',
      mutate: (b: Buffer) => {
        const c = Buffer.from(b);
        c[3] = (c[3]! & 0xf0) | 5;
        return c;
      },
      now: BIND_ANSWER.now,
      expected: { ok: false, reason: 'bad-mac' },
    },
    {
      case: 'checked 301 s later than signed',
      mutate: (b: Buffer) => b,
      now: BIND_ANSWER.now + 301,
      expected: { ok: false, reason: 'bad-time' },
    },
    {
      case: 'checked 300 s earlier (inside fudge)',
      mutate: (b: Buffer) => b,
      now: BIND_ANSWER.now - 300,
      expected: { ok: true },
    },
  ])('$case', ({ mutate, now, expected }) => {
    expect(verifyResponse(mutate(answer), requestMac, key, now)).toMatchObject(expected);
  });

  it('is not fooled by the answer to another request (the request MAC is covered)', () => {
    expect(verifyResponse(answer, Buffer.alloc(32), key, BIND_ANSWER.now)).toMatchObject({
      ok: false,
      reason: 'bad-mac',
    });
  });

  it('rejects a signature by another key', () => {
    expect(verifyResponse(answer, requestMac, { ...key, name: 'otherkey' }, BIND_ANSWER.now)).toMatchObject({
      ok: false,
      reason: 'wrong-key',
    });
    expect(verifyResponse(answer, requestMac, { ...key, secret: Buffer.alloc(32) }, BIND_ANSWER.now)).toMatchObject({
      ok: false,
      reason: 'bad-mac',
    });
  });

  it('an unsigned answer is not accepted', () => {
    const { unsigned } = splitTsig(answer)!;
    expect(verifyResponse(unsigned, requestMac, key, BIND_ANSWER.now)).toMatchObject({ ok: false, reason: 'unsigned' });
  });

  it.each([
    [16, 'BADSIG'],
    [17, 'BADKEY'],
    [18, 'BADTIME'],
  ])("reports the server's TSIG error %i as %s, before any MAC check", (code, name) => {
    // The server's refusal: its TSIG record carries the error and an empty MAC (RFC 8945 §5.3.2).
    const { unsigned } = splitTsig(answer)!;
    const refusal = signMessage(unsigned, key, BIND_ANSWER.now).message;
    const rdataEnd = refusal.length;
    refusal.writeUInt16BE(code, rdataEnd - 4);
    expect(tsigErrorName(code)).toBe(name);
    expect(verifyResponse(refusal, requestMac, key, BIND_ANSWER.now)).toMatchObject({
      ok: false,
      reason: 'server-error',
      error: code,
    });
  });
});

describe('wire details', () => {
  it.each([
    ['Example.TEST.', '076578616d706c650474657374' + '00'],
    ['example.test', '076578616d706c650474657374' + '00'],
    ['.', '00'],
  ])('canonical name of %s', (name, hex) => {
    expect(canonicalName(name).toString('hex')).toBe(hex);
  });

  it('encodes an addition as class IN with TTL 60, a deletion of one value as class NONE with TTL 0 (RFC 2136 §2.5)', () => {
    const message = buildTxtUpdate(7, 'example.test', [
      { op: 'add', name: '_acme-challenge.example.test', value: 'a' },
      { op: 'delete', name: '_acme-challenge.example.test', value: 'a' },
    ]);
    expect(message.readUInt16BE(2) >> 11).toBe(5); // opcode UPDATE
    expect(message.readUInt16BE(4)).toBe(1); // ZOCOUNT
    expect(message.readUInt16BE(8)).toBe(2); // UPCOUNT
    const owner = Buffer.concat([canonicalName('_acme-challenge.example.test')]);
    const records = message.subarray(12 + canonicalName('example.test').length + 4);
    const add = records.subarray(0, owner.length + 10 + 2);
    const del = records.subarray(add.length);
    expect(add.subarray(owner.length).toString('hex')).toBe('0010' + '0001' + '0000003c' + '0002' + '0161');
    expect(del.subarray(owner.length).toString('hex')).toBe('0010' + '00fe' + '00000000' + '0002' + '0161');
  });
});
