// `tstop load`: a docker save archive or an OCI image layout into the image
// store. Implementation in src/launcher/image/ (loaded on demand).

import type { CommandSpec, FlagSpec } from '../command.js';

export const IMAGE_STORE_FLAG: FlagSpec = {
  name: 'image-store',
  type: 'string',
  value: 'DIR',
  description: 'the image store (also TSTOP_IMAGES)',
  default: '/var/lib/tstop/images',
};

export const NO_PULL = [
  'There is no pull: no registry is reachable from these machines. On a machine that has the image,',
  '`docker save -o img.tar NAME:TAG` (or `skopeo copy docker://NAME:TAG oci-archive:img.tar`), copy the',
  'file here and `tstop load -i img.tar`.',
].join('\n');

export const loadCommand: CommandSpec = {
  name: 'load',
  summary: 'Load images from a docker save archive or an OCI image layout (directory or tar) into the image store.',
  usage: 'load -i FILE|DIR [--image-store DIR]',
  description: [
    'Reads both docker save layouts (legacy <id>/layer.tar and docker 25+ blobs/sha256) and OCI image',
    'layouts (index.json, blobs/sha256; gzip layers too). Every layer is checked against its sha256',
    "(descriptor digest and the config's diff_id), extracted once into a content-addressed store and",
    'shared between images; whiteouts become overlayfs whiteouts. Entries that would leave the layer',
    "(absolute paths, '..', writing through a symlink, hardlinks to outside) and device nodes are refused,",
    'and a refused archive leaves nothing behind. Prints one "Loaded image: NAME:TAG" line per tag.',
    'Needs root. Limits: TSTOP_IMAGE_MAX_LAYER_BYTES, TSTOP_IMAGE_MAX_ARCHIVE_BYTES (uncompressed).',
    '',
    NO_PULL,
  ].join('\n'),
  flags: [
    {
      name: 'input',
      short: 'i',
      type: 'string',
      value: 'FILE|DIR',
      description: 'the archive (tar, tar.gz) or OCI layout directory',
    },
    IMAGE_STORE_FLAG,
  ],
  examples: [
    'tstop load -i busybox.tar',
    'tstop load -i ./oci-layout-dir',
    'tstop load -i app.tar --image-store /srv/images',
  ],
  run: async (flags) => (await import('../images.js')).loadCli(flags),
};
