// Placeholder until the full classifier lands: recognises the commonest
// container path shapes.
import type { Runtime } from '../model/types.js';

export interface Classification {
  runtime: Runtime;
  containerId: string | null;
  name: string | null;
  kubernetes: { podUid: string | null; qosClass: string | null } | null;
  isContainer: boolean;
}

export function classifyCgroupPath(id: string): Classification {
  const last = id.split('/').pop() ?? '';
  let m = /^docker-([0-9a-f]{64})\.scope$/.exec(last);
  if (m || (/^[0-9a-f]{64}$/.test(last) && id.startsWith('/docker/'))) {
    const cid = m ? m[1] : last;
    return { runtime: 'docker', containerId: cid, name: cid.slice(0, 12), kubernetes: null, isContainer: true };
  }
  m = /\.(service|scope|slice)$/.exec(last);
  if (m) return { runtime: 'systemd', containerId: null, name: last, kubernetes: null, isContainer: false };
  return { runtime: 'cgroup', containerId: null, name: null, kubernetes: null, isContainer: false };
}
