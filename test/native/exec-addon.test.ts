// native/exec/exec.c: execve(2) in node's own process (a foreground `tstop run`
// becomes its helper). Node's address space is left to a holder child, which
// frees it after the execve instead of the execve doing it in tstop's process:
// the program exec'd inherits that child, which exits by itself. Asked to, it
// runs the program from a sealed memfd copy (the helper's defence against
// CVE-2019-5736, made before the exec instead of by a re-exec). Without a program to exec, the errno comes back and the holder
// exits all the same.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const addon = join(__dirname, '../../native/build/tstop-exec.node');
const perl = ['/usr/bin/perl', '/bin/perl'].find((p) => existsSync(p));

/** Runs `script` in a fresh node with the addon as `exec` and a descriptor to keep as `fd`. */
function node(script: string): { status: number | null; stdout: string; stderr: string } {
  const prelude = `const fs = require('node:fs'); const m = { exports: {} }; process.dlopen(m, ${JSON.stringify(addon)});
const exec = m.exports.exec; const fd = fs.openSync('/dev/null', 'r');`;
  const r = spawnSync(process.execPath, ['-e', `${prelude}\n${script}`], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.runIf(process.platform === 'linux' && existsSync(addon))('the exec addon', () => {
  it.runIf(perl !== undefined)(
    "the exec'd program inherits one child, the holder of node's memory, which exits 0 by itself",
    () => {
      // perl's wait(): the pid and status of a child, -1 when it has none.
      const program = `my $p = wait; print "$p $?\\n";`;
      const r = node(`exec(${JSON.stringify(perl)}, ['perl', '-e', ${JSON.stringify(program)}], [], fd);`);
      expect(r.stderr).toBe('');
      const m = /^(-?\d+) (-?\d+)\n$/.exec(r.stdout);
      expect(m, r.stdout).not.toBeNull();
      expect(Number(m?.[1])).toBeGreaterThan(0);
      expect(Number(m?.[2])).toBe(0);
      expect(r.status).toBe(0);
    },
  );

  it.runIf(perl !== undefined)(
    'with a sealed name the program runs from a memfd copy of itself, sealed against any change',
    () => {
      // F_GET_SEALS (1034) of /proc/self/exe: SEAL | SHRINK | GROW | WRITE = 15.
      const program = `open(my $f, "<", "/proc/self/exe") or die; print readlink("/proc/self/exe"), " ", fcntl($f, 1034, 0) + 0, "\n";`;
      const r = node(
        `exec(${JSON.stringify(perl)}, ['perl', '-e', ${JSON.stringify(program)}], [], fd, 'tstop-sealed-test');`,
      );
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('/memfd:tstop-sealed-test (deleted) 15\n');
      const plain = node(`exec(${JSON.stringify(perl)}, ['perl', '-e', ${JSON.stringify(program)}], [], fd);`);
      expect(plain.stdout).toMatch(/^\/\S*perl\S* 0\n$/); // a plain file has no seals (F_GET_SEALS fails)
    },
  );

  it('an exec that fails returns its errno, and the holder exits', () => {
    const r = node(`const errno = exec('/no/such/program', ['x'], [], fd);
const me = process.pid;
const children = () => fs.readFileSync('/proc/' + me + '/task/' + me + '/children', 'utf8').trim().split(' ').filter(Boolean);
const state = (c) => { try { return fs.readFileSync('/proc/' + c + '/stat', 'utf8').split(') ')[1][0]; } catch { return 'gone'; } };
const deadline = Date.now() + 10000;
while (Date.now() < deadline && !children().every((c) => ['Z', 'X', 'gone'].includes(state(c)))) {}
console.log(errno, children().map(state).join(','));`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^2 (Z)?\n$/); // ENOENT; the holder exited (a zombie: node has no SIGCHLD handler)
  });
});
