// Test-side kernel set-up on the test's own cgroups, v1 or v2 alike. (Once
// the limiter exists, tests that set limits go through it instead.)

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TestCgroups } from './cgroups.js';

/** Sets a CPU quota in cores on a test cgroup (period 100 ms). */
export function cpuQuota(cg: TestCgroups, rel: string, cores: number): void {
  const quota = Math.round(cores * 100_000);
  if (cg.hierarchyOf('cpu').kind === 'v2') cg.write('cpu', rel, 'cpu.max', `${quota} 100000`);
  else {
    cg.write('cpu', rel, 'cpu.cfs_period_us', '100000');
    cg.write('cpu', rel, 'cpu.cfs_quota_us', String(quota));
  }
}

/** Freezes or thaws a test cgroup (v1 freezer.state or v2 cgroup.freeze). */
export function freeze(cg: TestCgroups, rel: string, frozen: boolean): void {
  if (cg.hierarchyOf('freezer').kind === 'v2') cg.write('freezer', rel, 'cgroup.freeze', frozen ? '1' : '0');
  else cg.write('freezer', rel, 'freezer.state', frozen ? 'FROZEN' : 'THAWED');
}

/**
 * A loop block device with an ext4 filesystem, made by the test, so io
 * accounting is checked on a device nothing else uses.
 */
export class LoopDevice {
  private constructor(
    readonly device: string,
    readonly name: string,
    readonly major: number,
    readonly minor: number,
    readonly mountPoint: string,
    private readonly image: string,
  ) {}

  /** In dir, a directory of the test's own: the image file and the mount point. */
  static create(dir: string, mib: number): LoopDevice {
    const image = path.join(dir, `loop-${Date.now()}.img`);
    fs.writeFileSync(image, '');
    fs.truncateSync(image, mib * 1024 * 1024);
    const device = execFileSync('losetup', ['--find', '--show', image], { encoding: 'utf8' }).trim();
    const [major, minor] = fs
      .readFileSync(`/sys/class/block/${path.basename(device)}/dev`, 'utf8')
      .trim()
      .split(':')
      .map(Number);
    execFileSync('mkfs.ext4', ['-q', '-F', device], { stdio: 'ignore' });
    const mountPoint = path.join(dir, `mnt-${path.basename(device)}`);
    fs.mkdirSync(mountPoint);
    execFileSync('mount', [device, mountPoint]);
    return new LoopDevice(device, path.basename(device), major, minor, mountPoint, image);
  }

  /**
   * v1 blk-throttle counts a device's IO only once throttling is active on
   * its queue: a very high read limit on the test's own cgroup turns it on.
   * v2 io.stat needs nothing.
   */
  enableAccounting(cg: TestCgroups, rel: string): void {
    if (cg.hierarchyOf('blkio').kind === 'v1') {
      cg.write('blkio', rel, 'blkio.throttle.read_bps_device', `${this.major}:${this.minor} 1099511627776`);
    }
  }

  destroy(): void {
    try {
      execFileSync('umount', [this.mountPoint]);
    } catch {
      execFileSync('umount', ['-l', this.mountPoint]);
    }
    execFileSync('losetup', ['-d', this.device]);
    fs.rmSync(this.image, { force: true });
  }
}
