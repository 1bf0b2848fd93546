// Derivations of every exported family from handcrafted snapshots, on v1
// and v2, with the kernel's unlimited sentinels leaking in where a collector
// might let them through: no sample may ever read 1.8e19.

import { describe, expect, it } from 'vitest';
import { cadvisorSharesFromWeight, renderSnapshot } from '../../src/exporter/families.js';
import { TextWriter } from '../../src/exporter/text.js';
import type { ContainerSnapshot, Snapshot } from '../../src/model/types.js';
import { find, parseExposition, value, type Exposition } from '../helpers/exposition.js';
import { sampleSnapshot, v2Container } from '../../src/model/samples.js';

const MiB = 1024 * 1024;
const NOW = Date.UTC(2026, 0, 1, 0, 0, 30, 700);

function render(s: Snapshot, containers = s.containers): Exposition {
  const w = new TextWriter();
  renderSnapshot(s, containers, w, { nowMs: NOW });
  return parseExposition(w.text());
}

/** A raw cgroup on a v1 host, unlimited everywhere, with v1-only fields. */
function v1Cgroup(overrides: Partial<ContainerSnapshot> = {}): ContainerSnapshot {
  const base = v2Container();
  return {
    ...base,
    id: '/system.slice/cron.service',
    name: 'cron.service',
    runtime: 'systemd',
    containerId: null,
    image: null,
    cpu: {
      ...base.cpu!,
      quotaCores: null,
      quotaMicroseconds: null,
      periodMicroseconds: 100000,
      shares: 512,
      weight: null,
    },
    memory: {
      ...base.memory!,
      limitBytes: null,
      highBytes: null,
      softLimitBytes: null,
      lowBytes: null,
      minBytes: null,
      swapLimitBytes: null,
      failcnt: 5,
      kernelBytes: 3 * MiB,
      maxUsageBytes: 120 * MiB,
    },
    pressure: null,
    namespaces: null,
    capabilities: null,
    network: null,
    ...overrides,
  };
}

const v1Host = { cgroupMode: 'v1' as const, v2Controllers: [] };
const id = '/system.slice/docker-3f1c0b5e9a7d.scope';

describe('cAdvisor families from a v2 container', () => {
  const e = render(sampleSnapshot([v2Container()]));
  const c = { id };

  it('labels every container series with id, name and image (no Kubernetes labels without Kubernetes)', () => {
    const s = find(e, 'container_memory_usage_bytes')[0];
    expect(s.labels).toEqual({ id, name: 'web', image: 'nginx:1.27' });
  });

  it('derives CPU families in seconds, with cpu="total" and CFS series because a quota is set', () => {
    expect(value(e, 'container_cpu_usage_seconds_total', { ...c, cpu: 'total' })).toBe(12.5);
    expect(value(e, 'container_cpu_user_seconds_total', c)).toBe(10);
    expect(value(e, 'container_cpu_system_seconds_total', c)).toBe(2.5);
    expect(value(e, 'container_cpu_cfs_periods_total', c)).toBe(400);
    expect(value(e, 'container_cpu_cfs_throttled_periods_total', c)).toBe(40);
    expect(value(e, 'container_cpu_cfs_throttled_seconds_total', c)).toBe(1.25);
    expect(value(e, 'container_spec_cpu_quota', c)).toBe(50000);
    expect(value(e, 'container_spec_cpu_period', c)).toBe(100000);
    // cpu.weight 100 → cAdvisor's linear inverse: 2 + (99 × 262142) / 9999 = 2597
    expect(value(e, 'container_spec_cpu_shares', c)).toBe(2597);
  });

  it('derives memory families the v2 way: failcnt and kernel usage 0, reservation from memory.min', () => {
    expect(value(e, 'container_memory_usage_bytes', c)).toBe(100 * MiB);
    expect(value(e, 'container_memory_max_usage_bytes', c)).toBe(150 * MiB);
    expect(value(e, 'container_memory_working_set_bytes', c)).toBe(80 * MiB);
    expect(value(e, 'container_memory_rss', c)).toBe(60 * MiB);
    expect(value(e, 'container_memory_cache', c)).toBe(30 * MiB);
    expect(value(e, 'container_memory_swap', c)).toBe(1 * MiB);
    expect(value(e, 'container_memory_mapped_file', c)).toBe(5 * MiB);
    expect(value(e, 'container_memory_kernel_usage', c)).toBe(0);
    expect(value(e, 'container_memory_failcnt', c)).toBe(0);
    expect(value(e, 'container_spec_memory_limit_bytes', c)).toBe(256 * MiB);
    expect(value(e, 'container_spec_memory_swap_limit_bytes', c)).toBe(64 * MiB);
    expect(value(e, 'container_spec_memory_reservation_limit_bytes', c)).toBe(16 * MiB);
    expect(value(e, 'container_oom_events_total', c)).toBe(2);
  });

  it('emits the four memory failure series, both scopes carrying the same count', () => {
    const f = find(e, 'container_memory_failures_total', c);
    expect(f.map((s) => [s.labels.failure_type, s.labels.scope, s.value])).toEqual([
      ['pgfault', 'container', 1000],
      ['pgfault', 'hierarchy', 1000],
      ['pgmajfault', 'container', 10],
      ['pgmajfault', 'hierarchy', 10],
    ]);
  });

  it('derives io per device with /dev names and only Read/Write operations', () => {
    expect(value(e, 'container_fs_reads_bytes_total', { ...c, device: '/dev/sda' })).toBe(4096);
    expect(value(e, 'container_fs_writes_bytes_total', { ...c, device: '/dev/sda' })).toBe(8192);
    expect(value(e, 'container_fs_reads_total', { ...c, device: '/dev/sda' })).toBe(1);
    expect(value(e, 'container_fs_writes_total', { ...c, device: '/dev/sda' })).toBe(2);
    const blk = find(e, 'container_blkio_device_usage_total', c);
    expect(blk.map((s) => [s.labels.device, s.labels.major, s.labels.minor, s.labels.operation, s.value])).toEqual([
      ['/dev/sda', '8', '0', 'Read', 4096],
      ['/dev/sda', '8', '0', 'Write', 8192],
    ]);
  });

  it('derives network, processes, threads and PSI totals', () => {
    expect(value(e, 'container_network_receive_bytes_total', { ...c, interface: 'eth0' })).toBe(100);
    expect(value(e, 'container_network_receive_packets_dropped_total', { ...c, interface: 'eth0' })).toBe(1);
    expect(value(e, 'container_network_transmit_packets_total', { ...c, interface: 'eth0' })).toBe(20);
    expect(value(e, 'container_processes', c)).toBe(2);
    expect(value(e, 'container_threads', c)).toBe(7);
    expect(value(e, 'container_threads_max', c)).toBe(4096);
    expect(value(e, 'container_pressure_cpu_waiting_seconds_total', c)).toBe(3.5);
    expect(value(e, 'container_pressure_cpu_stalled_seconds_total', c)).toBe(1.25);
    expect(value(e, 'container_pressure_memory_waiting_seconds_total', c)).toBe(0.5);
    // Absent where the kernel reports nothing: no memory "full" line, no io file.
    expect(find(e, 'container_pressure_memory_stalled_seconds_total')).toEqual([]);
    expect(find(e, 'container_pressure_io_waiting_seconds_total')).toEqual([]);
  });

  it('derives start time (whole seconds), last seen (scrape time) and machine families', () => {
    expect(value(e, 'container_start_time_seconds', c)).toBe(1767225600);
    expect(value(e, 'container_last_seen', c)).toBe(Math.floor(NOW / 1000));
    const labels = {
      boot_id: '6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b',
      machine_id: '0123456789abcdef0123456789abcdef',
      system_uuid: '',
    };
    expect(find(e, 'machine_cpu_cores')).toEqual([{ name: 'machine_cpu_cores', labels, value: 8 }]);
    expect(value(e, 'machine_memory_bytes')).toBe(16 * 1024 * MiB);
  });

  it('emits tstop families: info with namespace states, isolation, capabilities, limits, PSI avg10 ratios', () => {
    const info = find(e, 'tstop_container_info', c);
    expect(info).toHaveLength(1);
    expect(info[0].value).toBe(1);
    expect(info[0].labels).toMatchObject({
      runtime: 'docker',
      container_id: '3f1c0b5e9a7d',
      net_ns: 'isolated',
      user_ns: 'shared',
      time_ns: 'shared',
      pid_ns: 'isolated',
    });
    expect(value(e, 'tstop_container_namespace_isolated', { ...c, type: 'net' })).toBe(1);
    expect(value(e, 'tstop_container_namespace_isolated', { ...c, type: 'user' })).toBe(0);
    expect(find(e, 'tstop_container_namespace_isolated', c)).toHaveLength(8);
    expect(value(e, 'tstop_container_capabilities_effective', c)).toBe(2);
    expect(find(e, 'tstop_container_capability_effective', c).map((s) => s.labels.capability)).toEqual([
      'cap_chown',
      'cap_net_bind_service',
    ]);
    const dev = { ...c, device: '/dev/sda', major: '8', minor: '0' };
    expect(value(e, 'tstop_container_io_limit_read_bytes_per_second', dev)).toBe(10485760);
    expect(value(e, 'tstop_container_io_limit_write_operations_per_second', dev)).toBe(1000);
    expect(find(e, 'tstop_container_io_limit_write_bytes_per_second')).toEqual([]);
    expect(value(e, 'tstop_container_memory_high_bytes', c)).toBe(200 * MiB);
    expect(value(e, 'tstop_container_pids_limit', c)).toBe(4096);
    expect(value(e, 'tstop_container_pressure_cpu_waiting_avg10_ratio', c)).toBe(0.125);
    expect(value(e, 'tstop_container_pressure_cpu_stalled_avg10_ratio', c)).toBe(0.025);
  });

  it('declares cAdvisor types, including failcnt as a counter', () => {
    expect(e.types.get('container_memory_failcnt')).toBe('counter');
    expect(e.types.get('container_memory_usage_bytes')).toBe('gauge');
    expect(e.types.get('container_cpu_usage_seconds_total')).toBe('counter');
    expect(e.helps.get('container_memory_usage_bytes')).toBe(
      'Current memory usage in bytes, including all memory regardless of when it was accessed',
    );
  });
});

describe('cAdvisor families from a v1 cgroup', () => {
  const e = render(sampleSnapshot([v1Cgroup()], { host: v1Host }));
  const c = { id: '/system.slice/cron.service' };

  it('gives raw cgroups (systemd units) an empty name and image, as cAdvisor does', () => {
    expect(find(e, 'container_memory_usage_bytes')[0].labels).toEqual({ ...c, name: '', image: '' });
    expect(find(e, 'tstop_container_info', c)[0].labels.runtime).toBe('systemd');
  });

  it('names only containers: the /docker and /tstop parents get name="" as in cAdvisor (found on a real engine)', () => {
    const parents = ['/docker', '/tstop'].map((id) =>
      v1Cgroup({ id, name: id.slice(1), runtime: id === '/docker' ? 'docker' : 'tstop', containerId: null }),
    );
    const child = v1Cgroup({
      id: `/docker/${'b'.repeat(64)}`,
      name: 'web',
      runtime: 'docker',
      containerId: 'b'.repeat(64),
    });
    const all = render(sampleSnapshot([...parents, child], { host: v1Host }));
    const names = find(all, 'container_memory_usage_bytes').map((s) => [s.labels.id, s.labels.name]);
    expect(names).toEqual([
      ['/docker', ''],
      ['/tstop', ''],
      [`/docker/${'b'.repeat(64)}`, 'web'],
    ]);
  });

  it('leaves out quota and CFS series without a quota, and reads shares raw', () => {
    for (const name of [
      'container_spec_cpu_quota',
      'container_cpu_cfs_periods_total',
      'container_cpu_cfs_throttled_periods_total',
      'container_cpu_cfs_throttled_seconds_total',
    ]) {
      expect(find(e, name), name).toEqual([]);
    }
    expect(value(e, 'container_spec_cpu_shares', c)).toBe(512);
    expect(value(e, 'container_spec_cpu_period', c)).toBe(100000);
  });

  it('exports unlimited memory as 0, failcnt and kmem as read, and no memory.high or PSI', () => {
    expect(value(e, 'container_spec_memory_limit_bytes', c)).toBe(0);
    expect(value(e, 'container_spec_memory_swap_limit_bytes', c)).toBe(0);
    expect(value(e, 'container_spec_memory_reservation_limit_bytes', c)).toBe(0);
    expect(value(e, 'container_memory_failcnt', c)).toBe(5);
    expect(value(e, 'container_memory_kernel_usage', c)).toBe(3 * MiB);
    expect(find(e, 'tstop_container_memory_high_bytes')).toEqual([]);
    expect(find(e, 'container_pressure_cpu_waiting_seconds_total')).toEqual([]);
    expect(find(e, 'tstop_container_capability_effective')).toEqual([]);
    // not a container: no network of its own
    expect(find(e, 'container_network_receive_bytes_total')).toEqual([]);
  });

  it('uses v1 soft limit for the reservation', () => {
    const e2 = render(
      sampleSnapshot([v1Cgroup({ memory: { ...v1Cgroup().memory!, softLimitBytes: 32 * MiB } })], { host: v1Host }),
    );
    expect(value(e2, 'container_spec_memory_reservation_limit_bytes', c)).toBe(32 * MiB);
  });
});

describe('sentinels', () => {
  // What a collector would produce if it ever let the kernel's "unlimited" through.
  const V1_MAX = 9223372036854771712; // PAGE_COUNTER_MAX * PAGE_SIZE
  const U64_MAX = 18446744073709551615;
  const leaky = v2Container({
    cpu: { ...v2Container().cpu!, quotaMicroseconds: U64_MAX, periodMicroseconds: 100000 },
    memory: {
      ...v2Container().memory!,
      limitBytes: V1_MAX,
      swapLimitBytes: U64_MAX,
      highBytes: V1_MAX,
      minBytes: U64_MAX,
    },
    pids: { current: 3, limit: U64_MAX, peak: null, limitHits: null },
    io: {
      ...v2Container().io!,
      limits: [
        { major: 8, minor: 0, device: 'sda', readBps: U64_MAX, writeBps: V1_MAX, readIops: null, writeIops: null },
      ],
    },
  });
  const e = render(sampleSnapshot([leaky, v1Cgroup({ memory: { ...v1Cgroup().memory!, limitBytes: V1_MAX } })]));

  it('never emits a value above 2^62', () => {
    const big = e.samples.filter((s) => s.value > 2 ** 62);
    expect(big).toEqual([]);
  });

  it('maps unlimited to 0 in cAdvisor families and to an absent series in tstop families', () => {
    expect(value(e, 'container_spec_memory_limit_bytes', { id })).toBe(0);
    expect(value(e, 'container_spec_memory_swap_limit_bytes', { id })).toBe(0);
    expect(value(e, 'container_spec_memory_reservation_limit_bytes', { id })).toBe(0);
    expect(value(e, 'container_threads_max', { id })).toBe(0);
    expect(find(e, 'container_spec_cpu_quota', { id })).toEqual([]);
    expect(find(e, 'container_cpu_cfs_periods_total', { id })).toEqual([]);
    expect(find(e, 'tstop_container_memory_high_bytes', { id })).toEqual([]);
    expect(find(e, 'tstop_container_pids_limit', { id })).toEqual([]);
    expect(find(e, 'tstop_container_io_limit_read_bytes_per_second', { id })).toEqual([]);
    expect(find(e, 'tstop_container_io_limit_write_bytes_per_second', { id })).toEqual([]);
  });
});

describe('labels and selection details', () => {
  it('adds container, namespace and pod to every series once any cgroup is from Kubernetes', () => {
    const pod = v2Container({
      id: '/kubepods.slice/kubepods-pod1.slice/cri-containerd-abc.scope',
      name: 'abc',
      runtime: 'containerd',
      kubernetes: { pod: 'web-0', namespace: 'shop', container: 'nginx', podUid: '1' },
    });
    const e = render(sampleSnapshot([pod, v1Cgroup()]));
    expect(find(e, 'container_memory_usage_bytes', { id: pod.id })[0].labels).toEqual({
      container: 'nginx',
      id: pod.id,
      image: 'nginx:1.27',
      name: 'abc',
      namespace: 'shop',
      pod: 'web-0',
    });
    expect(find(e, 'container_memory_usage_bytes', { id: '/system.slice/cron.service' })[0].labels).toEqual({
      container: '',
      id: '/system.slice/cron.service',
      image: '',
      name: '',
      namespace: '',
      pod: '',
    });
  });

  it('gives the root cgroup the host interfaces, without lo', () => {
    const root = v1Cgroup({ id: '/', name: '/', runtime: 'cgroup', network: null });
    const e = render(sampleSnapshot([root]));
    expect(find(e, 'container_network_receive_bytes_total').map((s) => [s.labels.interface, s.value])).toEqual([
      ['eth0', 5000],
    ]);
    expect(value(e, 'container_network_transmit_packets_dropped_total', { id: '/', interface: 'eth0' })).toBe(4);
  });

  it('skips lo, veth*, docker* and nerdctl* interfaces of a container', () => {
    const ifaces = ['lo', 'veth12', 'docker0', 'nerdctl0', 'eth0', 'cni0', 'LOwer'].map((name) => ({
      ...v2Container().network![0],
      interface: name,
    }));
    const e = render(sampleSnapshot([v2Container({ network: ifaces })]));
    expect(find(e, 'container_network_receive_bytes_total').map((s) => s.labels.interface)).toEqual(['eth0', 'cni0']);
  });

  it('leaves cpu="total" out while usage is 0, and unknown devices get device=""', () => {
    const idle = v2Container({
      cpu: { ...v2Container().cpu!, usageSeconds: 0 },
      io: { ...v2Container().io!, devices: [{ ...v2Container().io!.devices[0], device: null, major: 259, minor: 3 }] },
    });
    const e = render(sampleSnapshot([idle]));
    expect(find(e, 'container_cpu_usage_seconds_total')).toEqual([]);
    expect(find(e, 'container_fs_reads_bytes_total')[0].labels.device).toBe('');
    expect(find(e, 'container_blkio_device_usage_total')[0].labels).toMatchObject({ major: '259', minor: '3' });
  });

  it('escapes hostile cgroup paths and names so the exposition still parses', () => {
    const odd = v2Container({ id: '/we"ird\\path\nx', name: 'a"b' });
    const e = render(sampleSnapshot([odd]));
    expect(find(e, 'container_memory_usage_bytes')[0].labels).toMatchObject({ id: '/we"ird\\path\nx', name: 'a"b' });
  });

  it('converts cpu.weight to shares like cAdvisor, 0 outside 1..10000', () => {
    expect([1, 39, 79, 100, 10000].map(cadvisorSharesFromWeight)).toEqual([2, 998, 2046, 2597, 262144]);
    expect([0, 10001, null].map(cadvisorSharesFromWeight)).toEqual([0, 0, 0]);
  });
});
