// container_label_*: the runtime's labels on every series of a container, as
// cAdvisor exports them, with a policy and caps against hostile label sets.

import { describe, expect, it } from 'vitest';
import {
  containerLabelPairs,
  MAX_CONTAINER_LABELS,
  parseContainerLabelPolicy,
} from '../../src/exporter/container-labels.js';
import { renderSnapshot } from '../../src/exporter/families.js';
import { TextWriter } from '../../src/exporter/text.js';
import { sampleSnapshot, v2Container } from '../../src/model/samples.js';
import type { Snapshot } from '../../src/model/types.js';
import { find, parseExposition } from '../helpers/exposition.js';

const COMPOSE = {
  'com.docker.compose.project': 'shop',
  'com.docker.compose.service': 'web',
  'org.opencontainers.image.version': '1.27',
};

function render(s: Snapshot, labels = parseContainerLabelPolicy('all')) {
  const w = new TextWriter();
  renderSnapshot(s, s.containers, w, { nowMs: 0, containerLabels: labels });
  return parseExposition(w.text());
}

describe('container_label_* on every series', () => {
  const web = v2Container({ labels: COMPOSE });

  it('exports every label by default under cAdvisor sanitized names, on every family of the container', () => {
    const e = render(sampleSnapshot([web]));
    const mem = find(e, 'container_memory_usage_bytes', { id: web.id })[0].labels;
    expect(mem).toEqual({
      container_label_com_docker_compose_project: 'shop',
      container_label_com_docker_compose_service: 'web',
      container_label_org_opencontainers_image_version: '1.27',
      id: web.id,
      image: 'nginx:1.27',
      name: 'web',
    });
    for (const s of find(e, 'container_cpu_usage_seconds_total', { id: web.id })) {
      expect(s.labels.container_label_com_docker_compose_project).toBe('shop');
    }
  });

  it('prints them in label-name order, before id (as cAdvisor)', () => {
    const w = new TextWriter();
    renderSnapshot(sampleSnapshot([web]), [web], w, { nowMs: 0 });
    const line = w
      .text()
      .split('\n')
      .find((l) => l.startsWith('container_memory_usage_bytes{'))!;
    expect(line.indexOf('container_label_com_docker_compose_project=')).toBeLessThan(line.indexOf('id='));
  });

  it('exports only the listed keys, or none', () => {
    const only = render(sampleSnapshot([web]), parseContainerLabelPolicy('com.docker.compose.project'));
    const labels = find(only, 'container_memory_usage_bytes', { id: web.id })[0].labels;
    expect(Object.keys(labels).filter((k) => k.startsWith('container_label_'))).toEqual([
      'container_label_com_docker_compose_project',
    ]);
    const none = render(sampleSnapshot([web]), parseContainerLabelPolicy('none'));
    expect(
      Object.keys(find(none, 'container_memory_usage_bytes', { id: web.id })[0].labels).some((k) =>
        k.startsWith('container_label_'),
      ),
    ).toBe(false);
  });

  it('rejects a policy that is not all, none or keys, naming the bad key', () => {
    expect(() => parseContainerLabelPolicy('a,b c')).toThrow(/'b c' is not a label key/);
    expect(() => parseContainerLabelPolicy('')).toThrow(/is not all, none or a comma-separated list/);
  });
});

describe('hostile label sets from a container configuration', () => {
  it(`exports at most ${MAX_CONTAINER_LABELS} labels of one container`, () => {
    const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${String(i).padStart(3, '0')}`, 'v']));
    expect(containerLabelPairs(many, { kind: 'all' })).toHaveLength(MAX_CONTAINER_LABELS);
  });

  it('leaves out values over 1 KiB and keeps the first of two keys that sanitize alike', () => {
    const pairs = containerLabelPairs({ big: 'x'.repeat(2000), 'a.b': 'dot', a_b: 'underscore' }, { kind: 'all' });
    expect(pairs).toEqual([['container_label_a_b', 'dot']]);
  });

  it('escapes quotes, backslashes and newlines so the exposition still parses', () => {
    const evil = v2Container({ labels: { 'x"}\n': 'a"b\\c\nd' } });
    const e = render(sampleSnapshot([evil]));
    expect(find(e, 'container_memory_usage_bytes', { id: evil.id })[0].labels.container_label_x___).toBe('a"b\\c\nd');
  });
});
