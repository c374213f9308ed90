import { appendFileSync } from 'node:fs';

/** Module customization hook (runs off the main thread): records each resolved URL, changes nothing. */
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (process.env.MODULE_TRACE_FILE) appendFileSync(process.env.MODULE_TRACE_FILE, `${resolved.url}\n`);
  return resolved;
}
