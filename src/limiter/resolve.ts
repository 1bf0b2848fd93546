// From what a user types to one cgroup: a container name, a runtime id or a
// unique prefix of one (like docker), or a cgroup path starting with '/'.
// References with control characters, NUL, '..' or (for names) '/' are
// rejected before anything is looked up. Pure: candidates come from a
// snapshot.

import type { Runtime, RuntimeConfig } from '../model/types.js';
import { printable } from '../util/format.js';
import { LimitError } from './api.js';
import { refused, validCgroupId } from './safety.js';
import { quote } from './units.js';

export interface Candidate {
  /** The cgroup path. */
  id: string;
  name: string;
  containerId: string | null;
  runtime: Runtime;
  /** The runtime's own record (docker's pause state and limits), where the runtime keeps one. */
  runtimeConfig?: RuntimeConfig | null;
}

export type ParsedRef = { kind: 'path'; id: string } | { kind: 'name'; text: string };

/** Checks a reference's form; LimitError (exit 2) when malformed or the root. */
export function parseRef(ref: string): ParsedRef {
  if (ref === '') throw new LimitError('the container reference is empty', 2, 'invalid');
  if (ref.length > 4096) throw new LimitError('the container reference is too long', 2, 'invalid');
  if (/[\x00-\x1f\x7f]/.test(ref)) {
    throw new LimitError(`container reference ${quote(ref)} contains a control character or NUL`, 2, 'invalid');
  }
  if (ref.startsWith('/')) {
    const id = validCgroupId(ref);
    if (id === '/') throw refused("refusing the root cgroup '/': its limits would apply to the whole machine");
    return { kind: 'path', id };
  }
  if (ref.includes('/')) {
    throw new LimitError(
      `container reference ${quote(ref)}: a name or id cannot contain '/' (a cgroup path starts with '/')`,
      2,
      'invalid',
    );
  }
  if (ref.includes('..')) {
    throw new LimitError(`container reference ${quote(ref)}: a name or id cannot contain '..'`, 2, 'invalid');
  }
  return { kind: 'name', text: ref };
}

function describe(c: Candidate): string {
  return c.name === c.id ? c.id : `${printable(c.name)} (${c.id})`;
}

function ambiguous(ref: string, matches: Candidate[], how: string): LimitError {
  const shown = matches.slice(0, 10).map(describe);
  const more = matches.length > 10 ? `, and ${matches.length - 10} more` : '';
  return new LimitError(
    `container reference ${quote(ref)} is ambiguous: ${how} ${matches.length} containers: ${shown.join(', ')}${more}; give more of the id or the cgroup path`,
    2,
    'ambiguous',
  );
}

/**
 * Finds the one candidate a reference means. Order as docker: an exact id,
 * then an exact name, then a unique id prefix. A path matches the cgroup path.
 */
export function resolveRef(ref: string, candidates: readonly Candidate[]): Candidate {
  const parsed = parseRef(ref);
  if (parsed.kind === 'path') {
    const c = candidates.find((x) => x.id === parsed.id);
    if (!c) throw new LimitError(`no cgroup ${parsed.id} on this host`, 2, 'not-found');
    return c;
  }
  const text = parsed.text;
  const byId = candidates.filter((c) => c.containerId === text);
  if (byId.length === 1) return byId[0];
  if (byId.length > 1) throw ambiguous(ref, byId, 'the id of');
  const byName = candidates.filter((c) => c.name === text);
  if (byName.length === 1) return byName[0];
  if (byName.length > 1) throw ambiguous(ref, byName, 'the name of');
  if (/^[0-9a-f]+$/.test(text)) {
    const byPrefix = candidates.filter((c) => c.containerId !== null && c.containerId.startsWith(text));
    if (byPrefix.length === 1) return byPrefix[0];
    if (byPrefix.length > 1) throw ambiguous(ref, byPrefix, 'a prefix of the ids of');
  }
  throw new LimitError(
    `no container named ${quote(ref)} or with an id starting so (tstop snapshot lists them; a cgroup path starts with '/')`,
    2,
    'not-found',
  );
}
