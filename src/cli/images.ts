// `tstop load`, `tstop images`, `tstop rmi`: flags to options, then the
// image store (src/launcher/image/). Loaded lazily by src/cli/commands/.

import { ImageError } from '../launcher/image/errors.js';
import { loadImages } from '../launcher/image/load.js';
import { imageRows, imagesTable, removeImage } from '../launcher/image/manage.js';
import { ImageStore, imageStoreDir } from '../launcher/image/store.js';
import { isExpectedError, UsageError } from '../util/errors.js';
import { stringFlag, type ParsedFlags } from './command.js';

function storeOf(flags: ParsedFlags): ImageStore {
  return new ImageStore(imageStoreDir(stringFlag(flags, 'image-store')));
}

export async function loadCli(flags: ParsedFlags): Promise<number> {
  const input = stringFlag(flags, 'input');
  if (input === undefined) throw new UsageError('give the archive: tstop load -i FILE|DIR (there is no pull)');
  const lines = await loadImages({
    input,
    storeDir: imageStoreDir(stringFlag(flags, 'image-store')),
    warn: (m) => process.stderr.write(`tstop: load: ${m}\n`),
  });
  process.stdout.write(lines.map((l) => `${l}\n`).join(''));
  return 0;
}

export function imagesCli(flags: ParsedFlags): Promise<number> {
  const rows = imageRows(storeOf(flags));
  if (flags.json === true)
    process.stdout.write(rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
  else if (flags.quiet === true)
    process.stdout.write([...new Set(rows.map((r) => r.id))].map((id) => `${id}\n`).join(''));
  else process.stdout.write(imagesTable(rows));
  return Promise.resolve(0);
}

export function rmiCli(flags: ParsedFlags, refs: string[]): Promise<number> {
  if (refs.length === 0) throw new UsageError('give the images to remove (NAME[:TAG] or id)');
  const store = storeOf(flags);
  let code = 0;
  for (const ref of refs) {
    try {
      process.stdout.write(
        removeImage(store, ref)
          .map((l) => `${l}\n`)
          .join(''),
      );
    } catch (err) {
      if (!isExpectedError(err) || err instanceof UsageError) throw err;
      process.stderr.write(`tstop: rmi: ${err.message}\n`);
      code = err instanceof ImageError ? err.exitCode : 1;
    }
  }
  return Promise.resolve(code);
}
