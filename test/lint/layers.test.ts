// The layer rules (.dependency-cruiser.cjs) catch what they are for: a copy
// of the tree with one planted upward import (a collector importing the
// dashboard) fails `npm run lint`'s check, naming the rule; the same copy
// without the plant passes.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(import.meta.dirname, '../..');
const DEPCRUISE = path.join(REPO, 'node_modules/.bin/depcruise');
let copy: string;

function lint(): { status: number | null; output: string } {
  const r = spawnSync(DEPCRUISE, ['--config', '.dependency-cruiser.cjs', 'src', 'collectors', 'ui', 'bench'], {
    cwd: copy,
    encoding: 'utf8',
  });
  return { status: r.status, output: r.stdout + r.stderr };
}

beforeAll(() => {
  copy = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-lint-'));
  for (const entry of [
    'src',
    'collectors',
    'ui',
    'bench',
    'tsconfig.json',
    'package.json',
    '.dependency-cruiser.cjs',
  ]) {
    fs.cpSync(path.join(REPO, entry), path.join(copy, entry), { recursive: true });
  }
  // TypeScript resolves node's and the libraries' types through node_modules.
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(copy, 'node_modules'));
});

afterAll(() => {
  fs.rmSync(copy, { recursive: true, force: true });
});

describe('npm run lint: the layer rules', () => {
  it('passes on the tree as it is', () => {
    const r = lint();
    expect(r.output).toContain('no dependency violations found');
    expect(r.status).toBe(0);
  });

  it('fails on a collector importing the dashboard, naming the rule', () => {
    fs.writeFileSync(
      path.join(copy, 'collectors/planted.ts'),
      "import { Dashboard } from '../ui/app.js';\nexport const planted = Dashboard;\n",
    );
    try {
      const r = lint();
      expect(r.status).not.toBe(0);
      expect(r.output).toMatch(/faces-are-above-collection: collectors\/planted\.ts → ui\/app\.ts/);
    } finally {
      fs.rmSync(path.join(copy, 'collectors/planted.ts'));
    }
  });

  it('fails on an import cycle', () => {
    fs.writeFileSync(
      path.join(copy, 'src/util/cycle-a.ts'),
      "import { b } from './cycle-b.js';\nexport const a = () => b;\n",
    );
    fs.writeFileSync(
      path.join(copy, 'src/util/cycle-b.ts'),
      "import { a } from './cycle-a.js';\nexport const b = () => a;\n",
    );
    const r = lint();
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/no-cycle: src\/util\/cycle-a\.ts/);
  });
});
