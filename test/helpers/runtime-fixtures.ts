// Runtime state fixtures shared by the discovery-state test files: the ids
// in test/fixtures/runtime-state and a RuntimeStateReader's options over them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import type { RuntimeStateOptions } from '../../src/discovery/runtime-state.js';

export const FIX = fileURLToPath(new URL('../fixtures/runtime-state/', import.meta.url));
export const F = (rel: string): string => join(FIX, rel);

export const WEB = '89de610395df15fb62d954cd0cf6dbf068e8cfd0c993e03307e613b7e425a047';
export const DB = '6406631453bfeb5ed767a405a3158aa49259ccbe0eb6773bb15b397983b7b7a6';
export const BAD = '411b12e1beccfa5b3d1855308d5bd7fcaefc56f52764c45288b617bd2b61ae97';
export const APP = '676bcffe3674981d618cca194c6a7435d4108c5970b8955b77a6080a64aec86e';
export const SANDBOX = 'd37a601fcb06c0e9c6152ed5e20cae5fe26438d247381160022a320479ae890a';
export const POD = '1f0e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';
export const DB_POD = '5e1c2a9b-7d3f-4b8e-a6c1-0f2d4e6a8b0c';
export const CRIO_APP = 'f066ac7fffc4e29ab0f689d060c5339c8ff24f28aa64505f9ac14241b10e9244';
export const CRIO_PAUSE = 'f21c42c62d10eee26b46be92665f6c6f0b3a7530930acc2244ffd4a637a7fade';
export const CRIO_POD = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
export const PODMAN_WEB = 'e1065adc5e522bdee438974e483e1ae0af4bde82e665a65a761a4d75b765fa0a';
export const PODMAN_DB = 'c6faf8a166aeedca476ddd1f22ace9a9ff28d14405aade7cc3d8fbf0e448ca58';
export const PODMAN_TMP = '3212be000ca4b8fb4bd9c218262d1046858962f85aa04543a6d34fcf9924762c';
export const UNKNOWN = 'a'.repeat(64);
export const sd = (uid: string): string => uid.replace(/-/g, '_');

export const fixtureOptions = (): RuntimeStateOptions => ({
  dockerRoot: F('docker'),
  runcRoots: [F('runc/moby'), F('runc/k8s.io'), F('runc/default')],
  podmanRoot: F('containers'),
  containerdRoot: F('containerd'),
  crioRoots: [F('crio-run'), F('containers/storage')],
  lxcRoot: F('lxc'),
  tstopRunDir: F('tstop'),
  cgroupMount: '/sys/fs/cgroup',
});

/** An empty directory, removed with the file's scratch directories. */
export const EMPTY = mkdtempSync(join(tmpdir(), 'tstop-empty-'));

/** Temporary directories a test file makes (EMPTY first), removed after the file. */
export function scratchDirs(): string[] {
  const scratch: string[] = [EMPTY];
  afterAll(() => {
    for (const d of scratch) rmSync(d, { recursive: true, force: true });
  });
  return scratch;
}
