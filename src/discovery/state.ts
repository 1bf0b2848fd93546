// Placeholder until the runtime state readers land.
import type { Classification } from './classify.js';
import type { KubernetesInfo } from '../model/types.js';

export interface RuntimeStateOptions {
  dockerRoot: string;
  runcRoots: string[];
  podmanRoot: string;
  containerdRoot: string;
  crioRoots: string[];
  lxcRoot: string;
  tstopRunDir: string;
}

export interface RuntimeDescription {
  name: string | null;
  image: string | null;
  containerId: string | null;
  kubernetes: KubernetesInfo | null;
  labels: Record<string, string>;
}

export class RuntimeStateReader {
  constructor(_options: Partial<RuntimeStateOptions> = {}) {}
  describe(_c: Classification, _cgroupId: string): RuntimeDescription | null {
    return null;
  }
  rescan(): void {}
}
