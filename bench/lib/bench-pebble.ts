import { startPebble } from '../../tests/support/pebble.ts';
import { freeTcpPort } from '../../tests/support/free-port.ts';

/**
 * Pebble as the benchmarks use it: no nonce rejections, no authorization reuse, no validation sleep, so what is
 * measured is our side. The HTTP-01 port is BENCH_HTTP_PORT when set (a responder started elsewhere), else free.
 */
export async function startBenchPebble(): Promise<Awaited<ReturnType<typeof startPebble>>> {
  return startPebble({
    nonceReject: 0,
    authzReuse: 0,
    noSleep: true,
    httpPort: Number(process.env.BENCH_HTTP_PORT ?? (await freeTcpPort())),
    tlsPort: await freeTcpPort(),
  });
}
