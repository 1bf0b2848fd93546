// Recognise what a cgroup is from its path alone: which runtime made it, the
// container id or name the path carries, and the Kubernetes pod/QoS context.
// Pure: no file system access. docs/runtimes.md has the table of shapes.
//
// Decisions (see docs/runtimes.md for the reasoning):
// - A container is the cgroup whose LAST component carries the id
//   ("/docker/<id>", ".../docker-<id>.scope", ".../pod<uid>/<id>").
//   Cgroups below it ("/docker/<id>/init.scope", ".../libpod-<id>.scope/container")
//   are kind 'nested': same runtime and containerId, isContainer false, and
//   name = their path relative to the container's cgroup.
// - Monitors (podman/CRI-O conmon, lxc.monitor.<name>) are kind 'monitor':
//   runtime of their engine, containerId of the container they watch,
//   isContainer false.
// - A container inside a container (docker-in-docker, kind nodes) is
//   classified by its own, innermost, component; Kubernetes pod and QoS
//   cgroups found inside a container (kind) are classified as such too.
// - Exactly 64 lowercase hex digits make a container id; 63 or 65 digits or
//   uppercase hex do not.

import type { Runtime } from '../model/types.js';

export type { Runtime };

export const RUNTIMES: readonly Runtime[] = [
  'docker',
  'podman',
  'containerd',
  'crio',
  'kubernetes',
  'lxc',
  'systemd',
  'runc',
  'tstop',
  'cgroup',
] as const;

/** Kubernetes QoS class, spelt as the Kubernetes API does (kubectl describe pod). */
export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/**
 * What the cgroup is:
 * - container: the container's own cgroup (isContainer true)
 * - monitor: a runtime's per-container monitor (conmon, lxc.monitor)
 * - nested: a cgroup below a container's cgroup
 * - pod: a Kubernetes pod cgroup, or a podman pod slice
 * - slice: a grouping cgroup (kubepods, QoS tiers, /docker, *.slice, ...)
 * - unit: a systemd service/scope/mount/socket/swap unit
 * - other: anything else, including the root
 */
export type CgroupKind = 'container' | 'monitor' | 'nested' | 'pod' | 'slice' | 'unit' | 'other';

export interface KubernetesPathInfo {
  /** Pod UID with dashes (systemd's underscores turned back). */
  podUid: string | null;
  qosClass: QosClass | null;
}

export interface Classification {
  runtime: Runtime;
  /** 64-hex id for OCI runtimes; the container name for lxc and tstop; null when the path does not tell. */
  containerId: string | null;
  /** The display name the path alone tells, or null when only the runtime's state can tell. */
  name: string | null;
  /** Set for every cgroup at or below kubepods; null elsewhere. */
  kubernetes: KubernetesPathInfo | null;
  isContainer: boolean;
  kind: CgroupKind;
}

const HEX64 = '[0-9a-f]{64}';

// Container cgroups whose component alone names the runtime.
const CONTAINER_PATTERNS: ReadonlyArray<{ re: RegExp; runtime: Runtime }> = [
  { re: new RegExp(`^docker-(${HEX64})\\.scope$`), runtime: 'docker' },
  { re: new RegExp(`^libpod-(${HEX64})(?:\\.scope)?$`), runtime: 'podman' },
  { re: new RegExp(`^libpod-payload-(${HEX64})$`), runtime: 'podman' },
  { re: new RegExp(`^cri-containerd-(${HEX64})\\.scope$`), runtime: 'containerd' },
  { re: new RegExp(`^nerdctl-(${HEX64})\\.scope$`), runtime: 'containerd' },
  { re: new RegExp(`^crio-(${HEX64})(?:\\.scope)?$`), runtime: 'crio' },
];

const MONITOR_PATTERNS: ReadonlyArray<{ re: RegExp; runtime: Runtime }> = [
  { re: new RegExp(`^libpod-conmon-(${HEX64})(?:\\.scope)?$`), runtime: 'podman' },
  { re: new RegExp(`^crio-conmon-(${HEX64})(?:\\.scope)?$`), runtime: 'crio' },
];

const BARE_ID = new RegExp(`^${HEX64}$`);
/** runc's systemd driver default ("runc-<id>.scope") and any other "<prefix>-<64hex>.scope" (docker --cgroup-parent et al.). */
const RUNC_SCOPE = /^runc-(.+)\.scope$/;
const PREFIXED_ID_SCOPE = new RegExp(`^[^/]+-(${HEX64})\\.scope$`);

const KUBEPODS_SLICE = /^(?:.+-)?kubepods\.slice$/;
const QOS_SLICE = /^(?:.+-)?kubepods-(burstable|besteffort)\.slice$/;
const POD_SLICE = /^(?:.+-)?kubepods(?:-(burstable|besteffort))?-pod([0-9a-f][0-9a-f_]{7,})\.slice$/;
const POD_DIR = /^pod([0-9a-f][0-9a-f-]{7,})$/;

const PODMAN_POD_SLICE = new RegExp(`^machine-libpod_pod_(${HEX64})\\.slice$`);
const MACHINE_SCOPE = /^machine-(.+)\.scope$/;
const SYSTEMD_UNIT = /^.+\.(service|scope|slice|mount|socket|swap)$/;

const LXC_PAYLOAD = /^lxc\.payload\.(.+)$/;
const LXC_MONITOR = /^lxc\.monitor\.(.+)$/;
const TSTOP_SCOPE = /^tstop-(.+)\.scope$/;

interface Step {
  kind: CgroupKind;
  runtime: Runtime;
  containerId: string | null;
  name: string | null;
  kubernetes: KubernetesPathInfo | null;
}

/** Split a cgroup path into components; tolerant of doubled and trailing slashes. */
export function cgroupPathComponents(id: string): string[] {
  return id.split('/').filter((c) => c.length > 0 && c !== '.');
}

/** "/a//b/" -> "/a/b"; "" -> "/". */
export function normalizeCgroupPath(id: string): string {
  return '/' + cgroupPathComponents(id).join('/');
}

function qosFromSlice(word: string | undefined): QosClass {
  if (word === 'burstable') return 'Burstable';
  if (word === 'besteffort') return 'BestEffort';
  return 'Guaranteed';
}

/** systemd escapes "-" in unit names as "\x2d" (and other bytes likewise). */
export function unescapeSystemdName(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function step(
  kind: CgroupKind,
  runtime: Runtime,
  containerId: string | null,
  name: string | null,
  kubernetes: KubernetesPathInfo | null,
): Step {
  return { kind, runtime, containerId, name, kubernetes };
}

/** Classify one component given what its ancestors were. */
function classifyComponent(comp: string, parent: Step | null, parentComp: string | null): Step {
  const inherited = parent?.kubernetes ?? null;
  // A container's Kubernetes context is its pod's; a container that is not a
  // pod's direct child (dind inside a pod) is not that pod's container.
  const podContext = parent !== null && parent.kind === 'pod' && parent.runtime === 'kubernetes' ? inherited : null;

  for (const { re, runtime } of CONTAINER_PATTERNS) {
    const m = re.exec(comp);
    if (m) return step('container', runtime, m[1], null, podContext);
  }
  for (const { re, runtime } of MONITOR_PATTERNS) {
    const m = re.exec(comp);
    if (m) return step('monitor', runtime, m[1], 'conmon', podContext);
  }

  if (BARE_ID.test(comp)) {
    if (podContext !== null) return step('container', 'kubernetes', comp, null, podContext);
    if (parentComp === 'docker') return step('container', 'docker', comp, null, null);
    if (parentComp === 'libpod_parent') return step('container', 'podman', comp, null, null);
    // Some OCI container whose engine the path does not name (ECS, ctr,
    // runc with a custom cgroupsPath): the runc state can tell more.
    return step('container', 'runc', comp, null, null);
  }

  // Kubernetes hierarchy: kubepods, QoS tier, pod.
  let m = POD_SLICE.exec(comp);
  if (m) {
    return step('pod', 'kubernetes', null, null, { podUid: m[2].replace(/_/g, '-'), qosClass: qosFromSlice(m[1]) });
  }
  m = QOS_SLICE.exec(comp);
  if (m) return step('slice', 'kubernetes', null, comp, { podUid: null, qosClass: qosFromSlice(m[1]) });
  if (KUBEPODS_SLICE.test(comp) || comp === 'kubepods') {
    return step('slice', 'kubernetes', null, comp, { podUid: null, qosClass: null });
  }
  const parentIsKubeGroup = parent !== null && parent.runtime === 'kubernetes' && parent.kind === 'slice';
  if (parentIsKubeGroup && parent.kubernetes !== null && parent.kubernetes.qosClass === null) {
    // cgroupfs driver: /kubepods/burstable, /kubepods/besteffort
    if (comp === 'burstable' || comp === 'besteffort') {
      return step('slice', 'kubernetes', null, comp, { podUid: null, qosClass: qosFromSlice(comp) });
    }
  }
  if (parentIsKubeGroup) {
    const pm = POD_DIR.exec(comp);
    if (pm) {
      const qos = parent.kubernetes?.qosClass ?? 'Guaranteed';
      return step('pod', 'kubernetes', null, null, { podUid: pm[1], qosClass: qos });
    }
  }

  // LXC (lxc >= 4: lxc.payload.<name>/lxc.monitor.<name>; older: /lxc/<name>, /lxc.payload/<name>).
  m = LXC_PAYLOAD.exec(comp);
  if (m) return step('container', 'lxc', m[1], m[1], null);
  m = LXC_MONITOR.exec(comp);
  if (m) return step('monitor', 'lxc', m[1], m[1], null);
  if (comp === 'lxc' || comp === 'lxc.payload' || comp === 'lxc.monitor' || comp === 'lxc.pivot') {
    return step('slice', 'lxc', null, comp, null);
  }
  if (parent !== null && parent.runtime === 'lxc' && parent.kind === 'slice' && parentComp !== null) {
    if (parentComp === 'lxc' || parentComp === 'lxc.payload') return step('container', 'lxc', comp, comp, null);
    if (parentComp === 'lxc.monitor') return step('monitor', 'lxc', comp, comp, null);
  }

  // tstop's own launches: /tstop/<name> (v1), /tstop.slice/tstop-<name>.scope (v2).
  if (comp === 'tstop' || comp === 'tstop.slice') return step('slice', 'tstop', null, comp, null);
  if (parentComp === 'tstop') return step('container', 'tstop', comp, comp, null);
  if (parentComp === 'tstop.slice') {
    const tm = TSTOP_SCOPE.exec(comp);
    if (tm) return step('container', 'tstop', tm[1], tm[1], null);
  }

  // podman's grouping cgroups.
  m = PODMAN_POD_SLICE.exec(comp);
  if (m) return step('pod', 'podman', null, comp, null);
  if (comp === 'libpod_parent') return step('slice', 'podman', null, comp, null);
  if (parentComp === 'libpod_parent' && comp === 'conmon') return step('monitor', 'podman', null, 'conmon', null);

  // docker's cgroupfs parent.
  if (comp === 'docker') return step('slice', 'docker', null, comp, inherited);

  // Other OCI scopes: runc's default systemd prefix, docker --cgroup-parent with another prefix.
  m = PREFIXED_ID_SCOPE.exec(comp);
  if (m) return step('container', 'runc', m[1], null, podContext);
  m = RUNC_SCOPE.exec(comp);
  if (m) return step('container', 'runc', m[1], null, podContext);

  // systemd-machined registers nspawn containers and VMs as machine-<name>.scope.
  if (parentComp === 'machine.slice') {
    const mm = MACHINE_SCOPE.exec(comp);
    if (mm) return step('container', 'systemd', null, unescapeSystemdName(mm[1]), null);
  }

  const um = SYSTEMD_UNIT.exec(comp);
  if (um) return step(um[1] === 'slice' ? 'slice' : 'unit', 'systemd', null, comp, inherited);

  return step('other', 'cgroup', null, comp, inherited);
}

/** Kinds that describe the cgroup better than "nested in container X" does. */
function outranksNesting(kind: CgroupKind, runtime: Runtime): boolean {
  if (kind === 'container' || kind === 'monitor' || kind === 'pod') return true;
  return kind === 'slice' && runtime === 'kubernetes';
}

/**
 * Classify a cgroup by its path ("/" + path below the cgroup mount, as in
 * /proc/<pid>/cgroup). Never throws; an unrecognised path is runtime 'cgroup'.
 */
/**
 * The name shown for a cgroup when the runtime's state has none: a plain
 * cgroup goes by its whole path (its last component alone is ambiguous), a
 * container without a name by its short id, as `docker ps` shows it.
 */
function displayName(last: Step, id: string): string | null {
  if (last.kind === 'other' && last.runtime === 'cgroup') return normalizeCgroupPath(id);
  if (last.name === null && last.containerId !== null) return last.containerId.slice(0, 12);
  return last.name;
}

export function classifyCgroupPath(id: string): Classification {
  const parts = cgroupPathComponents(id);
  if (parts.length === 0) {
    return { runtime: 'cgroup', containerId: null, name: '/', kubernetes: null, isContainer: false, kind: 'other' };
  }

  const steps: Step[] = [];
  // Index of the innermost container cgroup among the ancestors seen so far.
  let containerAt = -1;
  for (let i = 0; i < parts.length; i++) {
    const parent = i > 0 ? steps[i - 1] : null;
    let s = classifyComponent(parts[i], parent, i > 0 ? parts[i - 1] : null);
    if (containerAt >= 0 && !outranksNesting(s.kind, s.runtime)) {
      const c = steps[containerAt];
      s = step('nested', c.runtime, c.containerId, parts.slice(containerAt + 1, i + 1).join('/'), c.kubernetes);
    }
    if (s.kind === 'container') containerAt = i;
    else if (s.kind === 'pod' || (s.kind === 'slice' && s.runtime === 'kubernetes')) containerAt = -1;
    steps.push(s);
  }

  const last = steps[steps.length - 1];
  return {
    runtime: last.runtime,
    containerId: last.containerId,
    name: displayName(last, id),
    kubernetes: last.kubernetes,
    isContainer: last.kind === 'container',
    kind: last.kind,
  };
}
