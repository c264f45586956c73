import { messageOf } from '../errors.js';

/**
 * Maps Creatify's free-text `failed_reason` to a small, fixed set of classes so `failures_total{reason_class}`
 * stays bounded whatever text upstream invents. Pure: no I/O.
 */

export interface FailureClassRule {
  /** The label value reported, snake_case. */
  class: string;
  /** A JavaScript regular expression source, matched case-insensitively anywhere in the reason. */
  pattern: string;
}

export interface CompiledFailureRule extends FailureClassRule {
  regex: RegExp;
}

/** Reported when no rule matches a non-empty reason. */
export const OTHER_FAILURE_CLASS = 'other';
/** Reported when the reason is null or blank (a failed status without a reason). */
export const UNKNOWN_FAILURE_CLASS = 'unknown';

/**
 * Order matters: the first match wins, so specific causes come before generic words ("video", "rejected") that
 * also appear in their messages. A class may appear twice to give a word a lower priority.
 */
export const DEFAULT_FAILURE_CLASSES: readonly FailureClassRule[] = [
  { class: 'face_not_detected', pattern: String.raw`\bfaces?\b|facial` },
  { class: 'credits', pattern: String.raw`credit|quota|insufficient\s+(balance|funds)|payment|billing|subscription` },
  { class: 'moderation', pattern: String.raw`moderat|content\s+polic|polic(y|ies)\s+violat|inappropriate|nsfw|prohibited|banned` },
  { class: 'timeout', pattern: String.raw`\btime[ds]?\s*-?\s*out\b|deadline|took\s+too\s+long` },
  { class: 'internal', pattern: String.raw`internal|server\s+error|something\s+went\s+wrong|unexpected\s+error|exception` },
  { class: 'audio', pattern: String.raw`\baudio|\bvoice|\bspeech|\bsound|\btts\b` },
  { class: 'video_input', pattern: String.raw`video|resolution|frame\s*rate|\bfps\b|codec|unsupported\s+(format|file)|invalid\s+(file|format|media|url)|aspect\s+ratio` },
  { class: 'moderation', pattern: String.raw`reject` },
];

const CLASS_NAME = /^[a-z][a-z0-9_]*$/;

/** Compiles and checks every rule; throws an Error naming the first bad class or pattern (for config validation). */
export function compileFailureRules(rules: readonly FailureClassRule[]): CompiledFailureRule[] {
  return rules.map((rule, index) => {
    if (!CLASS_NAME.test(rule.class)) {
      throw new Error(`failure class rule ${index}: class "${rule.class}" must be snake_case (${CLASS_NAME.source})`);
    }
    return { ...rule, regex: compilePattern(rule, index) };
  });
}

// Config is loaded once, so the set of patterns is small and fixed: memoising avoids a RegExp per failure.
const compiled = new Map<string, RegExp>();

function compilePattern(rule: FailureClassRule, index: number): RegExp {
  const cached = compiled.get(rule.pattern);
  if (cached) return cached;
  let regex: RegExp;
  try {
    regex = new RegExp(rule.pattern, 'i');
  } catch (err) {
    const why = messageOf(err);
    throw new Error(`failure class rule ${index} ("${rule.class}"): pattern "${rule.pattern}" is not a valid regular expression: ${why}`);
  }
  compiled.set(rule.pattern, regex);
  return regex;
}

/**
 * The class of a failure reason: the first rule whose pattern matches, `other` when none does, `unknown` for a
 * null or blank reason. Throws like compileFailureRules on an invalid pattern, which config validation catches first.
 */
export function classifyFailure(reason: string | null, rules: readonly FailureClassRule[]): string {
  if (reason === null || reason.trim() === '') return UNKNOWN_FAILURE_CLASS;
  for (const [index, rule] of rules.entries()) {
    if (compilePattern(rule, index).test(reason)) return rule.class;
  }
  return OTHER_FAILURE_CLASS;
}

/** Every class the rules can report, for pre-initialising counters so the first failure shows in increase(). */
export function failureClassNames(rules: readonly FailureClassRule[]): string[] {
  return [...new Set([...rules.map((rule) => rule.class), OTHER_FAILURE_CLASS, UNKNOWN_FAILURE_CLASS])];
}
