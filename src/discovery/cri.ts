// Kubernetes metadata as the CRI runtimes record it: the annotations
// containerd and CRI-O put in a container's OCI config (and docker labels under
// dockershim or cri-dockerd), and the k8s_… names kubelet-era runtimes give
// containers. Shared by the docker, containerd, CRI-O and runc providers.

import type { KubernetesInfo } from '../model/types.js';

export interface CriInfo {
  containerType: 'sandbox' | 'container' | null;
  pod: string | null;
  namespace: string | null;
  podUid: string | null;
  /** "POD" for a sandbox (pause) container, as kubelet names it. */
  container: string | null;
  image: string | null;
  sandboxId: string | null;
  /** Which key family told: containerd CRI, CRI-O, or kubelet labels alone (dockershim). */
  flavour: 'containerd' | 'crio' | 'kubelet';
}

/** Kubernetes metadata from OCI annotations (containerd, CRI-O) or docker labels (dockershim, cri-dockerd). */
export function criInfoFromAnnotations(a: Record<string, string>): CriInfo | null {
  const get = (...keys: string[]): string | null => {
    for (const k of keys) if (a[k]) return a[k];
    return null;
  };
  const flavour: CriInfo['flavour'] | null =
    get('io.kubernetes.cri.container-type', 'io.kubernetes.cri.sandbox-id') !== null
      ? 'containerd'
      : get('io.kubernetes.cri-o.ContainerType', 'io.kubernetes.cri-o.SandboxID') !== null
        ? 'crio'
        : get('io.kubernetes.pod.name', 'io.kubernetes.pod.uid') !== null
          ? 'kubelet'
          : null;
  if (flavour === null) return null;
  const rawType = get(
    'io.kubernetes.cri.container-type',
    'io.kubernetes.cri-o.ContainerType',
    'io.kubernetes.docker.type',
  );
  const containerType =
    rawType === 'sandbox' || rawType === 'podsandbox' ? 'sandbox' : rawType === 'container' ? 'container' : null;
  let container = get('io.kubernetes.cri.container-name', 'io.kubernetes.container.name');
  if (containerType === 'sandbox') container = 'POD';
  return {
    containerType,
    pod: get('io.kubernetes.cri.sandbox-name', 'io.kubernetes.pod.name'),
    namespace: get('io.kubernetes.cri.sandbox-namespace', 'io.kubernetes.pod.namespace'),
    podUid: get('io.kubernetes.cri.sandbox-uid', 'io.kubernetes.pod.uid'),
    container,
    // CRI-O: ImageName is a resolved name; Image is what kubelet asked for (often an image id or digest).
    image: get('io.kubernetes.cri.image-name', 'io.kubernetes.cri-o.ImageName', 'io.kubernetes.cri-o.Image'),
    sandboxId: get('io.kubernetes.cri.sandbox-id', 'io.kubernetes.cri-o.SandboxID'),
    flavour,
  };
}

export interface KubeletName {
  /** "POD" for a sandbox. */
  container: string;
  pod: string;
  namespace: string;
  podUid: string;
  attempt: number;
}

/**
 * Names kubelet-era runtimes give containers: "k8s_<container>_<pod>_<ns>_<uid>_<attempt>"
 * (dockershim, CRI-O containers; dockershim sandboxes use container "POD") and
 * CRI-O's sandbox name "k8s_<pod>_<ns>_<uid>_<attempt>". Kubernetes names hold no "_".
 */
export function parseKubeletName(name: string): KubeletName | null {
  const parts = name.replace(/^\/+/, '').split('_');
  if (parts[0] !== 'k8s' || parts.some((p) => p.length === 0)) return null;
  let rest: string[];
  if (parts.length === 6) rest = parts.slice(1);
  else if (parts.length === 5) rest = ['POD', ...parts.slice(1)];
  else return null;
  const [container, pod, namespace, podUid, attemptText] = rest;
  if (!/^\d+$/.test(attemptText)) return null;
  return { container, pod, namespace, podUid, attempt: Number(attemptText) };
}

/** "pod/container" for CRI containers; whichever is known otherwise. */
export function kubeDisplayName(cri: CriInfo): string | null {
  if (cri.pod !== null && cri.container !== null) return `${cri.pod}/${cri.container}`;
  return cri.container ?? cri.pod;
}

export function kubeInfo(cri: CriInfo | null): KubernetesInfo | null {
  if (cri === null) return null;
  return { pod: cri.pod, namespace: cri.namespace, container: cri.container, podUid: cri.podUid };
}
