/**
 * What the CA itself saw, read from Pebble's log (`Added order "<id>"`, `Issued certificate serial <s> for
 * order <id>`): the independent count of orders and issuances that "at most one extra order" and "exactly one
 * certificate" are checked against, whatever our database says.
 */
import { readFileSync } from 'node:fs';
import type { PebbleHandle } from '../../tests/support/pebble.ts';
import { sleep } from './net.ts';

export interface CaActivity {
  orders: string[];
  issued: { serial: string; order: string }[];
}

export async function caActivity(pebble: PebbleHandle): Promise<CaActivity> {
  // The log is appended asynchronously by the harness; give the last lines a moment to land.
  await sleep(150);
  const text = readFileSync(pebble.logFile, 'utf8');
  const orders = [...text.matchAll(/Added order "([^"]+)" to the db/g)].map((m) => m[1]!);
  const issued = [...text.matchAll(/Issued certificate serial ([0-9a-fA-F]+) for order (\S+)/g)].map((m) => ({
    serial: m[1]!.toLowerCase(),
    order: m[2]!,
  }));
  return { orders, issued };
}

/** What happened at the CA between two readings. */
export function since(before: CaActivity, after: CaActivity): CaActivity {
  return { orders: after.orders.slice(before.orders.length), issued: after.issued.slice(before.issued.length) };
}

/** The order id in an order URL (`…/my-order/<id>`). */
export function orderId(orderUrl: string | null | undefined): string | null {
  return orderUrl ? (orderUrl.split('/').pop() ?? null) : null;
}
