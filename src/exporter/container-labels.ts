// container_label_<name>: the runtime's labels on every series of a
// container, as cAdvisor exports them by default (--store_container_labels),
// so the compose project or a team label can be queried in Prometheus. Names
// are sanitized as cAdvisor does (every character outside [a-zA-Z0-9_]
// becomes "_"). Labels come from inside the container's configuration, which
// anyone who can start a container controls: a cap on their number and size
// keeps one container from bloating every scrape.

import { ExpectedError } from '../util/errors.js';

/** Which runtime labels become container_label_*: every one (cAdvisor's default), none, or the keys listed. */
export type ContainerLabelPolicy = { kind: 'all' } | { kind: 'none' } | { kind: 'only'; keys: ReadonlySet<string> };

export const ALL_CONTAINER_LABELS: ContainerLabelPolicy = { kind: 'all' };

/** At most this many labels of one container are exported (in key order). */
export const MAX_CONTAINER_LABELS = 64;
/** A longer value is not exported (a label value is repeated on every series of the container). */
export const MAX_CONTAINER_LABEL_VALUE_BYTES = 1024;

export const CONTAINER_LABEL_PREFIX = 'container_label_';

export class ContainerLabelsError extends ExpectedError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** "all", "none" or a comma-separated list of label keys (com.docker.compose.project,team). */
export function parseContainerLabelPolicy(text: string): ContainerLabelPolicy {
  const t = text.trim();
  if (t === 'all') return ALL_CONTAINER_LABELS;
  if (t === 'none') return { kind: 'none' };
  const keys = t.split(',').map((k) => k.trim());
  const bad = keys.find((k) => !/^[A-Za-z0-9_.\-/]{1,253}$/.test(k));
  if (bad !== undefined) {
    throw new ContainerLabelsError(
      `'${text}' is not all, none or a comma-separated list of label keys ('${bad}' is not a label key)`,
    );
  }
  return { kind: 'only', keys: new Set(keys) };
}

export function sanitizeLabelName(key: string): string {
  return CONTAINER_LABEL_PREFIX + key.replace(/[^a-zA-Z0-9_]/g, '_');
}

/**
 * The container_label_* pairs of one container under the policy, sorted by
 * name (cAdvisor's order puts them before id, image and name). Two keys that
 * sanitize to one name: the first in key order wins.
 */
export function containerLabelPairs(labels: Record<string, string>, policy: ContainerLabelPolicy): [string, string][] {
  if (policy.kind === 'none') return [];
  const out: [string, string][] = [];
  const seen = new Set<string>();
  for (const key of Object.keys(labels).sort()) {
    if (out.length >= MAX_CONTAINER_LABELS) break;
    if (key === '' || (policy.kind === 'only' && !policy.keys.has(key))) continue;
    const value = labels[key];
    if (Buffer.byteLength(value) > MAX_CONTAINER_LABEL_VALUE_BYTES) continue;
    const name = sanitizeLabelName(key);
    if (seen.has(name)) continue;
    seen.add(name);
    out.push([name, value]);
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
