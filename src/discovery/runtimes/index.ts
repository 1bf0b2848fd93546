// Every runtime whose state tstop reads: RuntimeStateReader builds one
// provider of each for itself and loops over them. Adding a runtime is one
// file implementing RuntimeStateProvider (src/discovery/provider.ts) and one
// line here. The order matters only for describeCgroup (asked in this order);
// lookups by id follow each provider's rank.

import type { RuntimeStateProviderClass } from '../provider.js';
import { DockerStateProvider } from './docker.js';
import { LxcStateProvider } from './lxc.js';
import { ContainerdStateProvider } from './oci.js';
import { RuncStateProvider } from './runc.js';
import { CrioStateProvider, StorageStateProvider } from './storage.js';
import { TstopStateProvider } from './tstop.js';

export const RUNTIME_STATE_PROVIDERS: readonly RuntimeStateProviderClass[] = [
  DockerStateProvider,
  ContainerdStateProvider,
  CrioStateProvider,
  StorageStateProvider,
  RuncStateProvider,
  LxcStateProvider,
  TstopStateProvider,
];
