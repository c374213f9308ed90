/**
 * Shortens `text` to at most `max` characters, the last one an ellipsis when anything was cut. With
 * `quote`, the clipped text is JSON-quoted, for messages that show a value someone typed or a device sent
 * (the quotes make empty strings and stray whitespace visible; they do not count toward `max`).
 */
export function clip(text: string, max: number, opts: { quote?: boolean } = {}): string {
  const clipped = text.length <= max ? text : `${text.slice(0, max - 1)}…`;
  return opts.quote ? JSON.stringify(clipped) : clipped;
}
