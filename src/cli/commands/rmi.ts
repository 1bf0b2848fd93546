// `tstop rmi`: remove images from the store. Implementation in
// src/launcher/image/manage.ts (loaded on demand).

import type { CommandSpec } from '../command.js';
import { IMAGE_STORE_FLAG } from './load.js';

export const rmiCommand: CommandSpec = {
  name: 'rmi',
  summary: 'Remove images (by NAME[:TAG] or id); refused while a container uses the image.',
  usage: 'rmi [--image-store DIR] NAME[:TAG]|ID...',
  description: [
    'A tag is removed; the image goes with its last tag (or when named by id), and with it every layer',
    'no other image uses. A container created from the image (running or exited, until tstop rm) keeps',
    'it: rmi is refused then. Containers are looked up in /run/tstop (TSTOP_RUN_DIR).',
  ].join('\n'),
  flags: [IMAGE_STORE_FLAG],
  positionals: true,
  examples: ['tstop rmi busybox:latest', 'tstop rmi 3f2a9c1b'],
  run: async (flags, positionals) => (await import('../images.js')).rmiCli(flags, positionals),
};
