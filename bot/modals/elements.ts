import type { types } from '@slack/bolt';
import { clip } from '../blocks/message.ts';

/** The action id of every input in the admin forms: one input per block, so the block id names the field. */
export const VALUE = 'value';

/** Plain text within Slack's 75-character limit for labels and options. */
export const plain = (text: string): types.PlainTextElement => ({
  type: 'plain_text',
  text: clip(text, 75),
  emoji: true,
});

export function input(
  blockId: string,
  label: string,
  element: types.InputBlock['element'],
  opts: { optional?: boolean; hint?: string } = {},
): types.InputBlock {
  return {
    type: 'input',
    block_id: blockId,
    label: plain(label),
    element,
    ...(opts.optional ? { optional: true } : {}),
    ...(opts.hint ? { hint: { type: 'plain_text', text: clip(opts.hint, 150) } } : {}),
  };
}

export function textInput(opts: {
  initial?: string | undefined;
  placeholder?: string;
  max: number;
  multiline?: boolean;
}): types.PlainTextInput {
  return {
    type: 'plain_text_input',
    action_id: VALUE,
    max_length: opts.max,
    ...(opts.multiline ? { multiline: true } : {}),
    ...(opts.initial ? { initial_value: opts.initial } : {}),
    ...(opts.placeholder ? { placeholder: plain(opts.placeholder) } : {}),
  };
}

/** A modal with a title clipped to Slack's 24 characters; no submit button when `submit` is absent. */
export function modal(
  callbackId: string,
  title: string,
  blocks: types.KnownBlock[],
  opts: { submit?: string; close?: string; metadata?: string } = {},
): types.ModalView {
  return {
    type: 'modal',
    callback_id: callbackId,
    title: { type: 'plain_text', text: clip(title, 24) },
    close: { type: 'plain_text', text: opts.close ?? 'Cancel' },
    ...(opts.submit ? { submit: { type: 'plain_text', text: opts.submit } } : {}),
    ...(opts.metadata !== undefined ? { private_metadata: opts.metadata } : {}),
    blocks,
  };
}
