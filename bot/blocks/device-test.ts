import type { types } from '@slack/bolt';
import type { DeviceTestResult, DeviceTestStage } from '../../core/domain/device.ts';
import { type BotMessage, context, escapeMrkdwn as e, section } from './message.ts';

/** The layers a connection test climbs, bottom up, as the core's DeviceTestStage names them. */
const LAYERS: readonly Exclude<DeviceTestStage, 'ok'>[] = ['url', 'dns', 'tcp', 'tls', 'credentials', 'api'];

export const LAYER_LABEL: Record<Exclude<DeviceTestStage, 'ok'>, string> = {
  url: 'URL',
  dns: 'DNS (name lookup)',
  tcp: 'TCP (connection)',
  tls: 'TLS (management certificate)',
  credentials: 'credentials (login)',
  api: 'iControl REST API',
};

/** One line per layer: passed, failed here, or not reached; so a person sees where to look. */
export function layerLadder(result: Pick<DeviceTestResult, 'ok' | 'stage'>): string {
  const failedAt = result.ok || result.stage === 'ok' ? LAYERS.length : LAYERS.indexOf(result.stage);
  return LAYERS.map((layer, i) => {
    const mark = i < failedAt ? ':white_check_mark:' : i === failedAt ? ':x:' : ':white_circle:';
    return `${mark} ${LAYER_LABEL[layer]}`;
  }).join('\n');
}

/** The failed layer as a person reads it ("TLS (management certificate)"); the result's stage otherwise. */
export function layerName(stage: DeviceTestStage): string {
  return stage === 'ok' ? 'ok' : LAYER_LABEL[stage];
}

export function deviceTestBlocks(name: string, result: DeviceTestResult): types.KnownBlock[] {
  const headline = result.ok
    ? `:large_green_circle: *${e(name)}*: connection ok — ${e(result.message)}`
    : `:red_circle: *${e(name)}*: the ${e(layerName(result.stage))} check failed — ${e(result.message)}`;
  return [
    section(headline),
    section(layerLadder(result)),
    context(
      result.ok
        ? 'Login and device-info succeeded.'
        : 'Layers below the failed one passed; those above were not reached.',
    ),
  ];
}

export function deviceTestMessage(name: string, result: DeviceTestResult): BotMessage {
  const text = result.ok ? `${e(name)}: connection ok` : `${e(name)}: ${e(layerName(result.stage))} check failed`;
  return { text, blocks: deviceTestBlocks(name, result) };
}

export function deviceTestingMessage(name: string): BotMessage {
  return {
    text: `Testing ${e(name)}…`,
    blocks: [section(`:hourglass_flowing_sand: Testing the connection to *${e(name)}* (DNS, TCP, TLS, login, API)…`)],
  };
}
