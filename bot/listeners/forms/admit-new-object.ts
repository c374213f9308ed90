import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { isCoreError } from '../../../core/errors.ts';
import type { Parsed } from '../../modals/form-values.ts';
import { replyError } from '../../reply-error.ts';
import { type ListenerDeps, isListed, notAnAdmin } from '../deps.ts';

type SubmitArgs = AllMiddlewareArgs & SlackViewMiddlewareArgs<ViewSubmitAction>;

/**
 * The checks a form that creates a named object (a device, a profile) passes before its "working…" ack, each
 * answered inline on the name or the field at fault: the submitter is re-checked against SLACK_ADMINS (a
 * submission is its own request), the fields pass the core's rules, and no object has the name yet.
 * Returns what was parsed, or null once the form has been answered.
 */
export async function admitNewObject<T>(
  args: SubmitArgs,
  deps: ListenerDeps,
  form: {
    /** "device", "profile": in log lines and the "already exists" line. */
    what: string;
    nameBlock: string;
    parse: () => Parsed<T>;
    nameOf: (value: T) => string;
    /** The core's lookup by name; not_found means the name is free. */
    show: (name: string) => Promise<unknown>;
  },
): Promise<T | null> {
  const { ack, body } = args;
  const userId = body.user.id;
  const refuse = (errors: Record<string, string>) => ack({ response_action: 'errors', errors });
  if (!isListed(deps.admins, userId)) {
    deps.log.warn({ user: userId }, `slack ${form.what} form submitted by a user not in SLACK_ADMINS; refused`);
    await refuse({ [form.nameBlock]: notAnAdmin(deps.admins, 'plain') });
    return null;
  }
  const parsed = form.parse();
  if (!parsed.ok) {
    await refuse(parsed.errors);
    return null;
  }
  const name = form.nameOf(parsed.value);
  try {
    await form.show(name);
  } catch (err) {
    if (isCoreError(err) && err.code === 'not_found') return parsed.value;
    const text = replyError(err, deps.log, { what: `slack ${form.what} name check`, fields: { user: userId } });
    await refuse({ [form.nameBlock]: text });
    return null;
  }
  const article = /^[aeiou]/i.test(form.what) ? 'An' : 'A';
  await refuse({ [form.nameBlock]: `${article} ${form.what} named "${name}" already exists.` });
  return null;
}
