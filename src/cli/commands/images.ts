// `tstop images`: the image store's images. Implementation in
// src/launcher/image/manage.ts (loaded on demand).

import type { CommandSpec } from '../command.js';
import { IMAGE_STORE_FLAG, NO_PULL } from './load.js';

export const imagesCommand: CommandSpec = {
  name: 'images',
  summary: 'List the loaded images: NAME:TAG, id, created, size, exposed ports (informational).',
  usage: 'images [-q] [--json] [--image-store DIR]',
  description: ['Images come from tstop load.', '', NO_PULL].join('\n'),
  flags: [
    { name: 'quiet', short: 'q', type: 'boolean', description: 'only the ids' },
    { name: 'json', type: 'boolean', description: 'one JSON object per image and tag' },
    IMAGE_STORE_FLAG,
  ],
  examples: ['tstop images', 'tstop images --json'],
  run: async (flags) => (await import('../images.js')).imagesCli(flags),
};
