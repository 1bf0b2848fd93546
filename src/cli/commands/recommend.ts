// `tstop recommend`: flags and help; the implementation is in ../whatif.ts.

import type { CommandSpec } from '../command.js';
import { STORE_FLAG } from './record.js';

export const recommendCommand: CommandSpec = {
  name: 'recommend',
  summary: "Suggest a container's CPU and memory limits from its recorded usage, with their what-if.",
  usage: 'recommend <container> [--window 7d] [--store DIR] [--headroom 15%] [--json]',
  description: [
    'Reads the store `tstop record` writes; writes nothing.',
    'CPU: the p95 of the CPU used between samples, plus headroom, rounded up to 0.01 core.',
    'Memory: the peak working set, plus headroom, rounded up to a whole MiB.',
    'Checked against the recorded PSI, throttling and limit hits: when the current limit already held',
    'the container, its demand may be higher than recorded and the figure is a floor (it says so).',
    'Prints the `tstop limit` command that applies the suggestion, then its --what-if over the window.',
  ].join('\n'),
  flags: [
    {
      name: 'window',
      short: 'w',
      type: 'string',
      value: 'DURATION',
      description: 'the recorded history to use, up to now',
      default: '7d',
    },
    STORE_FLAG,
    {
      name: 'headroom',
      type: 'string',
      value: 'PERCENT',
      description: "added to the measured figures: '20%' for both, or 'cpu=25%,memory=10%'",
      default: '15%',
    },
    { name: 'json', type: 'boolean', description: 'print the recommendation, command and what-if as JSON' },
  ],
  positionals: true,
  examples: ['tstop recommend web', 'tstop recommend web --window 24h --headroom cpu=25%,memory=10%'],
  run: async (flags, positionals) => (await import('../whatif.js')).runRecommend(flags, positionals),
};
