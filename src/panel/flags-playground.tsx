import { preview } from '../base/text.js';
import {
  ATTRIBUTE_NAME,
  conditionText,
  type FlagContext,
  type FlagSet,
  type VariantPayload,
} from '@config-bot/client/flags';
import type { Explanation } from '@config-bot/client/flags';
import type { FieldIssue } from './flags-edit.js';
import { words } from './flags-edit.js';

/** The playground's form as typed (query parameters). */
export interface PlaygroundInput {
  user: string;
  roles: string;
  server: string;
  env: string;
  attributes: string;
  at: string;
}

export const PLAYGROUND_FIELDS = ['user', 'roles', 'server', 'env', 'attributes', 'at'] as const;

/** What the playground answers: the engine's explanation, and the variant's payload. */
export interface PlaygroundResult {
  context: FlagContext;
  explanation: Explanation;
  payload?: VariantPayload;
}

/**
 * Reads the form into a flag context, every problem named by its field: attributes one
 * `key=value` a line (commas also separate them, as /flag evaluate takes them).
 */
export function playgroundContext(
  input: PlaygroundInput,
  defaultEnv: string,
): { context: FlagContext; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const attributes: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const raw of input.attributes.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const at = line.indexOf('=');
    const key = at < 0 ? '' : line.slice(0, at).trim();
    if (!ATTRIBUTE_NAME.test(key))
      issues.push({ field: 'attributes', message: `${preview(line)} is not key=value with a valid key` });
    else if (Object.hasOwn(attributes, key))
      issues.push({ field: 'attributes', message: `${key} is given twice` });
    else attributes[key] = line.slice(at + 1).trim();
  }
  let now: Date | undefined;
  if (input.at) {
    const t = Date.parse(input.at);
    if (Number.isNaN(t) || !/[zZ]|[+-]\d\d:?\d\d$/.test(input.at))
      issues.push({
        field: 'at',
        message: 'must be an ISO 8601 date-time with a zone, like 2026-05-01T09:00:00Z',
      });
    else now = new Date(t);
  }
  const roles = words(input.roles);
  const context: FlagContext = {
    ...(input.user ? { userId: input.user } : {}),
    ...(input.server ? { guildId: input.server } : {}),
    ...(roles.length ? { roles } : {}),
    environment: input.env || defaultEnv,
    attributes,
    ...(now ? { now } : {}),
  };
  return { context, issues };
}

/** The flag for this context, by the engine the applications use (explain: not counted). */
export function evaluateFor(set: FlagSet, name: string, context: FlagContext): PlaygroundResult {
  const explanation = set.explain(name, context);
  const payload = explanation.variant
    ? set.get(name)?.variants.find((v) => v.name === explanation.variant)?.payload
    : undefined;
  return { context, explanation, ...(payload ? { payload } : {}) };
}

/** The answer: on or off, the variant and its payload, the rule that decided and what it saw. */
export function PlaygroundAnswer({ result }: { result: PlaygroundResult }) {
  const e = result.explanation;
  return (
    <div class={`card fl-answer ${e.enabled ? 'fl-is-on' : 'fl-is-off'}`} aria-live="polite">
      <p class="fl-verdict">
        <strong>{e.enabled ? 'On' : 'Off'}</strong> for this context
        {e.variant && (
          <>
            {' '}
            · variant <code>{e.variant}</code>
          </>
        )}
      </p>
      <dl class="fl-facts">
        <dt>Why</dt>
        <dd>{e.message}</dd>
        <dt>Rule</dt>
        <dd>
          <code>{e.reason}</code>
        </dd>
        {result.payload && (
          <>
            <dt>Payload</dt>
            <dd>
              {result.payload.type}: <code class="fl-payload">{result.payload.value}</code>
            </dd>
          </>
        )}
        {e.condition && (
          <>
            <dt>Condition</dt>
            <dd>
              {e.condition.index + 1}: <code>{conditionText(e.condition)}</code>, seen{' '}
              {e.condition.actual === undefined ? 'nothing' : <code>{e.condition.actual}</code>}
            </dd>
          </>
        )}
        {e.rollout && (
          <>
            <dt>Rollout</dt>
            <dd>
              {e.rollout.percentage}% by {e.rollout.stickiness}, group {e.rollout.group}
              {e.rollout.bucket !== undefined && `, bucket ${e.rollout.bucket}`}
            </dd>
          </>
        )}
        {e.prerequisite && (
          <>
            <dt>Prerequisite</dt>
            <dd>
              {e.prerequisite.name}: {e.prerequisite.message}
            </dd>
          </>
        )}
        <dt>Environment</dt>
        <dd>{result.context.environment}</dd>
      </dl>
      <p class="hint">Not counted in the evaluation statistics.</p>
    </div>
  );
}
